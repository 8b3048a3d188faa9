"""A citizen reports a use of their data they do not recognise; an auditor sees it with the
entry it flags and closes it with what was found, which the citizen then reads."""

from __future__ import annotations

import re

from sqlalchemy import select

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.integration.test_identity_web import approved_and_signed_in, citizen_sign_in
from tests.support.web import Site


def entry_seq(site: Site, an: Person, action: str) -> int:
    with transaction(site.app.state.session_factory) as session:
        return int(session.execute(select(AuditEntry.seq).where(
            AuditEntry.subject_id == an.personal_id_number, AuditEntry.action == action)
            .order_by(AuditEntry.seq.desc())).scalars().first() or 0)


def report(site: Site, seq: int, note: str = "I never asked for this") -> tuple[int, str]:
    response = site.client.post(f"/account/data-uses/{seq}/report", follow_redirects=False,
                                data={"note": note, "csrf_token": site.csrf("/account")})
    return response.status_code, response.text


def sign_in_auditor(site: Site) -> None:
    site.client.cookies.clear()
    site.sign_in_as(Role.ADMIN, Scope.national())


def test_a_reported_use_reaches_the_auditors_and_their_finding_reaches_the_citizen(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    approval = entry_seq(site, an, "identity.account.approve")

    assert report(site, approval)[0] == 303
    page = site.client.get("/account?lang=en").text
    assert "Reported, being checked" in page
    assert entry_seq(site, an, "identity.read.reported") > approval  # the flag is audited

    sign_in_auditor(site)
    queue = site.client.get("/console/read-reports?lang=en").text
    assert an.personal_id_number in queue
    assert "I never asked for this" in queue
    [report_id] = re.findall(r'data-report="(\d+)"', queue)
    closed = site.client.post(f"/console/read-reports/{report_id}/close",
                              follow_redirects=False, data={
                                  "outcome": "The police approved your account at your request.",
                                  "csrf_token": site.csrf("/console/read-reports")})
    assert closed.status_code == 303
    assert "No open report." in site.client.get("/console/read-reports?lang=en").text
    assert entry_seq(site, an, "identity.read.report_closed") > 0

    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303
    page = site.client.get("/account?lang=en").text
    assert "Checked" in page
    assert "The police approved your account at your request." in page


def test_a_citizen_cannot_report_their_own_action_another_persons_entry_or_twice(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    own = entry_seq(site, an, "identity.phone.verify")
    status, page = report(site, own)
    assert status == 422
    assert 'role="alert"' in page

    with transaction(site.app.state.session_factory) as session:
        elsewhere = session.execute(select(AuditEntry.seq).where(
            AuditEntry.subject_id != an.personal_id_number)).scalars().first()
    assert elsewhere is not None
    assert report(site, elsewhere)[0] == 404

    approval = entry_seq(site, an, "identity.account.approve")
    assert report(site, approval)[0] == 303
    assert report(site, approval)[0] == 409


def test_only_auditors_see_reports_and_a_report_closes_only_with_a_finding(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    report(site, entry_seq(site, an, "identity.account.approve"))

    site.client.cookies.clear()
    site.sign_in_as(Role.POLICE, Scope.national())
    assert site.client.get("/console/read-reports").status_code == 403

    sign_in_auditor(site)
    [report_id] = re.findall(r'data-report="(\d+)"', site.client.get("/console/read-reports").text)
    empty = site.client.post(f"/console/read-reports/{report_id}/close", data={
        "outcome": "  ", "csrf_token": site.csrf("/console/read-reports")})
    assert empty.status_code == 422
    assert f'id="outcome-{report_id}-error"' in empty.text
    assert f'data-report="{report_id}"' in site.client.get("/console/read-reports").text
