"""Restructuring with the real 2025 unit data: open dossiers still addressed to an abolished
pre-reform ward move to the ward and province that absorbed it (the register's old->new
mapping), nothing else in them changes and the move is in their history; after re-routing,
nothing can be addressed to the abolished unit any more."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.kit.errors import Forbidden, Invalid
from civicstack.registry import pid
from civicstack.registry import service as registry
from civicstack.registry.models import Person, Sex
from civicstack.registry.rules import PersonFacts
from civicstack.services import service
from civicstack.services.models import Dossier
from civicstack.services.payments import LocalTreasury
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite
from tests.support.people import CLERK
from tests.support.services import (
    ADMIN,
    CLERK_HANOI,
    citizen,
    parent_with_id_card,
    publish_everywhere,
)
from tests.support.wallet import give_id_card, wallet_site

# Before 1 July 2025: Phường Ngọc Hà, Thành phố Hà Giang, tỉnh Hà Giang (old province 02).
# Since: part of Phường Hà Giang 2 (00691) in tỉnh Tuyên Quang (08).
ABOLISHED = ("02", "00692")
SUCCESSOR = ("08", "00691")
RESIDENCE = "DVC-CT-04"
REASON = "Nghị quyết 202/2025/QH15 sắp xếp đơn vị hành chính"
POLICE_HA_GIANG_2 = Actor("official", "police-ha-giang-2", Scope.ward(*SUCCESSOR), Role.POLICE)


@pytest.fixture
def site(session: Session, tmp_path: Path) -> WalletSite:
    publish_everywhere(session)
    return wallet_site(session)


def with_id_card(session: Session, site: WalletSite, person: Person) -> Person:
    give_id_card(session, person)
    wallet.issue_from_register(session, site, person.personal_id_number, "id_card")
    return person


def filed_before_the_reform(session: Session, site: WalletSite, person: Person,
                            payments: LocalTreasury, submit: bool = True) -> Dossier:
    """A dossier addressed to the old ward, as the systems before the reform addressed it."""
    draft = service.start_draft(session, citizen(person), person.personal_id_number, RESIDENCE)
    dossier = service.submit(session, site, citizen(person), draft, payments) if submit \
        else draft
    dossier.province_code, dossier.ward_code = ABOLISHED
    session.flush()
    return dossier


def test_open_dossiers_of_an_abolished_ward_move_to_the_real_successor_and_nothing_else(
        session: Session, site: WalletSite, tmp_path: Path) -> None:
    payments = LocalTreasury(tmp_path / "treasury")
    mai = parent_with_id_card(session, site)
    open_one = filed_before_the_reform(session, site, mai, payments)
    draft = filed_before_the_reform(session, site, mai, payments, submit=False)
    elsewhere = service.submit(session, site, citizen(mai), service.start_draft(
        session, citizen(mai), mai.personal_id_number, RESIDENCE), payments)
    before = {c: getattr(open_one, c) for c in ("receipt_code", "state", "applicant_pid",
                                                "channel", "data", "fee", "due_on",
                                                "submitted_at")}
    history_before = [e.action for e in service.history(session, open_one)]

    moved = service.reroute_from_legacy_units(session, ADMIN, [ABOLISHED[1]], REASON)

    assert moved == 2
    assert (open_one.province_code, open_one.ward_code) == SUCCESSOR
    assert (draft.province_code, draft.ward_code) == SUCCESSOR
    assert {c: getattr(open_one, c) for c in before} == before
    assert (elsewhere.province_code, elsewhere.ward_code) == ("01", mai.permanent_ward_code)
    events = service.history(session, open_one)
    assert [e.action for e in events] == [*history_before, "reroute"]
    assert events[-1].reason == REASON
    assert events[-1].detail == {"from_unit": list(ABOLISHED), "to_unit": list(SUCCESSOR)}
    assert events[-1].from_state == events[-1].to_state == "submitted"


def test_after_re_routing_the_abolished_ward_receives_nothing(
        session: Session, site: WalletSite, tmp_path: Path) -> None:
    payments = LocalTreasury(tmp_path / "treasury")
    mai = parent_with_id_card(session, site)
    old = filed_before_the_reform(session, site, mai, payments)
    service.reroute_from_legacy_units(session, ADMIN, [ABOLISHED[1]], REASON)
    # A neighbour of the old ward: the register holds her at the successor ward, so her new
    # dossier is routed there, to the same officials as the re-routed one.
    born = date(1988, 6, 1)
    lan = with_id_card(session, site, registry.register_person(session, CLERK, registry.NewPerson(
        PersonFacts(pid.compose(ABOLISHED[0], born.year, Sex.FEMALE, 777), "Hoàng Thị Lan", born,
                    Sex.FEMALE, SUCCESSOR[0], SUCCESSOR[1], None, "0912000333"),
        place_of_origin="Hà Giang", permanent_address_line="Tổ 5")))
    new = service.submit(session, site, citizen(lan), service.start_draft(
        session, citizen(lan), lan.personal_id_number, RESIDENCE), payments)

    assert (new.province_code, new.ward_code) == SUCCESSOR
    assert {d.receipt_code for d in service.inbox(session, POLICE_HA_GIANG_2)} == {
        old.receipt_code, new.receipt_code}
    assert service.reroute_from_legacy_units(session, ADMIN, [ABOLISHED[1]], REASON) == 0
    with pytest.raises(Invalid, match="unknown ward code"):  # no official can serve it
        registry.scope_for(session, ward_code=ABOLISHED[1])
    with pytest.raises(Invalid) as refused:  # nor can a dossier be moved onto it
        service.reroute_to_current_units(session, ADMIN, {SUCCESSOR[1]: ABOLISHED}, REASON)
    assert refused.value.errors[0].reason == "not a current ward of the province given"


def test_codes_that_are_not_abolished_wards_are_refused_all_at_once(session: Session) -> None:
    with pytest.raises(Invalid) as refused:
        service.reroute_from_legacy_units(session, ADMIN, ["00004", "99999"], REASON)
    assert {e.field: e.reason for e in refused.value.errors} == {
        "00004": "this ward still exists; nothing to re-route",  # Phường Ba Đình kept its code
        "99999": "no pre-2025 ward with this code has a successor"}
    with pytest.raises(Forbidden):
        service.reroute_from_legacy_units(session, CLERK_HANOI, [ABOLISHED[1]], REASON)
