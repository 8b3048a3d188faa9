"""eID accounts: level-1 self-registration, phone proof by one-time code, password sign-in,
and level 2: an authenticator app enrolled after an official's activation, used to step up.

Sign-in and code checks *return* their outcome instead of raising, because a failed attempt
must be counted and committed: raising would roll the counter back with everything else.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from civicstack.identity import passkeys, passwords, photos, totp
from civicstack.identity.models import (
    AccountStatus,
    CitizenAccount,
    CitizenFacePhoto,
    CitizenPasskey,
    CitizenSession,
    PhoneChallenge,
)
from civicstack.kit import audit, events, outbox
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from civicstack.kit.metrics import LOCKOUTS, LOGIN_FAILURES
from civicstack.registry import service as registry
from civicstack.registry.rules import PHONE_PATTERN

MINIMUM_AGE = 14
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
CODE_ATTEMPTS = 5
FREE_LOGIN_FAILURES = 5  # then each failure doubles the lock: 1, 2, 4 ... minutes
LONGEST_LOCK = timedelta(hours=24)
PHONE_PURPOSE = "phone_verification"
_DUMMY_HASH = passwords.hash_password("timing-equaliser-not-a-password")


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Registration:
    personal_id_number: str
    full_name: str
    date_of_birth: date
    phone: str
    password: str
    face_photo: bytes  # JPEG or PNG; see identity/photos.py


def register(session: Session, pepper: str, vault: photos.PhotoVault,
             registration: Registration, today: date | None = None) -> CitizenAccount:
    """Create a level-1 account waiting for its phone to be proven, with its face photo sealed;
    the code goes out through the outbox in the same transaction."""
    actor = Actor("citizen", registration.personal_id_number)
    person = registry.confirm_identity(
        session, actor, registration.personal_id_number, registration.full_name,
        registration.date_of_birth, "eID account registration")
    _check_registration(registration, person.phone, today or date.today())
    if _account(session, registration.personal_id_number) is not None:
        raise Conflict("an eID account already exists for this ID number")
    photo = photos.check_photo(registration.face_photo)
    account = CitizenAccount(
        personal_id_number=registration.personal_id_number, phone=registration.phone,
        password_hash=passwords.hash_password(registration.password), level=1,
        status=AccountStatus.PENDING_PHONE.value, failed_logins=0, created_at=now())
    session.add(account)
    session.flush()
    session.add(CitizenFacePhoto(
        account_id=account.id, content_type=photo.content_type, width=photo.width,
        height=photo.height, sha256=photo.sha256,
        sealed=vault.seal(account.id, registration.face_photo), captured_at=now()))
    send_phone_code(session, pepper, account)
    audit.record(session, actor, "identity.account.register", subject_type="person",
                 subject_id=account.personal_id_number, purpose="eID account registration",
                 detail={"level": 1})
    return account


def _check_registration(registration: Registration, register_phone: str | None,
                        today: date) -> None:
    if registry.age_on(registration.date_of_birth, today) < MINIMUM_AGE:
        raise Invalid("date_of_birth", f"eID accounts are for people aged {MINIMUM_AGE} or over")
    if not PHONE_PATTERN.match(registration.phone):
        raise Invalid("phone", "must be a Vietnamese number like 0912345678")
    if register_phone and register_phone != registration.phone:
        raise Invalid("phone", "use the phone number registered under your ID number")
    reason = passwords.weakness(registration.password, _personal_facts(
        registration.personal_id_number, registration.full_name, registration.date_of_birth))
    if reason:
        raise Invalid("password", reason)


def _account(session: Session, personal_id_number: str) -> CitizenAccount | None:
    return session.execute(select(CitizenAccount).where(
        CitizenAccount.personal_id_number == personal_id_number)).scalar_one_or_none()


def _code_digest(pepper: str, challenge_owner: int, code: str) -> str:
    return hmac.new(pepper.encode(), f"{challenge_owner}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def send_phone_code(session: Session, pepper: str, account: CitizenAccount,
                    purpose: str = PHONE_PURPOSE) -> None:
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(PhoneChallenge(account_id=account.id, purpose=purpose,
                               code_digest=_code_digest(pepper, account.id, code),
                               expires_at=now() + CODE_LIFETIME, attempts=0))
    outbox.enqueue(session, "sms", account.phone, "CivicStack",
                   f"Ma xac minh CivicStack: {code}. Het han sau 5 phut. "
                   f"Your CivicStack code: {code} (valid 5 minutes).")


CODES_PER_HOUR = 3


def resend_phone_code(session: Session, pepper: str, personal_id_number: str) -> bool:
    """A fresh code for an account still proving its phone; False when the hourly allowance
    is used up (each SMS costs money and each code is a guess budget)."""
    account = _account(session, personal_id_number)
    if account is None or account.status != AccountStatus.PENDING_PHONE.value:
        return False
    return _send_within_allowance(session, pepper, account, PHONE_PURPOSE)


def _send_within_allowance(session: Session, pepper: str, account: CitizenAccount,
                           purpose: str) -> bool:
    sent_last_hour = session.execute(select(func.count()).select_from(PhoneChallenge).where(
        PhoneChallenge.account_id == account.id, PhoneChallenge.purpose == purpose,
        PhoneChallenge.expires_at > now() + CODE_LIFETIME - timedelta(hours=1))).scalar_one()
    if sent_last_hour >= CODES_PER_HOUR:
        return False
    send_phone_code(session, pepper, account, purpose)
    return True


class CodeOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong tries: ask for a new code
    NO_CODE = "no_code"


def verify_phone(session: Session, pepper: str, personal_id_number: str,
                 code: str) -> CodeOutcome:
    account = _account(session, personal_id_number)
    outcome = _consume_code(session, pepper, account, PHONE_PURPOSE, code)
    if account is not None and outcome == CodeOutcome.ACCEPTED:
        account.status = AccountStatus.PENDING_APPROVAL.value
        events.publish(session, events.ACCOUNT_AWAITS_APPROVAL, personal_id_number)
    audit.record(session, Actor("citizen", personal_id_number), "identity.phone.verify",
                 subject_type="person", subject_id=personal_id_number,
                 purpose="eID account registration", detail={"outcome": outcome.value})
    return outcome


def _consume_code(session: Session, pepper: str, account: CitizenAccount | None, purpose: str,
                  code: str) -> CodeOutcome:
    challenge = _latest_challenge(session, account.id, purpose) if account else None
    if account is None or challenge is None:
        return CodeOutcome.NO_CODE
    return _check_code(challenge, _code_digest(pepper, account.id, code.strip()))


def _latest_challenge(session: Session, account_id: int, purpose: str) -> PhoneChallenge | None:
    return session.execute(
        select(PhoneChallenge).where(PhoneChallenge.account_id == account_id,
                                     PhoneChallenge.purpose == purpose,
                                     PhoneChallenge.used_at.is_(None))
        .order_by(PhoneChallenge.id.desc()).limit(1).with_for_update()
    ).scalar_one_or_none()


def _check_code(challenge: PhoneChallenge, digest: str) -> CodeOutcome:
    if challenge.attempts >= CODE_ATTEMPTS:
        return CodeOutcome.EXHAUSTED
    if as_utc(challenge.expires_at) < now():
        return CodeOutcome.EXPIRED
    challenge.attempts += 1
    if not hmac.compare_digest(challenge.code_digest, digest):
        return CodeOutcome.WRONG
    challenge.used_at = now()
    return CodeOutcome.ACCEPTED


RESET_PURPOSE = "password_reset"
RESETTABLE = (AccountStatus.ACTIVE.value, AccountStatus.PENDING_APPROVAL.value)


def request_password_reset(session: Session, pepper: str, personal_id_number: str,
                           phone: str) -> None:
    """Send a reset code to the verified phone when the details match. The caller answers the
    same either way, so the form does not reveal who has an account."""
    account = _account(session, personal_id_number)
    sent = (account is not None and account.status in RESETTABLE
            and hmac.compare_digest(account.phone, phone.strip())
            and _send_within_allowance(session, pepper, account, RESET_PURPOSE))
    audit.record(session, Actor("citizen", personal_id_number), "identity.password_reset.request",
                 subject_type="person", subject_id=personal_id_number, purpose="password reset",
                 detail={"code_sent": sent})


def reset_password(session: Session, pepper: str, personal_id_number: str, code: str,
                   new_password: str) -> CodeOutcome:
    """Raises Invalid for a weak password before the code is tried, so a refusal does not
    spend one of the code's five tries."""
    account = _account(session, personal_id_number)
    if account is not None:
        _refuse_weak_password(session, account, new_password)
    outcome = _consume_code(session, pepper, account, RESET_PURPOSE, code)
    if account is not None and outcome == CodeOutcome.ACCEPTED:
        account.password_hash = passwords.hash_password(new_password)
        account.failed_logins = 0
        account.locked_until = None
        _end_all_sessions(session, account)  # whoever knew the old password is signed out
    audit.record(session, Actor("citizen", personal_id_number), "identity.password_reset",
                 subject_type="person", subject_id=personal_id_number, purpose="password reset",
                 detail={"outcome": outcome.value})
    return outcome


def _refuse_weak_password(session: Session, account: CitizenAccount, password: str) -> None:
    person = registry.get_person(session, Actor("citizen", account.personal_id_number),
                                 account.personal_id_number, "password strength check")
    reason = passwords.weakness(password, _personal_facts(
        person.personal_id_number, person.full_name, person.date_of_birth))
    if reason:
        raise Invalid("password", reason)


def _personal_facts(personal_id_number: str, full_name: str, born: date) -> list[str]:
    """What a guesser tries first: the owner's number, birth date and names."""
    return [personal_id_number, born.isoformat(), born.strftime("%d%m%Y"), full_name,
            *full_name.split()]


class LoginOutcome(enum.StrEnum):
    SIGNED_IN = "signed_in"
    WRONG_CREDENTIALS = "wrong_credentials"  # unknown ID number or wrong password: one answer
    TEMPORARILY_LOCKED = "temporarily_locked"
    LOCKED = "locked"
    NOT_ACTIVE = "not_active"  # right password, account still pending


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    account: CitizenAccount | None = None
    retry_after: datetime | None = None


def sign_in(session: Session, personal_id_number: str, password: str) -> LoginResult:
    account = _account(session, personal_id_number)
    locked_before = account.locked_until if account else None
    result = _sign_in(account, password)
    actor = Actor("citizen", personal_id_number)
    audit.record(session, actor, f"identity.login.{result.outcome}",
                 subject_type="person", subject_id=personal_id_number, purpose="sign-in")
    if result.outcome == LoginOutcome.WRONG_CREDENTIALS:
        LOGIN_FAILURES.labels("citizen").inc()
    if account is not None:
        record_lockout(session, actor, account, locked_before, "person", "identity.account")
    return result


def _sign_in(account: CitizenAccount | None, password: str) -> LoginResult:
    if account is None:
        passwords.verify_password(_DUMMY_HASH, password)  # same time as a real check
        return LoginResult(LoginOutcome.WRONG_CREDENTIALS)
    if account.status == AccountStatus.LOCKED.value:
        return LoginResult(LoginOutcome.LOCKED)
    if is_temporarily_locked(account):
        return LoginResult(LoginOutcome.TEMPORARILY_LOCKED, retry_after=account.locked_until)
    if not passwords.verify_password(account.password_hash, password):
        count_failure(account)
        return LoginResult(LoginOutcome.WRONG_CREDENTIALS, retry_after=account.locked_until)
    account.failed_logins = 0
    account.locked_until = None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    if account.status != AccountStatus.ACTIVE.value:
        return LoginResult(LoginOutcome.NOT_ACTIVE, account)
    return LoginResult(LoginOutcome.SIGNED_IN, account)


class Lockable(Protocol):
    """An account that a run of failed sign-ins locks: a citizen's or an official's."""

    failed_logins: int
    locked_until: datetime | None


def is_temporarily_locked(account: Lockable) -> bool:
    return account.locked_until is not None and as_utc(account.locked_until) > now()


def record_lockout(session: Session, actor: Actor, account: Lockable,
                   locked_before: datetime | None, subject_type: str, action_prefix: str) -> None:
    """Audit the moment a run of failures locks an account (`<prefix>.lockout`), for the
    security view's lockout count: the failure that locks is audited like any other."""
    if account.locked_until is None or account.locked_until == locked_before:
        return
    LOCKOUTS.labels(actor.kind).inc()
    audit.record(session, actor, f"{action_prefix}.lockout", subject_type=subject_type,
                 subject_id=actor.name, purpose="sign-in",
                 detail={"locked_until": account.locked_until.isoformat(),
                         "failed_logins": account.failed_logins})


def count_failure(account: Lockable) -> None:
    """The first failures are free, then each one doubles the lock, up to a day."""
    account.failed_logins += 1
    beyond = account.failed_logins - FREE_LOGIN_FAILURES
    if beyond >= 0:
        account.locked_until = now() + min(timedelta(minutes=2 ** min(beyond, 11)), LONGEST_LOCK)


# --- officials and the citizen's own view -------------------------------------------------

def pending_approval(session: Session, actor: Actor) -> list[tuple[CitizenAccount, str]]:
    """Accounts whose phone is proven, with the holder's name, within the official's scope."""
    actor.require(Permission.IDENTITY_APPROVE)
    accounts = session.execute(
        select(CitizenAccount).where(CitizenAccount.status == AccountStatus.PENDING_APPROVAL.value)
        .order_by(CitizenAccount.created_at)).scalars().all()
    names = registry.names_in_scope(session, actor, [a.personal_id_number for a in accounts],
                                    "eID account approval queue")
    return [(a, names[a.personal_id_number]) for a in accounts if a.personal_id_number in names]


def approve(session: Session, actor: Actor, personal_id_number: str, reason: str) -> None:
    """An official confirms the applicant when no ID-card face could settle it (biometrics)."""
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, reason)  # audited, scope-checked
    _activate(session, actor, personal_id_number, reason, {})


def approve_by_face(session: Session, personal_id_number: str, matcher: Actor,
                    distance: float) -> None:
    """The rule of level 1: the account is approved when its selfie matches the ID-card face."""
    _activate(session, matcher, personal_id_number, "eID registration: face match",
              {"method": "face", "distance": distance})


def _activate(session: Session, actor: Actor, personal_id_number: str, purpose: str,
              detail: dict[str, object]) -> None:
    account = _waiting_account(session, personal_id_number)
    if account is None:
        raise Conflict("this account is not waiting for approval")
    account.status = AccountStatus.ACTIVE.value
    audit.record(session, actor, "identity.account.approve", subject_type="person",
                 subject_id=personal_id_number, purpose=purpose,
                 detail={"level": account.level, **detail})


def _waiting_account(session: Session, personal_id_number: str) -> CitizenAccount | None:
    account = _account(session, personal_id_number)
    waiting = account is not None and account.status == AccountStatus.PENDING_APPROVAL.value
    return account if waiting else None


def awaits_approval(session: Session, personal_id_number: str) -> bool:
    return _waiting_account(session, personal_id_number) is not None


def registration_selfie(session: Session, vault: photos.PhotoVault, personal_id_number: str,
                        matcher: Actor) -> bytes | None:
    """The selfie of an account still waiting for approval, opened for the face matcher (an
    audited read); None once the account is no longer waiting."""
    account = _waiting_account(session, personal_id_number)
    photo = session.get(CitizenFacePhoto, account.id) if account is not None else None
    if account is None or photo is None:
        return None
    audit.record(session, matcher, "identity.face_photo.read", subject_type="person",
                 subject_id=personal_id_number, purpose="eID registration: face match")
    return vault.open(account.id, photo.sealed)


def lock_myself(session: Session, personal_id_number: str) -> None:
    """A citizen who lost their phone stops all use of the account at once; only an official,
    seeing them in person, unlocks it."""
    account = _existing_account(session, personal_id_number)
    account.status = AccountStatus.LOCKED.value
    _end_all_sessions(session, account)
    audit.record(session, Actor("citizen", personal_id_number), "identity.account.self_lock",
                 subject_type="person", subject_id=personal_id_number, purpose="account security")


def lock(session: Session, actor: Actor, personal_id_number: str, reason: str) -> None:
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, reason)  # audited, scope-checked
    account = _existing_account(session, personal_id_number)
    account.status = AccountStatus.LOCKED.value
    _end_all_sessions(session, account)
    audit.record(session, actor, "identity.account.lock", subject_type="person",
                 subject_id=personal_id_number, purpose=reason)


def unlock(session: Session, actor: Actor, personal_id_number: str, reason: str) -> None:
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, reason)
    account = _existing_account(session, personal_id_number)
    if account.status != AccountStatus.LOCKED.value:
        raise Conflict("this account is not locked")
    account.status = AccountStatus.ACTIVE.value
    account.failed_logins = 0
    account.locked_until = None
    audit.record(session, actor, "identity.account.unlock", subject_type="person",
                 subject_id=personal_id_number, purpose=reason)


def _existing_account(session: Session, personal_id_number: str) -> CitizenAccount:
    account = _account(session, personal_id_number)
    if account is None:
        raise NotFound("no eID account for this ID number")
    return account


def account_by_id(session: Session, account_id: int) -> CitizenAccount:
    """For modules that keep only the account's id, such as relying parties' tokens."""
    account = session.get(CitizenAccount, account_id)
    if account is None:
        raise NotFound("no such eID account")
    return account


def active_account(session: Session, account_id: int) -> CitizenAccount | None:
    """The account while it may be used; None once locked (or if it never was approved)."""
    account = session.get(CitizenAccount, account_id)
    return account if account is not None and \
        account.status == AccountStatus.ACTIVE.value else None


def face_photo(session: Session, actor: Actor, vault: photos.PhotoVault,
               personal_id_number: str, purpose: str) -> tuple[bytes, str]:
    """The registration photo, opened for an official comparing it with the person's record
    (scope-checked and audited like any read of the person); (image bytes, content type)."""
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, purpose)
    account = _existing_account(session, personal_id_number)
    photo = session.get(CitizenFacePhoto, account.id)
    if photo is None:
        raise NotFound("this account has no face photo")
    audit.record(session, actor, "identity.face_photo.read", subject_type="person",
                 subject_id=personal_id_number, purpose=purpose)
    return vault.open(account.id, photo.sealed), photo.content_type


def account_for_person(session: Session, personal_id_number: str) -> CitizenAccount | None:
    """The eID account of an ID number, whatever its state, for other domains' rules."""
    return _account(session, personal_id_number)


def accounts_by_ids(session: Session, account_ids: set[int]) -> dict[int, CitizenAccount]:
    """Account id -> account, for modules that keep only ids (one query for a list)."""
    if not account_ids:
        return {}
    return {a.id: a for a in session.execute(
        select(CitizenAccount).where(CitizenAccount.id.in_(account_ids))).scalars()}


@dataclass(frozen=True)
class AccountActivity:
    personal_id_number: str
    phone: str
    last_active_at: datetime  # the last sign-in, else when the account was made


def active_accounts_activity(session: Session) -> list[AccountActivity]:
    """Every active account with its phone and last sign-in, for support's clean-up scan."""
    last_sign_in = func.max(CitizenSession.created_at)
    return [AccountActivity(pid, phone, as_utc(last or created)) for pid, phone, created, last in
            session.execute(
                select(CitizenAccount.personal_id_number, CitizenAccount.phone,
                       CitizenAccount.created_at, last_sign_in)
                .outerjoin(CitizenSession, CitizenSession.account_id == CitizenAccount.id)
                .where(CitizenAccount.status == AccountStatus.ACTIVE.value)
                .group_by(CitizenAccount.id, CitizenAccount.personal_id_number,
                          CitizenAccount.phone, CitizenAccount.created_at)
                .order_by(CitizenAccount.id))]


def my_audit_trail(session: Session, personal_id_number: str) -> list[audit.AuditEntry]:
    """Everything recorded about this person: who read their data and why, and every security
    event of their account. Shown to the citizen themself."""
    return audit.entries_for_subject(session, "person", personal_id_number, limit=100)


# --- signed-in devices ----------------------------------------------------------------------

SESSION_IDLE_LIMIT = timedelta(hours=8)
PASSWORD_ONLY, PASSWORD_AND_TOTP = "pwd", "pwd otp"  # RFC 8176 amr values, space-separated
PASSWORD_AND_PASSKEY = "pwd hwk"  # noqa: S105 (hwk: proof of a hardware-secured key)


def start_session(session: Session, account: CitizenAccount, user_agent: str,
                  ip_address: str) -> str:
    """A new browser session at level 1: a password proves only that much, whatever the
    account's own level."""
    moment = now()
    token = secrets.token_urlsafe(32)
    session.add(CitizenSession(id=token, account_id=account.id, user_agent=user_agent[:300],
                               ip_address=ip_address[:64], created_at=moment,
                               last_seen_at=moment, level=1, amr=PASSWORD_ONLY,
                               authenticated_at=moment))
    return token


@dataclass(frozen=True)
class SignedIn:
    """A live browser session and what it has proven."""

    account: CitizenAccount
    session_id: str  # the CitizenSession id: a bearer secret, never shown
    level: int  # 1 after the password, 2 after the password and a TOTP code
    amr: tuple[str, ...]  # RFC 8176 methods: ("pwd",) or ("pwd", "otp")
    authenticated_at: datetime  # aware UTC; the last authentication step (OIDC auth_time)


def signed_in(session: Session, token: str) -> SignedIn | None:
    """The live session behind a browser's token, touching it; None once ended, idle too long,
    or the account is no longer active."""
    found = _live_session(session, token)
    if found is None:
        return None
    browser, account = found
    return SignedIn(account=account, session_id=browser.id, level=browser.level,
                    amr=tuple(browser.amr.split()),
                    authenticated_at=as_utc(browser.authenticated_at or browser.created_at))


def session_account(session: Session, token: str) -> CitizenAccount | None:
    """The account of a live browser session, touching it (see signed_in)."""
    found = signed_in(session, token)
    return found.account if found else None


def _live_session(session: Session, token: str,
                  ) -> tuple[CitizenSession, CitizenAccount] | None:
    found = session.execute(
        select(CitizenSession, CitizenAccount)
        .join(CitizenAccount, CitizenAccount.id == CitizenSession.account_id)
        .where(CitizenSession.id == token, CitizenSession.ended_at.is_(None))).first()
    if found is None:
        return None
    browser, account = found
    if account.status != AccountStatus.ACTIVE.value or \
            as_utc(browser.last_seen_at) + SESSION_IDLE_LIMIT < now():
        return None
    browser.last_seen_at = now()
    return browser, account


def live_sessions(session: Session, account: CitizenAccount) -> list[CitizenSession]:
    return list(session.execute(
        select(CitizenSession).where(CitizenSession.account_id == account.id,
                                     CitizenSession.ended_at.is_(None),
                                     CitizenSession.last_seen_at > now() - SESSION_IDLE_LIMIT)
        .order_by(CitizenSession.last_seen_at.desc())).scalars())


def session_handle(token: str) -> str:
    """What a page may show of a session: its id is a bearer secret, this is not."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def end_session(session: Session, account: CitizenAccount, handle: str) -> None:
    """Sign one device out; a citizen can end only their own sessions."""
    browser = next((s for s in live_sessions(session, account)
                    if hmac.compare_digest(session_handle(s.id), handle)), None)
    if browser is None:
        raise NotFound("no such signed-in device")
    browser.ended_at = now()
    audit.record(session, Actor("citizen", account.personal_id_number), "identity.session.end",
                 subject_type="person", subject_id=account.personal_id_number,
                 purpose="account security", detail={"device": browser.user_agent[:80]})


def _end_all_sessions(session: Session, account: CitizenAccount) -> None:
    session.execute(update(CitizenSession).where(
        CitizenSession.account_id == account.id, CitizenSession.ended_at.is_(None))
        .values(ended_at=now()))


# --- level 2: a second factor by authenticator app (TOTP) -----------------------------------

# An activation at the police office is an invitation to enrol, not a standing one: whoever
# learns the password later must not be able to bind their own authenticator to the account.
ENROLMENT_WINDOW = timedelta(days=7)


def authorise_level_two(session: Session, actor: Actor, personal_id_number: str,
                        reason: str) -> None:
    """A police official, having seen the citizen in person, lets the account enrol an
    authenticator. Doing it again for a level-2 account replaces a lost authenticator: the
    old secret stops working and every session falls back to level 1."""
    actor.require(Permission.IDENTITY_LEVEL2)
    registry.get_person(session, actor, personal_id_number, reason)  # audited, scope-checked
    account = _existing_account(session, personal_id_number)
    if account.status != AccountStatus.ACTIVE.value:
        raise Conflict("only an active eID account can be raised to level 2")
    replaced = account.level == 2  # not a secret still waiting for its first code
    account.level2_authorised_at = now()
    account.level2_authorised_by = str(actor)[:100]
    account.level = 1
    account.totp_secret = None
    account.totp_last_step = None
    if replaced:
        _lower_sessions(session, account)
    audit.record(session, actor, "identity.level2.authorise", subject_type="person",
                 subject_id=personal_id_number, purpose=reason,
                 detail={"replaces_authenticator": replaced})


def _lower_sessions(session: Session, account: CitizenAccount) -> None:
    session.execute(update(CitizenSession).where(
        CitizenSession.account_id == account.id, CitizenSession.ended_at.is_(None))
        .values(level=1, amr=PASSWORD_ONLY))


@dataclass(frozen=True)
class TotpEnrolment:
    secret: str  # base32, for typing into an app by hand
    uri: str  # otpauth://, for the QR code


def totp_enrolment(session: Session, totp_key: str, account: CitizenAccount) -> TotpEnrolment:
    """The secret waiting to be confirmed, created on first call. The same one is returned
    until confirmed, so reloading the page does not invalidate a QR code already scanned."""
    check_may_enrol(account)
    if account.totp_secret is None:
        secret = totp.new_secret()
        account.totp_secret = totp.seal(totp_key, secret, account.personal_id_number)
        _record_for(session, account, "identity.totp.enrolment_start", "eID level 2")
    else:
        secret = _secret_of(totp_key, account)
    return TotpEnrolment(secret, totp.provisioning_uri(secret, account.personal_id_number))


def enrol_totp(session: Session, totp_key: str, account: CitizenAccount, code: str,
               session_token: str | None = None) -> CodeOutcome:
    """Confirm the authenticator with its first code; the account becomes level 2, and so
    does the browser session that proved it (`session_token`), which has just shown both."""
    _lock_row(session, account)  # one confirmation at a time
    check_may_enrol(account)
    outcome = CodeOutcome.NO_CODE
    if account.totp_secret is not None:
        step = _accepted_step(totp_key, account, code)
        outcome = CodeOutcome.WRONG if step is None else CodeOutcome.ACCEPTED
    if outcome == CodeOutcome.ACCEPTED:
        account.level = 2
        found = _live_session(session, session_token) if session_token else None
        if found is not None and found[1].id == account.id:
            _raise_to_level_two(found[0])
    _record_for(session, account, "identity.totp.enrol", "eID level 2",
                {"outcome": outcome.value})
    return outcome


def check_may_enrol(account: CitizenAccount) -> None:
    """Refuse (403/409) unless an official's activation is waiting for an authenticator."""
    if account.level == 2:
        raise Conflict("the authenticator is already set up; to replace it, go to a police "
                       "office")
    authorised = account.level2_authorised_at
    if authorised is None:
        raise Forbidden("level 2 must first be activated at a police office")
    if as_utc(authorised) + ENROLMENT_WINDOW < now():
        raise Forbidden("the level 2 activation has expired; ask at a police office again")


def step_up(session: Session, totp_key: str, token: str, code: str) -> CodeOutcome:
    """Raise a signed-in session to level 2 with a code from the account's authenticator.
    Wrong or replayed codes count toward the same progressive lock as wrong passwords."""
    found = _live_session(session, token)
    if found is None:
        raise Unauthorized("you are not signed in; sign in again")
    browser, account = found
    if account.level != 2 or account.totp_secret is None:
        raise Conflict("this eID account is level 1; level 2 is activated at a police office")
    _lock_row(session, account)  # a code is accepted once, even by concurrent requests
    outcome = _check_second_factor(totp_key, account, code)
    if outcome == CodeOutcome.ACCEPTED:
        _raise_to_level_two(browser)
    _record_for(session, account, "identity.step_up", "sign-in", {"outcome": outcome.value})
    return outcome


def _check_second_factor(totp_key: str, account: CitizenAccount, code: str) -> CodeOutcome:
    if is_temporarily_locked(account):
        return CodeOutcome.EXHAUSTED
    if _accepted_step(totp_key, account, code) is None:
        count_failure(account)
        return CodeOutcome.WRONG
    account.failed_logins = 0
    account.locked_until = None
    return CodeOutcome.ACCEPTED


def _accepted_step(totp_key: str, account: CitizenAccount, code: str) -> int | None:
    """The code's time-step, remembered so that it cannot be replayed (totp.fresh_step)."""
    step = totp.fresh_step(_secret_of(totp_key, account), code, now(), account.totp_last_step)
    if step is not None:
        account.totp_last_step = step
    return step


def _lock_row(session: Session, account: CitizenAccount) -> None:
    """Lock the account's row and re-read it, so two requests carrying the same code are
    checked one after the other against the last accepted step. Flushed first, because a
    refresh discards unflushed changes."""
    session.flush()
    session.refresh(account, with_for_update=True)


def _secret_of(totp_key: str, account: CitizenAccount) -> str:
    assert account.totp_secret is not None  # callers check enrolment first
    return totp.unseal(totp_key, account.totp_secret, account.personal_id_number)


def _raise_to_level_two(browser: CitizenSession, amr: str = PASSWORD_AND_TOTP) -> None:
    browser.level = 2
    browser.amr = amr
    browser.authenticated_at = now()


# --- passkeys (WebAuthn), the other level-2 second factor -----------------------------------

def my_passkeys(session: Session, account: CitizenAccount) -> list[CitizenPasskey]:
    return list(session.execute(select(CitizenPasskey).where(
        CitizenPasskey.account_id == account.id).order_by(CitizenPasskey.created_at)).scalars())


def check_may_add_passkey(signed: SignedIn) -> None:
    """While a level-2 activation waits for its second factor; afterwards only from a session
    that has itself proven level 2 (a new phone is added with the old one at hand)."""
    if signed.account.level < 2:
        check_may_enrol(signed.account)
    elif signed.level < 2:
        raise Forbidden("confirm it is you with your second factor before adding a passkey")


def passkey_enrolment(session: Session, rp: passkeys.RelyingParty,
                      signed: SignedIn) -> passkeys.Ceremony:
    check_may_add_passkey(signed)
    existing = [p.credential_id for p in my_passkeys(session, signed.account)]
    return passkeys.creation(rp, signed.account.id, signed.account.personal_id_number, existing)


def add_passkey(session: Session, rp: passkeys.RelyingParty, signed: SignedIn,
                challenge: bytes, answer: str, name: str) -> CitizenPasskey:
    """Verify the new credential and keep its public key. As the first second factor it
    completes level 2, and the session that created it (it just used it) becomes level 2."""
    account = signed.account
    _lock_row(session, account)
    check_may_add_passkey(signed)
    created = passkeys.verify_creation(rp, challenge, answer)
    if session.execute(select(CitizenPasskey.id).where(
            CitizenPasskey.credential_id == created.credential_id)).first():
        raise Conflict("this passkey is already registered")
    passkey = CitizenPasskey(
        account_id=account.id, credential_id=created.credential_id,
        public_key=created.public_key, sign_count=created.sign_count,
        backed_up=created.backed_up, name=name.strip()[:60] or "Passkey", created_at=now())
    session.add(passkey)
    if account.level < 2:
        account.level = 2
        found = _live_session(session, signed.session_id)
        if found is not None:
            _raise_to_level_two(found[0], PASSWORD_AND_PASSKEY)
    _record_for(session, account, "identity.passkey.add", "eID level 2",
                {"name": passkey.name, "synced": created.backed_up})
    return passkey


def passkey_step_up(session: Session, rp: passkeys.RelyingParty,
                    account: CitizenAccount) -> passkeys.Ceremony:
    allowed = [p.credential_id for p in my_passkeys(session, account)]
    if account.level != 2 or not allowed:
        raise Conflict("this eID account has no passkey; use your authenticator app")
    return passkeys.request(rp, allowed)


def step_up_with_passkey(session: Session, rp: passkeys.RelyingParty, token: str,
                         challenge: bytes, answer: str) -> CodeOutcome:
    """Like step_up with a code: a failed passkey counts toward the same progressive lock, so
    the outcome is returned, not raised (a raise would roll the count back)."""
    found = _live_session(session, token)
    if found is None:
        raise Unauthorized("you are not signed in; sign in again")
    browser, account = found
    _lock_row(session, account)
    outcome, reason = _check_passkey(session, rp, account, challenge, answer)
    if outcome == CodeOutcome.ACCEPTED:
        _raise_to_level_two(browser, PASSWORD_AND_PASSKEY)
    _record_for(session, account, "identity.step_up", "sign-in",
                {"outcome": outcome.value, "method": "passkey", "reason": reason})
    return outcome


def _check_passkey(session: Session, rp: passkeys.RelyingParty, account: CitizenAccount,
                   challenge: bytes, answer: str) -> tuple[CodeOutcome, str]:
    if account.locked_until and as_utc(account.locked_until) > now():
        return CodeOutcome.EXHAUSTED, "locked"
    try:
        credential_id = passkeys.credential_id_of(answer)
        stored = session.execute(select(CitizenPasskey).where(
            CitizenPasskey.account_id == account.id,
            CitizenPasskey.credential_id == credential_id)).scalar_one_or_none()
        if stored is None:
            raise Invalid(passkeys.FIELD, "this passkey is not registered to the account")
        stored.sign_count = passkeys.verify_assertion(rp, challenge, answer, stored.public_key,
                                                      stored.sign_count)
    except Invalid as refused:
        count_failure(account)
        return CodeOutcome.WRONG, refused.errors[0].reason[:200]
    stored.last_used_at = now()
    account.failed_logins = 0
    account.locked_until = None
    return CodeOutcome.ACCEPTED, ""


def remove_passkey(session: Session, signed: SignedIn, passkey_id: int) -> None:
    """From a level-2 session only, and never the last second factor of a level-2 account."""
    account = signed.account
    if signed.level < 2:
        raise Forbidden("confirm it is you with your second factor before removing a passkey")
    _lock_row(session, account)
    mine = {p.id: p for p in my_passkeys(session, account)}
    if passkey_id not in mine:
        raise NotFound("no such passkey on your account")
    if len(mine) == 1 and account.totp_last_step is None:  # no confirmed authenticator app
        raise Conflict("this is your only second factor; add another before removing it")
    session.delete(mine[passkey_id])
    _record_for(session, account, "identity.passkey.remove", "eID level 2",
                {"name": mine[passkey_id].name})


def _record_for(session: Session, account: CitizenAccount, action: str, purpose: str,
                detail: dict[str, object] | None = None) -> None:
    audit.record(session, Actor("citizen", account.personal_id_number), action,
                 subject_type="person", subject_id=account.personal_id_number,
                 purpose=purpose, detail=detail or {})
