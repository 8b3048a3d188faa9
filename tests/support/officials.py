"""Officials for tests of the console: created by an admin through the real services, with the
authenticator already enrolled and their own password chosen (as if they had signed in once)
unless asked otherwise."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import officials
from civicstack.identity.service import CodeOutcome
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.db import transaction
from tests.support.eid import code_for

ADMIN = Actor("test", "admin", NATIONAL, Role.ADMIN)
OFFICIAL_PASSWORD = "quiet river lantern 42"
_usernames = itertools.count(1)


@dataclass(frozen=True)
class Official:
    """Its current time-step is spent by the enrolment: sign in with code_for(secret, 1)."""

    username: str
    password: str  # the one they chose; while not enrolled, the one the admin handed over
    secret: str  # "" while no authenticator is enrolled


def make_official(factory: sessionmaker[Session], totp_key: str,
                  role: Role = Role.AGENCY_APPROVER, scope: Scope = NATIONAL,
                  username: str | None = None, enrolled: bool = True) -> Official:
    username = username or f"{role.value.replace('_', '-')}-{next(_usernames)}"
    handed_over = OFFICIAL_PASSWORD if not enrolled else officials.initial_password()
    with transaction(factory) as session:
        official = officials.create(session, ADMIN, officials.NewOfficial(
            username, "Nguyễn Thị Cán Bộ", role, scope, handed_over))
        if not enrolled:
            return Official(username, OFFICIAL_PASSWORD, "")
        secret = officials.enrolment(session, totp_key, official).secret
        outcome = officials.check_code(session, totp_key, official.id, 0, code_for(secret))
        assert outcome == CodeOutcome.ACCEPTED
        officials.choose_password(session, official, handed_over, OFFICIAL_PASSWORD)
    return Official(username, OFFICIAL_PASSWORD, secret)
