"""Online public services for tests of any domain: the catalogue published in every province,
a citizen with an ID card in their wallet, officials of each kind, and a real local treasury."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.registry.models import Person, Province
from civicstack.services import service
from civicstack.services.models import Dossier, Procedure
from civicstack.services.payments import LocalTreasury
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite
from tests.support.people import make_person
from tests.support.uploads import PDF
from tests.support.wallet import give_id_card

CLERK_HANOI = Actor("official", "clerk-hanoi", Scope.province("01"), Role.SERVICE_CLERK)
APPROVER_HANOI = Actor("official", "approver-hanoi", Scope.province("01"),
                       Role.AGENCY_APPROVER)
POLICE_HANOI = Actor("official", "police-hanoi", Scope.province("01"), Role.POLICE)
APPROVER_HCMC = Actor("official", "approver-hcmc", Scope.province("79"), Role.AGENCY_APPROVER)
ADMIN = Actor("official", "admin", role=Role.ADMIN)


def publish_everywhere(session: Session) -> None:
    provinces = list(session.scalars(select(Province.code)))
    service.seed_catalogue(session, provinces)
    wallet.seed_catalogue(session)


def parent_with_id_card(session: Session, site: WalletSite, name: str = "Trần Thị Mai",
                        born: date = date(1994, 3, 8)) -> Person:
    """A mother in Hà Nội with her ID card in her wallet."""
    person = make_person(session, name, born, province_code="01", phone="0912000111")
    give_id_card(session, person)
    wallet.issue_from_register(session, site, person.personal_id_number, "id_card")
    return person


def treasury(tmp_path: Path) -> LocalTreasury:
    return LocalTreasury(tmp_path / "treasury")


def citizen(person: Person) -> Actor:
    return Actor("citizen", person.personal_id_number)


def birth_bundle_charging_for_the_card(session: Session, mother: Person) -> list[Dossier]:
    """The birth bundle's drafts, complete: the birth registration (free), the residence
    registration (10,000 VND) and the health insurance card, for which this province charges
    20,000 VND."""
    session.execute(update(Procedure).where(Procedure.code == "DVC-BH-01")
                    .values(online_fee=20_000))
    actor = citizen(mother)
    drafts = service.start_group(session, actor, mother.personal_id_number, "birth-bundle")
    for draft in drafts:
        service.save_draft(session, actor, draft, {
            "child_full_name": "Nguyễn Gia Bảo", "child_date_of_birth": "2026-11-20",
            "child_sex": "M", "new_ward_code": mother.permanent_ward_code,
            "new_address_line": "12 Phố Huế"})
    service.add_attachment(session, actor, drafts[0], "birth_notice", "a.pdf",
                           "application/pdf", PDF)
    service.add_attachment(session, actor, drafts[1], "residence_proof", "b.pdf",
                           "application/pdf", PDF)
    return drafts
