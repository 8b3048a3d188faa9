"""Issue 21, finding 4: the officials' dossier inbox on 1,000 dossiers. Paging reaches every
dossier of a queue (no silent stop at 200), a search finds by receipt code, ID number or name
(with or without diacritics), the queues' counts do not move with the filter, applicants are
shown by their names (each an audited read), and nothing outside the official's scope shows.
On both databases."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.services import service
from civicstack.services.models import Dossier
from civicstack.services.service import InboxRequest, Queue
from civicstack.services.states import OPEN, State
from tests.support.inbox import TODAY, expected, thousand_dossiers
from tests.support.services import CLERK_HANOI
from tests.support.web import Site


def every_page(session: Session, request: InboxRequest) -> list[str]:
    first = service.inbox_page(session, CLERK_HANOI, request)
    found = [d.receipt_code for d in first.dossiers]
    for number in range(2, first.pages + 1):
        page = service.inbox_page(session, CLERK_HANOI,
                                  InboxRequest(request.queue, request.state, request.search,
                                               request.sort, number))
        found.extend(d.receipt_code for d in page.dossiers)
    assert len(found) == first.total
    return found


def test_paging_reaches_every_dossier_of_each_queue_in_order(session: Session) -> None:
    rows, _ = thousand_dossiers(session)
    everything = expected(rows, OPEN | {State.APPROVED})
    assert len(everything) > 200  # the old inbox stopped there without a word

    found = every_page(session, InboxRequest(Queue.ALL))
    assert len(found) == len(set(found))  # no dossier on two pages
    assert set(found) == everything
    due = [session.scalars(select(Dossier.due_on).where(Dossier.receipt_code == code)).one()
           for code in found]
    assert due == sorted(due)

    by_submission = every_page(session, InboxRequest(Queue.ALL, sort="received"))
    assert set(by_submission) == everything
    submitted = {row["receipt_code"]: row["submitted_at"] for row in rows}
    assert [submitted[c] for c in by_submission] == sorted(submitted[c] for c in by_submission)

    supplements = every_page(session, InboxRequest(Queue.SUPPLEMENT))
    assert set(supplements) == expected(rows, frozenset({State.SUPPLEMENT_REQUESTED}))
    refused = every_page(session, InboxRequest(Queue.ALL, state=State.REFUSED))
    assert set(refused) == expected(rows, frozenset({State.REFUSED}))


def test_queue_counts_are_the_scopes_whatever_the_filter(session: Session) -> None:
    rows, _ = thousand_dossiers(session)
    overdue = {row["receipt_code"] for row in rows if row["province_code"] == "01"
               and State(row["state"]) in OPEN and row["due_on"] < TODAY}
    assert overdue  # the synthetic data leaves some open dossiers past their due date
    want = {
        Queue.NEW: len(expected(rows, frozenset({State.SUBMITTED}))),
        Queue.IN_PROGRESS: len(expected(rows, frozenset(
            {State.RECEIVED, State.IN_PROCESSING, State.SUPPLEMENTED}))),
        Queue.SUPPLEMENT: len(expected(rows, frozenset({State.SUPPLEMENT_REQUESTED}))),
        Queue.OVERDUE: len(overdue), Queue.MINE: 0,
        Queue.ALL: len(expected(rows, OPEN | {State.APPROVED}))}
    for request in (InboxRequest(), InboxRequest(Queue.NEW), InboxRequest(state=State.REFUSED),
                    InboxRequest(Queue.OVERDUE, search="mai"), InboxRequest(page=3)):
        assert service.inbox_page(session, CLERK_HANOI, request).counts == want
    assert set(every_page(session, InboxRequest(Queue.OVERDUE))) == overdue


def test_search_finds_by_receipt_code_id_number_and_name_with_or_without_diacritics(
        session: Session) -> None:
    rows, people = thousand_dossiers(session)
    mai, an, mai_in_hcmc = people[0], people[1], people[-1]
    one = next(row for row in rows if row["province_code"] == "01"
               and State(row["state"]) in OPEN)
    code = one["receipt_code"]
    for typed in (code, code.lower(), code[-8:]):
        assert code in every_page(session, InboxRequest(search=typed))

    of_an = expected(rows, OPEN | {State.APPROVED}, applicant_pid=an.personal_id_number)
    assert set(every_page(session, InboxRequest(search=an.personal_id_number))) == of_an
    of_mai = expected(rows, OPEN | {State.APPROVED}, applicant_pid=mai.personal_id_number)
    for typed in ("Trần Thị Mai", "tran thi mai", "THI MAI", "mai tran", "Mai"):
        assert set(every_page(session, InboxRequest(search=typed))) == of_mai, typed
    assert set(every_page(session, InboxRequest(search="Hoang Duc"))) == expected(
        rows, OPEN | {State.APPROVED}, applicant_pid=people[2].personal_id_number)
    assert every_page(session, InboxRequest(search=mai_in_hcmc.personal_id_number)) == []
    assert every_page(session, InboxRequest(search="100%_")) == []  # LIKE's wildcards, typed


def test_applicants_are_shown_by_name_each_an_audited_read(session: Session) -> None:
    _, people = thousand_dossiers(session)
    page = service.inbox_page(session, CLERK_HANOI, InboxRequest(search="Nguyen Van An"))
    assert page.dossiers
    assert page.applicant_names == {people[1].personal_id_number: "Nguyễn Văn An"}
    listed = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "registry.person.listed",
        AuditEntry.subject_id == people[1].personal_id_number)).all()
    assert [(e.actor, e.purpose) for e in listed] == [
        ("official:clerk-hanoi", service.PURPOSE_INBOX)]


@pytest.mark.parametrize("page", [1, 7])
def test_the_console_inbox_says_page_n_of_m_and_links_the_next(site: Site, page: int) -> None:
    with transaction(site.services.session_factory) as session:
        rows, _ = thousand_dossiers(session)
        total = session.scalar(select(func.count()).select_from(Dossier))
    assert total == 1000
    everything = expected(rows, OPEN | {State.APPROVED})
    pages = -(-len(everything) // service.INBOX_PAGE_SIZE)
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    html = site.client.get(f"/console/dossiers?page={page}&lang=vi").text
    assert f"Trang {page} / {pages}" in html
    assert f"{len(everything)} hồ sơ" in html
    assert re.search(r'id="queue-overdue"[^>]*>Quá hạn <span class="badge">\d+', html)
    assert "Trần Thị Mai" in html or "Nguyễn Văn An" in html  # names, not only numbers
    assert ('rel="next"' in html) == (page < pages)
    searched = site.client.get("/console/dossiers?q=pham+thu+ha&lang=vi").text
    names = set(re.findall(r'class="applicant-name">([^<]*)<', searched))
    assert names == {"Phạm Thu Hà"}
