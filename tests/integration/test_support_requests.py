"""Verification requests (an agency asks a citizen to confirm their data) and the clean-up of
eID accounts (inactive, duplicated) with an official's review."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from civicstack.cli import app as cli_app
from civicstack.identity import service as identity
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Forbidden, Invalid
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.support import cleanup, service, verification
from tests.integration.test_identity_web import approved_and_signed_in, citizen_sign_in
from tests.support.eid import make_active_account
from tests.support.people import CLERK, make_person
from tests.support.web import Site

VERIFICATIONS, CLEANUP = "/console/support/verifications", "/console/support/cleanup"
ADMIN = Actor("official", "admin", Scope.national(), Role.ADMIN)
INSURER = Actor("official", "bhxh.hanoi", Scope.province("01"), Role.AGENCY_APPROVER)


# --- verification requests --------------------------------------------------------------

def ask(site: Site, an: Person, **fields: str) -> int:
    return site.client.post(VERIFICATIONS, follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "field": "permanent_address",
        "value": "12 Phố Huế, Hà Nội", "agency": "Bảo hiểm xã hội Hà Nội", "days": "14",
        **fields, "csrf_token": site.csrf(VERIFICATIONS)}).status_code


def answer(site: Site, request_id: str, decision: str, comment: str = "") -> int:
    return site.client.post(f"/support/verifications/{request_id}", follow_redirects=False,
                            data={"decision": decision, "comment": comment,
                                  "csrf_token": site.csrf("/support")}).status_code


def test_an_agency_asks_the_citizen_confirms_and_the_agency_sees_the_answer(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    site.client.cookies.clear()
    agency = site.sign_in_as(Role.AGENCY_APPROVER, Scope.province("01"))
    assert ask(site, an) == 303
    assert an.personal_id_number in site.client.get(VERIFICATIONS).text

    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303
    page = site.client.get("/support?lang=en").text
    assert "Bảo hiểm xã hội Hà Nội" in page
    [request_id] = re.findall(r'data-verification="(\d+)"', page)
    assert answer(site, request_id, "confirm") == 303
    assert "Confirmed" in site.client.get("/support?lang=en").text
    assert answer(site, request_id, "dispute", "too late") == 409  # answered once

    with transaction(site.services.session_factory) as session:
        [sent] = verification.requests_by(session, Actor(
            "official", agency.username, Scope.province("01"), Role.AGENCY_APPROVER))
        assert (sent.id, verification.answer_of(sent)) == (int(request_id), "confirmed")


def test_a_dispute_needs_a_comment_and_opens_a_ticket(site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        asked = verification.ask(session, INSURER, an.personal_id_number, "phone",
                                 "0900000000", "Bảo hiểm xã hội Hà Nội")
        with pytest.raises(Invalid):
            verification.respond(session, an.personal_id_number, asked.id, confirmed=False)
        verification.respond(session, an.personal_id_number, asked.id, confirmed=False,
                             comment="My phone is 0912345678.")
        assert asked.ticket_id is not None
        [ticket] = service.tickets_of(session, an.personal_id_number)
        assert (ticket.id, ticket.reference) == (asked.ticket_id, f"verification:{asked.id}")
        view = service.citizen_ticket(session, an.personal_id_number, ticket.id)
        assert "My phone is 0912345678." in view.messages[0].body


def test_a_request_expires_unanswered(site: Site, an: Person) -> None:
    now = datetime.now(UTC)
    with transaction(site.services.session_factory) as session:
        asked = verification.ask(session, INSURER, an.personal_id_number, "phone",
                                 "0912345678", "Bảo hiểm xã hội Hà Nội", days=3, now=now)
        later = now + timedelta(days=3, minutes=1)
        assert verification.answer_of(asked, later) == verification.Answer.EXPIRED
        with pytest.raises(Conflict):
            verification.respond(session, an.personal_id_number, asked.id, True, now=later)


def test_only_officials_reading_the_register_ask_and_only_within_their_scope(
        site: Site, an: Person) -> None:
    site.sign_in_as(Role.PROGRAMME_OFFICER, Scope.national())
    assert ask(site, an) == 403
    site.client.cookies.clear()
    site.sign_in_as(Role.AGENCY_APPROVER, Scope.province("79"))
    assert ask(site, an) == 404  # someone outside the scope: as if nobody
    site.client.cookies.clear()
    site.sign_in_as(Role.AGENCY_APPROVER, Scope.province("01"))
    assert ask(site, an, field="religion", value="", days="400") == 422
    with transaction(site.services.session_factory) as session:
        assert verification.requests_of(session, an.personal_id_number) == []


# --- account clean-up -------------------------------------------------------------------

def people_with_accounts(site: Site, tmp_path: Path) -> tuple[Person, Person, Person]:
    """Three active accounts sharing a phone; a fourth holder has since died, which closed
    their account at once (nothing left for the scan to propose)."""
    state = site.services
    with transaction(state.session_factory) as session:
        first = make_person(session, "Lê Văn Một", date(1980, 1, 1), phone="0911000001")
        second = make_person(session, "Lê Văn Hai", date(1981, 1, 1), phone="0911000001")
        third = make_person(session, "Lê Văn Ba", date(1950, 1, 1), phone="0911000001")
        fourth = make_person(session, "Lê Văn Bốn", date(1940, 1, 1), phone="0911000004")
    for person in (first, second, third, fourth):
        make_active_account(state.session_factory, state.pepper, person, tmp_path / "mail")
    with transaction(state.session_factory) as session:
        registry.record_death(session, CLERK, fourth.personal_id_number, date(2026, 11, 1))
    return first, second, third


def proposals(site: Site) -> dict[tuple[str, str], int]:
    with transaction(site.services.session_factory) as session:
        return {(c.personal_id_number, c.reason): c.id
                for c, _ in cleanup.proposals(session, ADMIN)}


def test_the_scan_proposes_duplicated_and_inactive_accounts_once_and_no_dead_holder(
        site: Site, tmp_path: Path) -> None:
    first, second, third = people_with_accounts(site, tmp_path)
    with transaction(site.services.session_factory) as session:
        found = cleanup.scan(session, ADMIN)
    assert found == cleanup.ScanResult(inactive=0, duplicate=3)
    assert set(proposals(site)) == {(p.personal_id_number, "duplicate")
                                    for p in (first, second, third)}
    two_years_on = datetime.now(UTC) + timedelta(days=25 * 30)
    with transaction(site.services.session_factory) as session:
        assert cleanup.scan(session, ADMIN, now=two_years_on).inactive == 3  # not the dead
        assert cleanup.scan(session, ADMIN, now=two_years_on) == cleanup.ScanResult(0, 0)
        with pytest.raises(Forbidden):
            cleanup.scan(session, Actor("official", "hotline", Scope.national(),
                                        Role.SUPPORT_AGENT))


def test_an_official_locks_a_proposed_account_or_keeps_it_with_a_reason(
        site: Site, tmp_path: Path) -> None:
    first, second, third = people_with_accounts(site, tmp_path)
    with transaction(site.services.session_factory) as session:
        cleanup.scan(session, ADMIN)
    waiting = proposals(site)

    site.sign_in_as(Role.POLICE, Scope.province("79"))  # none of them lives there
    assert 'data-candidate="' not in site.client.get(CLEANUP).text
    locked = waiting[(third.personal_id_number, "duplicate")]
    assert site.client.post(f"{CLEANUP}/{locked}/approve", data={
        "csrf_token": site.csrf(CLEANUP)}).status_code == 404  # outside the scope: as if nobody

    site.client.cookies.clear()
    site.sign_in_as(Role.SUPPORT_AGENT, Scope.province("01"))
    assert site.client.get(CLEANUP).status_code == 403

    site.client.cookies.clear()
    site.sign_in_as(Role.POLICE, Scope.province("01"))
    assert f'data-candidate="{locked}"' in site.client.get(CLEANUP).text
    assert site.client.post(f"{CLEANUP}/{locked}/approve", follow_redirects=False, data={
        "csrf_token": site.csrf(CLEANUP)}).status_code == 303
    kept = waiting[(first.personal_id_number, "duplicate")]
    assert site.client.post(f"{CLEANUP}/{kept}/reject", data={
        "note": " ", "csrf_token": site.csrf(CLEANUP)}).status_code == 422
    assert site.client.post(f"{CLEANUP}/{kept}/reject", follow_redirects=False, data={
        "note": "Husband and wife share one phone", "csrf_token": site.csrf(CLEANUP)},
    ).status_code == 303
    assert set(proposals(site)) == {(second.personal_id_number, "duplicate")}
    with transaction(site.services.session_factory) as session:
        statuses = {p.personal_id_number: identity.account_for_person(
            session, p.personal_id_number) for p in (first, third)}
        assert {pid: a.status if a else None for pid, a in statuses.items()} == {
            first.personal_id_number: "active", third.personal_id_number: "locked"}
        with pytest.raises(Invalid):
            cleanup.reject(session, ADMIN, waiting[(second.personal_id_number, "duplicate")],
                           "x" * 501)


def test_the_cleanup_scan_command_reports_what_it_proposed(
        site: Site, tmp_path: Path, data_dir: Path) -> None:
    people_with_accounts(site, tmp_path)
    result = CliRunner().invoke(cli_app, ["support", "cleanup-scan"])
    assert result.exit_code == 0, result.output
    assert "0 inactive, 3 duplicated" in result.output
    refused = CliRunner().invoke(cli_app, ["support", "cleanup-scan", "--inactive-months", "0"])
    assert refused.exit_code == 1
