"""Level-1 eID accounts: register against the population register, prove the phone through
the outbox, sign in with a password, and every refusal along the way."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import passwords, service
from civicstack.identity.models import (
    AccountStatus,
    CitizenAccount,
    CitizenFacePhoto,
    PhoneChallenge,
)
from civicstack.identity.photos import PhotoVault
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Invalid, NotFound
from civicstack.kit.outbox import (
    DELIVERED_BODY,
    FileMailbox,
    OutboxMessage,
    dispatch_pending,
)
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from tests.support import photos
from tests.support.api import audit_entries
from tests.support.eid import RETRY
from tests.support.people import CLERK, make_person

PEPPER = "test-pepper"
VAULT = PhotoVault("test-photo-key")
HANOI_OFFICIAL = Actor("official", "hanoi-police", Scope.province("01"), Role.POLICE)
HCMC_OFFICIAL = Actor("official", "hcmc-police", Scope.province("79"), Role.POLICE)
PASSWORD = "correct horse battery"
PHONE = "0912345678"


@pytest.fixture
def an(session_factory: sessionmaker[Session]) -> Person:
    with transaction(session_factory) as session:
        return make_person(session, "Nguyễn Văn An", date(1990, 5, 17), phone=PHONE)


def registration(person: Person, **changes: object) -> service.Registration:
    values: dict[str, object] = {
        "personal_id_number": person.personal_id_number, "full_name": "nguyen van an",
        "date_of_birth": person.date_of_birth, "phone": PHONE, "password": PASSWORD,
        "face_photo": photos.png()}
    values.update(changes)
    return service.Registration(**values)  # type: ignore[arg-type]


def register(factory: sessionmaker[Session], person: Person, **changes: object) -> None:
    with transaction(factory) as session:
        service.register(session, PEPPER, VAULT, registration(person, **changes))


def delivered_code(factory: sessionmaker[Session], tmp_path: Path) -> str:
    mailbox = FileMailbox(tmp_path / "mailbox")
    assert dispatch_pending(factory, {"sms": mailbox}, RETRY) >= 1
    codes = re.findall(r"\b(\d{6})\b", mailbox.read(PHONE))
    assert codes, "no code reached the phone"
    return str(codes[-1])


def account(factory: sessionmaker[Session], person: Person) -> CitizenAccount:
    with transaction(factory) as session:
        return session.execute(select(CitizenAccount).where(
            CitizenAccount.personal_id_number == person.personal_id_number)).scalar_one()


def activate(factory: sessionmaker[Session], person: Person) -> None:
    """Stands in for the approval step (official or face match) that a later issue builds."""
    with transaction(factory) as session:
        found = session.execute(select(CitizenAccount).where(
            CitizenAccount.personal_id_number == person.personal_id_number)).scalar_one()
        found.status = AccountStatus.ACTIVE.value


def sign_in(factory: sessionmaker[Session], person: Person, password: str) -> service.LoginResult:
    with transaction(factory) as session:
        return service.sign_in(session, service.UnknownIdentifiers(), person.personal_id_number,
                               password)


def test_registration_sends_a_code_that_proves_the_phone(
        session_factory: sessionmaker[Session], an: Person, tmp_path: Path) -> None:
    register(session_factory, an)
    created = account(session_factory, an)
    assert (created.level, created.status) == (1, "pending_phone")
    assert passwords.verify_password(created.password_hash, PASSWORD)
    assert PASSWORD not in created.password_hash

    code = delivered_code(session_factory, tmp_path)
    with transaction(session_factory) as session:
        outcome = service.verify_phone(session, PEPPER, an.personal_id_number, code)
        stored = session.execute(select(OutboxMessage)).scalar_one()
        assert stored.body == DELIVERED_BODY  # the code does not stay at rest
        challenge = session.execute(select(PhoneChallenge)).scalar_one()
        assert code not in challenge.code_digest

    assert outcome == service.CodeOutcome.ACCEPTED
    assert account(session_factory, an).status == "pending_approval"


def test_a_wrong_code_is_counted_and_five_exhaust_the_challenge(
        session_factory: sessionmaker[Session], an: Person, tmp_path: Path) -> None:
    register(session_factory, an)
    code = delivered_code(session_factory, tmp_path)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    outcomes = []
    for _ in range(6):
        with transaction(session_factory) as session:
            outcomes.append(service.verify_phone(session, PEPPER, an.personal_id_number, wrong))
    with transaction(session_factory) as session:
        late_right = service.verify_phone(session, PEPPER, an.personal_id_number, code)

    assert outcomes == [service.CodeOutcome.WRONG] * 5 + [service.CodeOutcome.EXHAUSTED]
    assert late_right == service.CodeOutcome.EXHAUSTED
    assert account(session_factory, an).status == "pending_phone"


def test_an_expired_code_is_refused(session_factory: sessionmaker[Session], an: Person,
                                    tmp_path: Path) -> None:
    register(session_factory, an)
    code = delivered_code(session_factory, tmp_path)
    with transaction(session_factory) as session:
        challenge = session.execute(select(PhoneChallenge)).scalar_one()
        challenge.expires_at = service.now() - timedelta(seconds=1)
    with transaction(session_factory) as session:
        assert service.verify_phone(session, PEPPER, an.personal_id_number,
                                    code) == service.CodeOutcome.EXPIRED


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"full_name": "Nguyễn Văn Bình"}, "personal_id_number", "do not match"),
    ({"date_of_birth": date(1990, 5, 18)}, "personal_id_number", "do not match"),
    ({"personal_id_number": "001090999999"}, "personal_id_number", "do not match"),
    ({"phone": "0987000000"}, "phone", "registered under your ID number"),
    ({"phone": "12345"}, "phone", "Vietnamese number"),
    ({"password": "short"}, "password", "between 10 and 128"),
    ({"password": "matkhau123"}, "password", "too common"),
    ({"password": "an-19900517-xyz"}, "password", "birth date"),
    ({"password": "NguyenVanAn!!"}, "password", "your name"),
    ({"face_photo": b""}, "face_photo", "choose a photo"),
    ({"face_photo": b"GIF89a" + bytes(4096)}, "face_photo", "JPEG or PNG"),
    ({"face_photo": photos.png(120, 160)}, "face_photo", "too small"),
])
def test_registration_refusals_name_the_field(
        session_factory: sessionmaker[Session], an: Person, changes: dict[str, object],
        field: str, reason: str) -> None:
    with pytest.raises(Invalid) as refused:
        register(session_factory, an, **changes)
    assert refused.value.errors[0].field == field
    assert reason in refused.value.errors[0].reason
    with transaction(session_factory) as session:
        assert session.execute(select(CitizenAccount)).first() is None
        assert session.execute(select(OutboxMessage)).first() is None  # no code went out


def test_children_under_14_and_the_dead_cannot_register(
        session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        thirteen = date.today() - timedelta(days=13 * 365)
        child = make_person(session, "Lê Minh Khoa", thirteen, phone=None)
        elder = make_person(session, "Trần Văn Cường", date(1940, 1, 1), phone=None)
        registry.record_death(session, CLERK, elder.personal_id_number, date(2025, 1, 1))
    with pytest.raises(Invalid, match="aged 14"):
        register(session_factory, child, full_name=child.full_name)
    with pytest.raises(Invalid, match="living person"):
        register(session_factory, elder, full_name=elder.full_name)


def test_one_account_per_person(session_factory: sessionmaker[Session], an: Person) -> None:
    register(session_factory, an)
    with pytest.raises(Conflict):
        register(session_factory, an, password="another long passphrase")


def test_sign_in_needs_an_active_account_and_the_right_password(
        session_factory: sessionmaker[Session], an: Person) -> None:
    register(session_factory, an)
    assert sign_in(session_factory, an, PASSWORD).outcome == service.LoginOutcome.NOT_ACTIVE
    activate(session_factory, an)

    assert sign_in(session_factory, an, PASSWORD).outcome == service.LoginOutcome.SIGNED_IN
    assert sign_in(session_factory, an, "wrong password!").outcome == \
        service.LoginOutcome.WRONG_CREDENTIALS
    with transaction(session_factory) as session:
        unknown = service.sign_in(session, service.UnknownIdentifiers(), "001090999999", PASSWORD)
        actions = session.execute(select(AuditEntry.action).where(
            AuditEntry.subject_id == an.personal_id_number)).scalars().all()
    assert unknown.outcome == service.LoginOutcome.WRONG_CREDENTIALS
    assert "identity.login.signed_in" in actions
    assert "identity.login.wrong_credentials" in actions


def test_repeated_failures_lock_progressively_even_for_the_right_password(
        session_factory: sessionmaker[Session], an: Person) -> None:
    register(session_factory, an)
    activate(session_factory, an)
    for _ in range(service.FREE_LOGIN_FAILURES):
        sign_in(session_factory, an, "wrong password!")

    locked = sign_in(session_factory, an, PASSWORD)

    assert locked.outcome == service.LoginOutcome.TEMPORARILY_LOCKED
    assert locked.retry_after is not None
    assert account(session_factory, an).failed_logins == service.FREE_LOGIN_FAILURES
    with transaction(session_factory) as session:
        found = session.execute(select(CitizenAccount)).scalar_one()
        found.locked_until = service.now() - timedelta(seconds=1)  # the lock runs out
    assert sign_in(session_factory, an, PASSWORD).outcome == service.LoginOutcome.SIGNED_IN
    assert account(session_factory, an).failed_logins == 0


def request_reset(factory: sessionmaker[Session], person: Person, phone: str = PHONE) -> None:
    with transaction(factory) as session:
        service.request_password_reset(session, PEPPER, person.personal_id_number, phone)


def reset(factory: sessionmaker[Session], person: Person, code: str,
          password: str) -> service.CodeOutcome:
    with transaction(factory) as session:
        return service.reset_password(session, PEPPER, person.personal_id_number, code, password)


def test_a_forgotten_password_is_reset_through_the_verified_phone(
        session_factory: sessionmaker[Session], an: Person, tmp_path: Path) -> None:
    register(session_factory, an)
    activate(session_factory, an)
    for _ in range(service.FREE_LOGIN_FAILURES):
        sign_in(session_factory, an, "wrong password!")
    delivered_code(session_factory, tmp_path)  # the registration code leaves first

    request_reset(session_factory, an)
    code = delivered_code(session_factory, tmp_path)

    assert reset(session_factory, an, code, "a brand new passphrase") == \
        service.CodeOutcome.ACCEPTED
    assert sign_in(session_factory, an, "a brand new passphrase").outcome == \
        service.LoginOutcome.SIGNED_IN  # the reset also lifted the lock
    assert sign_in(session_factory, an, PASSWORD).outcome == \
        service.LoginOutcome.WRONG_CREDENTIALS
    assert reset(session_factory, an, code, "yet another passphrase") == \
        service.CodeOutcome.NO_CODE  # a code works once


def test_a_reset_for_the_wrong_phone_sends_nothing(
        session_factory: sessionmaker[Session], an: Person, tmp_path: Path) -> None:
    register(session_factory, an)
    activate(session_factory, an)
    mailbox = FileMailbox(tmp_path / "mailbox")
    dispatch_pending(session_factory, {"sms": mailbox}, RETRY)

    request_reset(session_factory, an, phone="0987000000")

    assert dispatch_pending(session_factory, {"sms": mailbox}, RETRY) == 0
    with transaction(session_factory) as session:
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.action == "identity.password_reset.request")).scalar_one()
        assert entry.detail == {"code_sent": False}


def test_a_weak_new_password_is_refused_without_spending_a_try(
        session_factory: sessionmaker[Session], an: Person, tmp_path: Path) -> None:
    register(session_factory, an)
    activate(session_factory, an)
    delivered_code(session_factory, tmp_path)
    request_reset(session_factory, an)
    code = delivered_code(session_factory, tmp_path)

    with pytest.raises(Invalid, match="your name"):
        reset(session_factory, an, code, "nguyenvanan2024")

    with transaction(session_factory) as session:
        challenge = session.execute(select(PhoneChallenge).where(
            PhoneChallenge.purpose == service.RESET_PURPOSE)).scalar_one()
        assert challenge.attempts == 0
    assert reset(session_factory, an, code, "a brand new passphrase") == \
        service.CodeOutcome.ACCEPTED


def test_a_locked_account_cannot_sign_in_until_an_official_unlocks_it(
        session_factory: sessionmaker[Session], an: Person) -> None:
    register(session_factory, an)
    activate(session_factory, an)
    with transaction(session_factory) as session:
        service.lock_myself(session, an.personal_id_number)
    assert sign_in(session_factory, an, PASSWORD).outcome == service.LoginOutcome.LOCKED

    with pytest.raises(NotFound, match="in your scope"), transaction(session_factory) as session:
        service.unlock(session, HCMC_OFFICIAL, an.personal_id_number, "met the citizen")
    with transaction(session_factory) as session:
        service.unlock(session, HANOI_OFFICIAL, an.personal_id_number, "met the citizen")
    assert sign_in(session_factory, an, PASSWORD).outcome == service.LoginOutcome.SIGNED_IN
    with pytest.raises(Conflict), transaction(session_factory) as session:
        service.unlock(session, HANOI_OFFICIAL, an.personal_id_number, "met the citizen again")


def test_an_official_lock_is_audited_with_its_reason(
        session_factory: sessionmaker[Session], an: Person) -> None:
    register(session_factory, an)
    activate(session_factory, an)
    with transaction(session_factory) as session:
        service.lock(session, HANOI_OFFICIAL, an.personal_id_number, "reported stolen phone")
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.action == "identity.account.lock")).scalar_one()
    assert (entry.actor, entry.purpose) == ("official:hanoi-police", "reported stolen phone")
    assert sign_in(session_factory, an, PASSWORD).outcome == service.LoginOutcome.LOCKED


def test_the_face_photo_is_kept_sealed_and_opened_only_for_an_official_in_scope(
        session_factory: sessionmaker[Session], an: Person) -> None:
    selfie = photos.png(seed=7)
    register(session_factory, an, face_photo=selfie)
    with transaction(session_factory) as session:
        stored = session.execute(select(CitizenFacePhoto)).scalar_one()
        assert (stored.content_type, stored.width, stored.height) == ("image/png", 320, 400)
        assert selfie[100:164] not in stored.sealed  # encrypted, not merely stored
    with pytest.raises(NotFound, match="in your scope"), transaction(session_factory) as session:
        service.face_photo(session, HCMC_OFFICIAL, VAULT, an.personal_id_number, "approval")
    with transaction(session_factory) as session:
        opened = service.face_photo(session, HANOI_OFFICIAL, VAULT, an.personal_id_number,
                                    "comparing with the ID card at the counter")
    assert opened == (selfie, "image/png")
    reads = audit_entries(session_factory, "identity.face_photo.read")
    assert [(e.actor, e.purpose) for e in reads] == [
        ("official:hanoi-police", "comparing with the ID card at the counter")]
    with pytest.raises(InvalidTag):  # sealed to its own account row
        PhotoVault("test-photo-key").open(stored.account_id + 1, stored.sealed)
