"""Officials' console accounts: created by an admin within the admin's own scope, signed in with
a password and an authenticator app (enrolled at the first sign-in), disabled, re-enrolled. A
password an admin hands over (at creation or a reset) is good for one sign-in: the official
then chooses their own before any console page opens.

Like citizens' sign-in, the sign-in steps *return* their outcome instead of raising, because a
failed attempt must be counted, audited and committed.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from civicstack.identity import passwords, repository, totp
from civicstack.identity.accounts import now
from civicstack.identity.codes import CodeOutcome
from civicstack.identity.models import OfficialAccount, OfficialStatus
from civicstack.identity.second_factor import TotpEnrolment
from civicstack.identity.signin import (
    UnknownIdentifiers,
    count_failure,
    fails_as_an_account_would,
    is_temporarily_locked,
    record_lockout,
)
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission, Role, Scope
from civicstack.kit.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.metrics import LOGIN_FAILURES

USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,49}")
MANAGEMENT = "officials' accounts"
SIGN_IN = "console sign-in"


def actor_of(official: OfficialAccount) -> Actor:
    """The official as they act: the audit log records `official:<username>`."""
    return Actor("official", official.username, official.scope, official.role)


def initial_password() -> str:
    """A random password for a new official, shown once: 16 characters, ~96 bits."""
    return secrets.token_urlsafe(12)


# --- management (officials:manage, within the admin's own scope) -------------------------------

@dataclass(frozen=True)
class NewOfficial:
    username: str
    full_name: str
    role: Role
    scope: Scope
    password: str


def create(session: Session, actor: Actor, new: NewOfficial) -> OfficialAccount:
    """An admin creates an official; an admin may grant only scopes within their own."""
    actor.require(Permission.OFFICIALS_MANAGE)
    _check_grant(actor, new.scope)
    errors = _new_official_errors(new)
    if errors:
        raise Invalid.of_fields(errors)
    if repository.official_by_username(session, new.username) is not None:
        raise Conflict(f"an official named '{new.username}' already exists")
    official = OfficialAccount(
        username=new.username, full_name=" ".join(new.full_name.split()),
        password_hash=passwords.hash_password(new.password), must_change_password=True,
        status=OfficialStatus.ACTIVE.value, failed_logins=0, session_generation=0,
        created_at=now(), created_by=str(actor))
    official.set_role_and_scope(new.role, new.scope)
    session.add(official)
    session.flush()
    _record(session, actor, "identity.official.create", official,
            {"role": new.role.value, "scope": str(new.scope)})
    return official


def _check_grant(actor: Actor, scope: Scope) -> None:
    if not actor.scope.includes(scope):
        raise Forbidden(f"your scope ({actor.scope}) does not include {scope}")


def _new_official_errors(new: NewOfficial) -> list[FieldError]:
    errors = []
    if not USERNAME.fullmatch(new.username):
        errors.append(FieldError("username", "use 3 to 50 lower-case letters, digits, '.', '_' "
                                             "or '-', starting with a letter"))
    if not 2 <= len(new.full_name.strip()) <= 200:
        errors.append(FieldError("full_name", "give the official's full name"))
    reason = _weakness(new.password, new.username, new.full_name)
    if reason:
        errors.append(FieldError("password", reason))
    return errors


def _weakness(password: str, username: str, full_name: str) -> str | None:
    return passwords.weakness(password, [username, full_name, *full_name.split()])


def officials_in_scope(session: Session, actor: Actor) -> list[OfficialAccount]:
    """Every official whose scope lies within the admin's, by username."""
    actor.require(Permission.OFFICIALS_MANAGE)
    return [official for official in repository.all_officials(session)
            if actor.scope.includes(official.scope)]


def _managed(session: Session, actor: Actor, username: str) -> OfficialAccount:
    actor.require(Permission.OFFICIALS_MANAGE)
    official = repository.official_by_username(session, username)
    if official is None:
        raise NotFound(f"no official named '{username}'")
    _check_grant(actor, official.scope)
    return official


def disable(session: Session, actor: Actor, username: str) -> None:
    """The official can no longer sign in, and their open sessions end at the next request."""
    official = _managed(session, actor, username)
    if official.username == actor.name and actor.kind == "official":
        raise Conflict("you cannot disable your own account")
    if official.status == OfficialStatus.DISABLED.value:
        raise Conflict(f"the official '{username}' is already disabled")
    official.status = OfficialStatus.DISABLED.value
    official.session_generation += 1
    _record(session, actor, "identity.official.disable", official)


def enable(session: Session, actor: Actor, username: str) -> None:
    official = _managed(session, actor, username)
    if official.status == OfficialStatus.ACTIVE.value:
        raise Conflict(f"the official '{username}' is already active")
    official.status = OfficialStatus.ACTIVE.value
    official.failed_logins, official.locked_until = 0, None
    _record(session, actor, "identity.official.enable", official)


def change_role(session: Session, actor: Actor, username: str, role: Role) -> None:
    official = _managed(session, actor, username)
    if official.role == role:
        raise Conflict(f"the official '{username}' already has the {role.value} role")
    before = official.role
    official.set_role_and_scope(role, official.scope)
    official.session_generation += 1  # the new role applies from a fresh sign-in
    _record(session, actor, "identity.official.role_change", official,
            {"from": before.value, "to": role.value})


def reset_second_factor(session: Session, actor: Actor, username: str) -> None:
    """For a lost phone: the authenticator stops working, sessions end, and the next sign-in
    enrols a new one."""
    official = _managed(session, actor, username)
    official.totp_secret = official.totp_last_step = official.totp_enrolled_at = None
    official.session_generation += 1
    _record(session, actor, "identity.official.reset_second_factor", official)


def reset_password(session: Session, actor: Actor, username: str) -> str:
    """For a forgotten password: a new random one for the admin to hand over, good for one
    sign-in like the initial one. The old one stops working, sessions end, the lock lifts."""
    official = _managed(session, actor, username)
    if official.username == actor.name and actor.kind == "official":
        raise Conflict("you cannot reset your own password: change it on the password page")
    password = initial_password()
    official.password_hash = passwords.hash_password(password)
    official.must_change_password = True
    official.failed_logins, official.locked_until = 0, None
    official.session_generation += 1
    _record(session, actor, "identity.official.reset_password", official)
    return password


# --- the official's own password --------------------------------------------------------------

def choose_password(session: Session, official: OfficialAccount, current: str,
                    new: str) -> None:
    """The official replaces their password: the current one again (a console left open is
    not enough), and a new one that passes the password rules and differs from it. Their other
    sessions end; the caller starts this one afresh."""
    if not passwords.verify_password(official.password_hash, current):
        raise Invalid("current_password", "this is not your current password")
    reason = _weakness(new, official.username, official.full_name)
    if reason is None and new == current:
        reason = N_("choose a password different from your current one")
    if reason:
        raise Invalid("new_password", reason)
    official.password_hash = passwords.hash_password(new)
    official.must_change_password = False
    official.session_generation += 1
    _record(session, actor_of(official), "identity.official.password_change", official,
            purpose=SIGN_IN)


# --- sign-in: password, then the authenticator (enrolled at the first sign-in) ---------------

class PasswordOutcome(enum.StrEnum):
    NEEDS_CODE = "needs_code"  # right password; a code from the authenticator comes next
    NEEDS_ENROLMENT = "needs_enrolment"  # right password; no authenticator yet: enrol one
    WRONG_CREDENTIALS = "wrong_credentials"  # unknown username or wrong password: one answer
    TEMPORARILY_LOCKED = "temporarily_locked"
    DISABLED = "disabled"


@dataclass(frozen=True)
class PasswordResult:
    outcome: PasswordOutcome
    official: OfficialAccount | None = None

    @property
    def passed(self) -> bool:
        return self.outcome in (PasswordOutcome.NEEDS_CODE, PasswordOutcome.NEEDS_ENROLMENT)


def check_password(session: Session, unknown: UnknownIdentifiers, username: str,
                   password: str) -> PasswordResult:
    """The first step of a console sign-in; audited whatever its outcome. An unknown username
    is answered as an account whose every password is wrong, locked alike."""
    official = repository.official_by_username(session, username)
    locked_before = official.locked_until if official else None
    if official is not None:
        result = _check_password(official, password)
    elif fails_as_an_account_would(unknown.stand_in(f"official:{username}"), password):
        result = PasswordResult(PasswordOutcome.WRONG_CREDENTIALS)
    else:
        result = PasswordResult(PasswordOutcome.TEMPORARILY_LOCKED)
    _record_attempt(session, username, f"identity.official.login.{result.outcome}")
    if result.outcome == PasswordOutcome.WRONG_CREDENTIALS:
        LOGIN_FAILURES.labels("official").inc()
    if official is not None:
        _record_lockout(session, official, locked_before)
    return result


def _check_password(official: OfficialAccount, password: str) -> PasswordResult:
    if is_temporarily_locked(official):
        return PasswordResult(PasswordOutcome.TEMPORARILY_LOCKED)
    if not passwords.verify_password(official.password_hash, password):
        count_failure(official)
        return PasswordResult(PasswordOutcome.WRONG_CREDENTIALS)
    if official.status != OfficialStatus.ACTIVE.value:
        return PasswordResult(PasswordOutcome.DISABLED)
    if passwords.needs_rehash(official.password_hash):
        official.password_hash = passwords.hash_password(password)
    enrolled = official.totp_enrolled_at is not None
    return PasswordResult(PasswordOutcome.NEEDS_CODE if enrolled else
                          PasswordOutcome.NEEDS_ENROLMENT, official)


def enrolment(session: Session, totp_key: str, official: OfficialAccount) -> TotpEnrolment:
    """The secret to enrol, created on first call and the same until confirmed, so that a
    reload does not invalidate a QR code already scanned."""
    if official.totp_enrolled_at is not None:
        raise Conflict("an authenticator is already enrolled; ask an admin to reset it")
    if official.totp_secret is None:
        secret = totp.new_secret()
        official.totp_secret = totp.seal(totp_key, secret, _owner(official))
        _record(session, actor_of(official), "identity.official.enrolment_start", official,
                purpose=SIGN_IN)
    else:
        secret = totp.unseal(totp_key, official.totp_secret, _owner(official))
    return TotpEnrolment(secret, totp.provisioning_uri(secret, f"console:{official.username}"))


def check_code(session: Session, totp_key: str, official_id: int, generation: int,
               code: str) -> CodeOutcome:
    """The second step, for an official whose password was just accepted: a code from the
    authenticator, which also confirms it at the first sign-in. A wrong or replayed code
    counts toward the same lock as a wrong password. NO_CODE: start again from the password
    (the account was disabled or reset in between, or never had a secret)."""
    official = repository.locked_official(session, official_id)
    if official is None or official.status != OfficialStatus.ACTIVE.value or \
            official.session_generation != generation or official.totp_secret is None:
        return CodeOutcome.NO_CODE
    locked_before = official.locked_until
    outcome = _second_factor(totp_key, official, code)
    if outcome == CodeOutcome.ACCEPTED and official.totp_enrolled_at is None:
        official.totp_enrolled_at = now()
        _record(session, actor_of(official), "identity.official.enrol", official,
                purpose=SIGN_IN)
    action = "identity.official.login." + (
        "signed_in" if outcome == CodeOutcome.ACCEPTED else f"code_{outcome}")
    _record_attempt(session, official.username, action)
    if outcome == CodeOutcome.WRONG:
        LOGIN_FAILURES.labels("official").inc()
    _record_lockout(session, official, locked_before)
    return outcome


def _second_factor(totp_key: str, official: OfficialAccount, code: str) -> CodeOutcome:
    if is_temporarily_locked(official):
        return CodeOutcome.EXHAUSTED
    assert official.totp_secret is not None  # checked by the caller
    secret = totp.unseal(totp_key, official.totp_secret, _owner(official))
    step = totp.fresh_step(secret, code, now(), official.totp_last_step)
    if step is None:
        count_failure(official)
        return CodeOutcome.WRONG
    official.totp_last_step = step
    official.failed_logins, official.locked_until = 0, None
    return CodeOutcome.ACCEPTED


def signed_in(session: Session, official_id: int, generation: int) -> OfficialAccount | None:
    """The account behind a console session, re-read at every request: None once the account
    is disabled, its role, password or second factor changed (all move the generation on).
    Whether it may act yet is `must_change_password`'s to say."""
    official = repository.official_by_id(session, official_id)
    if official is None or official.status != OfficialStatus.ACTIVE.value or \
            official.session_generation != generation or official.totp_enrolled_at is None:
        return None
    return official


def official_by_id(session: Session, official_id: int) -> OfficialAccount | None:
    return repository.official_by_id(session, official_id)


def active_official(session: Session, username: str) -> Actor | None:
    """The official named `username` as they would act, if their account is active; None for
    an unknown or disabled one (e.g. to hand a dossier to a colleague)."""
    official = repository.official_by_username(session, username)
    if official is None or official.status != OfficialStatus.ACTIVE.value:
        return None
    return actor_of(official)


def active_officials(session: Session) -> list[OfficialAccount]:
    """Every official whose account is active, by username (e.g. the colleagues a dossier can
    be handed to)."""
    return [official for official in repository.all_officials(session)
            if official.status == OfficialStatus.ACTIVE.value]


def _owner(official: OfficialAccount) -> str:
    # Binds the sealed secret to this account (and apart from any citizen's ID number).
    return f"official:{official.username}"


def _record(session: Session, actor: Actor, action: str, official: OfficialAccount,
            detail: dict[str, object] | None = None, purpose: str = MANAGEMENT) -> None:
    audit.record(session, actor, action, subject_type="official", subject_id=official.username,
                 purpose=purpose, detail=detail or {})


def _record_lockout(session: Session, official: OfficialAccount,
                    locked_before: datetime | None) -> None:
    record_lockout(session, actor_of(official), official, locked_before, "official",
                   "identity.official")


def _record_attempt(session: Session, username: str, action: str) -> None:
    claimed = username[:100]  # whoever typed it: the account may not exist
    audit.record(session, Actor("official", claimed), action, subject_type="official",
                 subject_id=claimed, purpose=SIGN_IN)
