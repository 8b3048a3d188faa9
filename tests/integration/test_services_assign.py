"""An official hands a dossier to a named colleague in the console: only an active official
whose role processes the procedure and whose scope covers the dossier; recorded in the
dossier's history and the audit, without changing its state; and the colleague finds it under
"assigned to me". Through the real app, on both databases."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from civicstack.identity import officials
from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.services import service
from civicstack.wallet.site import WALLET_SITE
from tests.integration.test_services_console import dossier, submitted_birth
from tests.integration.test_services_web import error_next_to
from tests.support.officials import ADMIN
from tests.support.services import CLERK_HANOI, citizen, parent_with_id_card, publish_everywhere
from tests.support.web import Site

HANOI, HCMC = Scope.province("01"), Scope.province("79")


@pytest.fixture
def mother(site: Site) -> Person:
    """A mother in Hà Nội with her ID card in her wallet; the catalogue published."""
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)
        return parent_with_id_card(session, site.services[WALLET_SITE])


def assign(site: Site, receipt: str, username: str) -> tuple[int, str]:
    page = f"/console/dossiers/{receipt}"
    response = site.client.post(f"{page}/assign", follow_redirects=False, data={
        "assignee": username, "csrf_token": site.csrf(page)})
    return response.status_code, response.text


def assignments(site: Site, receipt: str) -> list[dict[str, object]]:
    with transaction(site.services.session_factory) as session:
        found = service.dossier_for(session, CLERK_HANOI, receipt)
        return [event.detail for event in service.history(session, found)
                if event.action == "assign"]


def test_a_clerk_assigns_a_dossier_to_an_approver_who_finds_it_assigned_to_them(
        site: Site, mother: Person) -> None:
    receipt = submitted_birth(site, mother, started=True)
    approver = site.new_official(Role.AGENCY_APPROVER, HANOI)
    colleague = site.new_official(Role.AGENCY_APPROVER, HANOI)
    clerk = site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    assert assign(site, receipt, approver.username)[0] == 303

    assert dossier(site, receipt).assigned_to == f"official:{approver.username}"
    assert dossier(site, receipt).state == "in_processing"  # not a transition
    assert assignments(site, receipt) == [
        {"assignee": f"official:{approver.username}", "previous": "official:clerk-hanoi"}]
    page = site.client.get(f"/console/dossiers/{receipt}?lang=vi").text
    history = page.split('id="dossier-history"')[1]
    assert "Đã phân công" in history
    assert approver.username in history
    with transaction(site.services.session_factory) as session:
        [entry] = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "services.dossier.assign")).all()
        assert (entry.actor, entry.subject_id) == (f"official:{clerk.username}", receipt)
        assert entry.detail["assignee"] == f"official:{approver.username}"

    site.sign_in(approver)
    assert receipt in site.client.get("/console/dossiers?queue=mine").text
    site.sign_in(colleague)
    assert receipt not in site.client.get("/console/dossiers?queue=mine").text
    assert receipt in site.client.get("/console/dossiers").text  # still in the agency's inbox


def test_assigning_to_an_official_outside_the_dossiers_scope_is_refused(
        site: Site, mother: Person) -> None:
    receipt = submitted_birth(site, mother, started=True)
    elsewhere = site.new_official(Role.AGENCY_APPROVER, HCMC)
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    status, html = assign(site, receipt, elsewhere.username)
    assert status == 422
    assert "Phạm vi" in error_next_to(html, "assignee")
    assert assignments(site, receipt) == []
    assert dossier(site, receipt).assigned_to == "official:clerk-hanoi"


def test_assigning_to_an_unknown_or_disabled_username_is_refused(site: Site,
                                                                 mother: Person) -> None:
    receipt = submitted_birth(site, mother, started=True)
    gone = site.new_official(Role.AGENCY_APPROVER, HANOI)
    with transaction(site.services.session_factory) as session:
        officials.disable(session, ADMIN, gone.username)
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    for username in ("nobody-at-all", gone.username):
        status, html = assign(site, receipt, username)
        assert status == 422
        assert "Không có cán bộ" in error_next_to(html, "assignee")
    assert assignments(site, receipt) == []


def test_assigning_to_an_official_whose_role_does_not_process_the_procedure_is_refused(
        site: Site, mother: Person) -> None:
    receipt = submitted_birth(site, mother, started=True)
    police = site.new_official(Role.POLICE, HANOI)  # the police decide residence, not births
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    status, html = assign(site, receipt, police.username)
    assert status == 422
    assert "Vai trò" in error_next_to(html, "assignee")
    assert assignments(site, receipt) == []


def test_an_official_outside_the_dossiers_scope_cannot_assign_it(site: Site,
                                                                 mother: Person) -> None:
    receipt = submitted_birth(site, mother, started=True)
    approver = site.new_official(Role.AGENCY_APPROVER, HANOI)
    site.sign_in_as(Role.SERVICE_CLERK, HCMC)
    page = f"/console/dossiers/{receipt}"
    response = site.client.post(f"{page}/assign", follow_redirects=False, data={
        "assignee": approver.username, "csrf_token": site.csrf("/console/dossiers")})
    assert response.status_code == 404  # as if the dossier did not exist
    assert assignments(site, receipt) == []


def test_a_closed_dossier_offers_no_assignment_and_refuses_one(site: Site,
                                                               mother: Person) -> None:
    receipt = submitted_birth(site, mother, started=True)
    with transaction(site.services.session_factory) as session:
        service.transition(session, citizen(mother), receipt, "withdraw",
                           "the family registers at the hospital instead")
    approver = site.new_official(Role.AGENCY_APPROVER, HANOI)
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    assert 'id="assign-form"' not in site.client.get(f"/console/dossiers/{receipt}").text
    status, _ = assign(site, receipt, approver.username)
    assert status == 409
    assert assignments(site, receipt) == []


def test_the_dossier_offers_by_name_only_colleagues_the_assignment_would_accept(
        site: Site, mother: Person) -> None:
    receipt = submitted_birth(site, mother, started=True)
    approver = site.new_official(Role.AGENCY_APPROVER, HANOI)
    elsewhere = site.new_official(Role.AGENCY_APPROVER, HCMC)
    police = site.new_official(Role.POLICE, HANOI)  # does not decide a birth registration
    site.sign_in_as(Role.SERVICE_CLERK, HANOI)
    form = site.client.get(f"/console/dossiers/{receipt}").text.split('id="assign-form"')[1]
    offered = set(re.findall(r'<option value="([^"]+)">', form))
    assert approver.username in offered
    assert site.official_row(approver.username).full_name in form
    assert elsewhere.username not in offered
    assert police.username not in offered
