"""The document wallet for tests of any domain: a wallet site over a data directory, the
catalogue loaded, documents issued through the real services."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role
from civicstack.kit.b64 import ALPHABET, b64url_decode, b64url_encode
from civicstack.kit.cli_support import CLI_ACTOR
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.wallet import service
from civicstack.wallet.site import WalletSite
from tests.support.keys import secret_store

BASE_URL = "https://civicstack.test"
DRIVING_LICENCE_SYSTEM = Actor("apikey", "csgt-licences", role=Role.AGENCY_APPROVER)
POLICE_CARD_OFFICE = Actor("test", "card-office")
POLICE = Actor("official", "police-hanoi", role=Role.POLICE)


def wallet_site(database: Session | sessionmaker[Session], base_url: str = BASE_URL) -> WalletSite:
    """The wallet over the test database's issuer keys (tests/support/keys.py)."""
    return WalletSite(base_url, secret_store(database), "a test wallet sealing secret")


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


P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def re_encoded_key_bindings(presentation: str) -> dict[str, str]:
    """The same presentation with its key-binding signature written otherwise, each of which a
    lenient verifier accepts as the same signature: what a replay guard must see through."""
    signed, _, signature = presentation.rpartition(".")
    raw = b64url_decode(signature)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    # An ECDSA signature (r, s) verifies as well as (r, n - s).
    high_s = b64url_encode(r + (P256_ORDER - s).to_bytes(32, "big"))
    # 64 bytes fill 85 characters and 2 bits of the 86th; its 4 other bits are ignored.
    last = ALPHABET[ALPHABET.index(signature[-1]) ^ 1]
    return {"s -> n - s": f"{signed}.{high_s}",
            "a character outside the alphabet": f"{signed}.{signature[:40]}*{signature[40:]}",
            "unused trailing bits set": f"{signed}.{signature[:-1]}{last}"}


def now() -> int:
    return int(time.time())
