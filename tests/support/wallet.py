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
from civicstack.kit.cli_support import CLI_ACTOR
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


def health_card_claims(person: Person) -> dict[str, Any]:
    return {"personal_id_number": person.personal_id_number, "full_name": person.full_name,
            "date_of_birth": person.date_of_birth.isoformat(), "card_number": "0123456789",
            "hospital": "Bệnh viện Bạch Mai", "valid_from": "2026-01-01",
            "valid_to": "2026-12-31"}


def grant(session: Session, grantee: Actor, issuer_slug: str = "bo-cong-an") -> None:
    """Let a key or an official act for an issuer (the Ministry of Public Security unless
    named), as `civicstack wallet grant` does."""
    service.grant_issuer(session, CLI_ACTOR, issuer_slug, grantee)


def grant_licence_system(session: Session) -> None:
    grant(session, DRIVING_LICENCE_SYSTEM)


def now() -> int:
    return int(time.time())
