"""Level-1 self-registration checked against the register, the phone proven by one-time code,
and a forgotten password reset by a code to that phone."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from civicstack.identity import passwords, photos, repository
from civicstack.identity.accounts import now
from civicstack.identity.codes import (
    CodeOutcome,
    consume_code,
    send_phone_code,
    send_within_allowance,
)
from civicstack.identity.models import AccountStatus, CitizenAccount, CitizenFacePhoto
from civicstack.identity.sessions import PASSWORD_RESET, end_all_sessions
from civicstack.kit import audit, events
from civicstack.kit.audit import Actor
from civicstack.kit.errors import Conflict, Invalid
from civicstack.kit.text import typed_text
from civicstack.registry import service as registry
from civicstack.registry.rules import PHONE_PATTERN

MINIMUM_AGE = 14
PHONE_PURPOSE = "phone_verification"
RESET_PURPOSE = "password_reset"
RESETTABLE = (AccountStatus.ACTIVE.value, AccountStatus.PENDING_APPROVAL.value)


@dataclass(frozen=True)
class Registration:
    personal_id_number: str
    full_name: str
    date_of_birth: date
    phone: str
    password: str
    face_photo: bytes  # JPEG or PNG; see identity/photos.py
    # Asked, never assumed: without it the photo is only for the official's eyes, and no face
    # template is made from it (biometrics keeps the consent).
    face_consent: bool = False


def register(session: Session, pepper: str, vault: photos.PhotoVault,
             registration: Registration, today: date | None = None) -> CitizenAccount:
    """Create a level-1 account waiting for its phone to be proven, with its face photo sealed;
    the code goes out through the outbox in the same transaction."""
    actor = Actor("citizen", registration.personal_id_number)
    person = registry.confirm_identity(
        session, actor, registration.personal_id_number,
        typed_text("full_name", registration.full_name), registration.date_of_birth,
        "eID account registration")
    _check_registration(registration, person.phone, today or date.today())
    if repository.account_by_number(session, registration.personal_id_number) is not None:
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
    send_phone_code(session, pepper, account, PHONE_PURPOSE)
    audit.record(session, actor, "identity.account.register", subject_type="person",
                 subject_id=account.personal_id_number, purpose="eID account registration",
                 detail={"level": 1, "face_consent": registration.face_consent})
    if registration.face_consent:
        events.publish(session, events.FACE_CONSENT_GIVEN, account.personal_id_number)
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


def resend_phone_code(session: Session, pepper: str, personal_id_number: str) -> bool:
    """A fresh code for an account still proving its phone; False when the hourly allowance
    is used up."""
    account = repository.account_by_number(session, personal_id_number)
    if account is None or account.status != AccountStatus.PENDING_PHONE.value:
        return False
    return send_within_allowance(session, pepper, account, PHONE_PURPOSE)


def verify_phone(session: Session, pepper: str, personal_id_number: str,
                 code: str) -> CodeOutcome:
    account = repository.account_by_number(session, personal_id_number)
    outcome = consume_code(session, pepper, account, PHONE_PURPOSE, code)
    if account is not None and outcome == CodeOutcome.ACCEPTED:
        account.status = AccountStatus.PENDING_APPROVAL.value
        events.publish(session, events.ACCOUNT_AWAITS_APPROVAL, personal_id_number)
    audit.record(session, Actor("citizen", personal_id_number), "identity.phone.verify",
                 subject_type="person", subject_id=personal_id_number,
                 purpose="eID account registration", detail={"outcome": outcome.value})
    return outcome


def request_password_reset(session: Session, pepper: str, personal_id_number: str,
                           phone: str) -> None:
    """Send a reset code to the verified phone when the details match. The caller answers the
    same either way, so the form does not reveal who has an account."""
    account = repository.account_by_number(session, personal_id_number)
    sent = (account is not None and account.status in RESETTABLE
            and hmac.compare_digest(account.phone, phone.strip())
            and send_within_allowance(session, pepper, account, RESET_PURPOSE))
    audit.record(session, Actor("citizen", personal_id_number), "identity.password_reset.request",
                 subject_type="person", subject_id=personal_id_number, purpose="password reset",
                 detail={"code_sent": sent})


def reset_password(session: Session, pepper: str, personal_id_number: str, code: str,
                   new_password: str) -> CodeOutcome:
    """Raises Invalid for a weak password before the code is tried, so a refusal does not
    spend one of the code's five tries."""
    account = repository.account_by_number(session, personal_id_number)
    if account is not None:
        _refuse_weak_password(session, account, new_password)
    outcome = consume_code(session, pepper, account, RESET_PURPOSE, code)
    if account is not None and outcome == CodeOutcome.ACCEPTED:
        account.password_hash = passwords.hash_password(new_password)
        account.failed_logins = 0
        account.locked_until = None
        # whoever knew the old password is signed out
        end_all_sessions(session, account, PASSWORD_RESET)
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
