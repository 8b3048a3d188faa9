"""A citizen reports a use of their data they do not recognise: the report is a data_read
support ticket routed to the auditors, who answer in its thread; the citizen reads the finding
next to the entry and in the ticket."""

from __future__ import annotations

import re

from sqlalchemy import select

from civicstack.kit import audit
from civicstack.kit.audit import AUDIT_LOG, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.tlog.note import NoteVerifier
from civicstack.kit.tlog.proof import InclusionProof
from civicstack.kit.transparency import LOG_PUBLISHING, seal_and_witness
from civicstack.registry.models import Person
from tests.integration.test_identity_web import approved_and_signed_in, citizen_sign_in
from tests.support.web import Site

QUEUE = "/console/support"


def entry_seq(site: Site, an: Person, action: str) -> int:
    with transaction(site.services.session_factory) as session:
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


def reported_ticket(site: Site) -> str:
    [ticket_id] = re.findall(r'data-ticket="(\d+)"', site.client.get(QUEUE).text)
    return ticket_id


def answer(site: Site, ticket_id: str, text: str) -> int:
    page = f"{QUEUE}/tickets/{ticket_id}"
    return site.client.post(f"{page}/answer", follow_redirects=False, data={
        "text": text, "csrf_token": site.csrf(page)}).status_code


def test_a_reported_use_reaches_the_auditors_and_their_finding_reaches_the_citizen(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    approval = entry_seq(site, an, "identity.account.approve")

    assert report(site, approval)[0] == 303
    page = site.client.get("/account?lang=en").text
    assert "Reported, being checked" in page
    assert entry_seq(site, an, "support.ticket.open") > approval  # the report is audited

    sign_in_auditor(site)
    queue = site.client.get(f"{QUEUE}?lang=en").text
    assert an.personal_id_number in queue
    assert "A use of my data I do not recognise" in queue
    ticket_id = reported_ticket(site)
    ticket = site.client.get(f"{QUEUE}/tickets/{ticket_id}?lang=en").text
    assert "I never asked for this" in ticket
    assert f"audit:{approval}" in ticket  # the entry reported
    assert answer(site, ticket_id, "The police approved your account at your request.") == 303
    assert entry_seq(site, an, "support.ticket.answer") > 0

    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303
    page = site.client.get("/account?lang=en").text
    assert "Checked" in page
    assert "The police approved your account at your request." in page
    thread = site.client.get(f"/support/tickets/{ticket_id}?lang=en").text
    assert "The police approved your account at your request." in thread


def test_a_citizen_cannot_report_their_own_action_another_persons_entry_or_twice(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    own = entry_seq(site, an, "identity.phone.verify")
    status, page = report(site, own)
    assert status == 422
    assert 'role="alert"' in page

    with transaction(site.services.session_factory) as session:
        elsewhere = session.execute(select(AuditEntry.seq).where(
            AuditEntry.subject_id != an.personal_id_number)).scalars().first()
    assert elsewhere is not None
    assert report(site, elsewhere)[0] == 404

    approval = entry_seq(site, an, "identity.account.approve")
    assert report(site, approval)[0] == 303
    assert report(site, approval)[0] == 409


def test_only_auditors_see_reports_and_a_report_is_answered_only_with_a_finding(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    report(site, entry_seq(site, an, "identity.account.approve"))

    site.client.cookies.clear()
    site.sign_in_as(Role.POLICE, Scope.national())  # works no queue
    assert 'id="no-queue"' in site.client.get(QUEUE).text
    sign_in_auditor(site)
    ticket_id = reported_ticket(site)
    site.client.cookies.clear()
    site.sign_in_as(Role.POLICE, Scope.national())
    assert site.client.get(f"{QUEUE}/tickets/{ticket_id}").status_code == 403

    site.client.cookies.clear()
    site.sign_in_as(Role.SUPPORT_AGENT, Scope.national())  # a queue, but not the auditors'
    assert 'data-ticket="' not in site.client.get(QUEUE).text

    sign_in_auditor(site)
    page = f"{QUEUE}/tickets/{ticket_id}"
    empty = site.client.post(f"{page}/answer", data={
        "text": "  ", "csrf_token": site.csrf(page)})
    assert empty.status_code == 422
    assert 'id="text-error"' in empty.text
    assert f'data-ticket="{ticket_id}"' in site.client.get(QUEUE).text


def test_the_report_form_on_the_page_carries_the_pages_csrf_token(site: Site, an: Person) -> None:
    """The form as the browser has it, not a token borrowed from another form, must be
    accepted: the history macro once rendered an empty token, so every report was refused."""
    approved_and_signed_in(site, an)
    approval = entry_seq(site, an, "identity.account.approve")
    page = site.client.get("/account?lang=en").text
    form = re.search(rf'action="/account/data-uses/{approval}/report">\s*'
                     r'<input type="hidden" name="csrf_token" value="([^"]*)"', page)
    assert form is not None
    assert form.group(1)
    response = site.client.post(f"/account/data-uses/{approval}/report", follow_redirects=False,
                                data={"note": "", "csrf_token": form.group(1)})
    assert response.status_code == 303


def test_each_sealed_use_offers_its_proof_that_the_published_key_verifies(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    approval = entry_seq(site, an, "identity.account.approve")
    assert site.client.get(f"/account/data-uses/{approval}/proof").status_code == 404  # pending
    seal_and_witness(site.services.session_factory, site.services[LOG_PUBLISHING], AUDIT_LOG)

    assert f"/account/data-uses/{approval}/proof" in site.client.get("/account").text
    download = site.client.get(f"/account/data-uses/{approval}/proof")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    key = site.client.get("/.well-known/civicstack/audit-log-key").text
    proof = InclusionProof.parse(download.text)
    proof.verify(NoteVerifier.parse(key))
    assert b"identity.account.approve" in proof.entry
    with transaction(site.services.session_factory) as session:
        someone_elses = audit.record(session, audit.SYSTEM, "registry.person.read",
                                     subject_type="person", subject_id="001090009999",
                                     purpose="a check").seq
    seal_and_witness(site.services.session_factory, site.services[LOG_PUBLISHING], AUDIT_LOG)
    assert site.client.get(f"/account/data-uses/{someone_elses}/proof").status_code == 404
