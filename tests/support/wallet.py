"""The document wallet for tests of any domain: a wallet site over a data directory, the
catalogue loaded, documents issued through the real services."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.wallet import service
from civicstack.wallet.site import WalletSite

BASE_URL = "https://civicstack.test"
DRIVING_LICENCE_SYSTEM = Actor("apikey", "csgt-licences", role=Role.AGENCY_APPROVER)
POLICE_CARD_OFFICE = Actor("test", "card-office")
POLICE = Actor("official", "police-hanoi", role=Role.POLICE)


def wallet_site(data_dir: Path, base_url: str = BASE_URL) -> WalletSite:
    return WalletSite(base_url, data_dir, "a test wallet sealing secret")


def give_id_card(session: Session, person: Person) -> None:
    registry.issue_id_card(session, POLICE_CARD_OFFICE, person.personal_id_number,
                           registry.IdCard(person.personal_id_number, date(2021, 3, 1),
                                           date(2036, 3, 1), "Cục Cảnh sát QLHC về TTXH"))


def licence_claims(person: Person, **overrides: Any) -> dict[str, Any]:
    return {"personal_id_number": person.personal_id_number, "full_name": person.full_name,
            "date_of_birth": person.date_of_birth.isoformat(), "licence_number": "790123456789",
            "classes": ["A1", "B"], "issued_on": "2020-06-01", "valid_to": "2030-06-01",
            **overrides}


def grant_licence_system(session: Session) -> None:
    service.grant_issuer(session, Actor("cli", "operator", role=Role.ADMIN), "bo-cong-an",
                         DRIVING_LICENCE_SYSTEM.name)


def now() -> int:
    return int(time.time())
