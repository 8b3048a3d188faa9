"""eID level 2 for tests of any domain: authenticator codes, and an account brought to level 2
through the real services (as a police official and the citizen would)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.biometrics.service import held_cases
from civicstack.identity import service, totp
from civicstack.identity.models import CitizenAccount, CitizenSession
from civicstack.identity.photos import PhotoVault
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.outbox import FileMailbox, RetryPolicy, dispatch_pending
from civicstack.registry.models import Person
from tests.support import photos

RETRY = RetryPolicy(max_attempts=3, first_wait=timedelta(seconds=30))

POLICE_HANOI = Actor("official", "hanoi-police", Scope.province("01"), Role.POLICE)
PASSWORD = "correct horse battery"
UNOPENED_PHOTOS = PhotoVault("a key for photos no test opens")
SECRET_ON_PAGE = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')


def code_for(secret: str, steps_ahead: int = 0) -> str:
    """What the citizen's authenticator app shows now, or `steps_ahead` periods from now."""
    moment = datetime.now(UTC) + timedelta(seconds=totp.STEP_SECONDS * steps_ahead)
    return pyotp.TOTP(secret).at(moment)


def code_of_step(secret: str, step: int) -> str:
    """The code of one time-step: the one an account last spent, to replay it."""
    return pyotp.TOTP(secret).at(step * totp.STEP_SECONDS)


def wrong_code(secret: str) -> str:
    """A well-formed code that no step in the accepted window produces."""
    valid = {code_for(secret, offset) for offset in range(-2, 3)}
    return next(f"{n:06d}" for n in range(10**6) if f"{n:06d}" not in valid)


def secret_on_page(html: str) -> str:
    found = SECRET_ON_PAGE.search(html)
    assert found, "no secret key on the page"
    return found.group(1).replace(" ", "")


def account_of(session: Session, personal_id_number: str) -> CitizenAccount:
    return session.execute(select(CitizenAccount).where(
        CitizenAccount.personal_id_number == personal_id_number)).scalar_one()


def live_session_ids(session: Session, personal_id_number: str) -> list[str]:
    account = account_of(session, personal_id_number)
    return list(session.execute(select(CitizenSession.id).where(
        CitizenSession.account_id == account.id, CitizenSession.ended_at.is_(None))).scalars())


def make_level_two(session: Session, totp_key: str, personal_id_number: str,
                   official: Actor = POLICE_HANOI) -> str:
    """Activate level 2 for an active account and enrol an authenticator; returns its secret.
    The enrolment spends the current time-step, so the next code to use is code_for(secret, 1)."""
    service.authorise_level_two(session, official, personal_id_number,
                                "citizen present with chip-based ID card")
    account = account_of(session, personal_id_number)
    enrolment = service.totp_enrolment(session, totp_key, account)
    outcome = service.enrol_totp(session, totp_key, account, code_for(enrolment.secret))
    assert outcome == service.CodeOutcome.ACCEPTED
    return enrolment.secret


def make_active_account(factory: sessionmaker[Session], pepper: str, person: Person,
                        mailbox_dir: Path, official: Actor = POLICE_HANOI,
                        vault: PhotoVault = UNOPENED_PHOTOS) -> None:
    """Register (with a face photo), prove the phone and have an official approve, all
    through the services. Pass the app's vault when the test will open the photo."""
    with transaction(factory) as session:
        service.register(session, pepper, vault, service.Registration(
            person.personal_id_number, person.full_name, person.date_of_birth,
            str(person.phone), PASSWORD, photos.png()))
    mailbox = FileMailbox(mailbox_dir)
    dispatch_pending(factory, {"sms": mailbox}, RETRY)
    code = re.findall(r"\b(\d{6})\b", mailbox.read(str(person.phone)))[-1]
    with transaction(factory) as session:
        service.verify_phone(session, pepper, person.personal_id_number, code)
        service.approve(session, official, held_cases, person.personal_id_number,
                        "checked in person")
