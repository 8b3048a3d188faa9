"""Task monitoring's rules (issue 9, nq57): the six clear principles, the task's life, daily
progress, overdue tasks in working days, the ranking of agencies and reminders."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.errors import Conflict, Forbidden, Invalid
from civicstack.kit.outbox import OutboxMessage
from civicstack.monitoring import board, service
from civicstack.monitoring.service import EvidenceFile, HandedIn
from civicstack.monitoring.states import State
from tests.support.monitoring import MANAGER, as_official, make_task, new_task, seed_programme
from tests.support.uploads import (
    HTML,
    PDF,
    PDF_OPENING_JAVASCRIPT,
    jpeg_with_html,
    pdf,
    png,
    png_bomb,
)

PNG = png()
PRODUCT = HandedIn(link="https://hanoi.gov.vn/so-hoa/bao-cao.pdf")
FRIDAY = date(2026, 4, 24)  # the deadline before the Hùng Kings' and 30 April-1 May holidays


@pytest.fixture
def seeded(session: Session) -> Session:
    seed_programme(session)
    return session


def update(session: Session, username: str, task_id: int, percent: int | str, day: date,
           files: list[EvidenceFile] | None = None) -> None:
    service.post_update(session, as_official(session, username), task_id, percent,
                        "Đã số hoá 1.200 hồ sơ", files or [], today=day)


def submit(session: Session, username: str, task_id: int, day: date | None = None) -> None:
    service.transition(session, as_official(session, username), task_id, "submit", today=day,
                       product=PRODUCT)


def accept(session: Session, username: str, task_id: int, day: date | None = None) -> None:
    service.transition(session, as_official(session, username), task_id, "accept", today=day,
                       checked=True)


def hand_in(session: Session, task_id: int, day: date, accept_it: bool = True) -> None:
    submit(session, "reporter.hn", task_id, day)
    if accept_it:
        accept(session, "acceptor", task_id, day)


# --- the six clear principles ---------------------------------------------------------------

def test_a_task_with_all_six_principles_is_created_open_and_audited(seeded: Session) -> None:
    task = make_task(seeded)
    assert (task.state, task.percent, task.coordinating_agencies) == ("open", 0, ["BKHCN"])
    assert seeded.execute(select(AuditEntry).where(
        AuditEntry.action == "monitoring.task.create")).scalar_one().subject_id == str(task.id)


@pytest.mark.parametrize(("field", "blank"), [
    ("responsible_official", {"responsible_official": ""}),
    ("work", {"work": " "}),
    ("deadline", {"deadline": ""}),
    ("lead_agency", {"lead_agency": ""}),
    ("deliverable", {"deliverable": ""}),
    ("accepting_authority", {"accepting_official": ""}),
])
def test_a_task_missing_any_of_the_six_principles_is_refused_naming_it(
        seeded: Session, field: str, blank: dict[str, str]) -> None:
    with pytest.raises(Invalid) as refused:
        service.create_task(seeded, MANAGER, "NQ57", replace(new_task(), **blank))
    assert field in {error.field for error in refused.value.errors}


def test_the_responsible_official_belongs_to_the_lead_agency_and_never_accepts_their_task(
        seeded: Session) -> None:
    with pytest.raises(Invalid) as refused:
        make_task(seeded, responsible="reporter.hcm")
    assert refused.value.errors[0].field == "responsible_official"
    with pytest.raises(Invalid) as refused:
        make_task(seeded, accepting_official="reporter.hn")
    assert refused.value.errors[0].field == "accepting_authority"
    with pytest.raises(Invalid) as refused:
        make_task(seeded, accepting_agency="BKHCN")  # and an official: two authorities
    assert refused.value.errors[0].field == "accepting_authority"


def test_a_deadline_before_the_programme_and_a_repeated_code_are_refused(
        seeded: Session) -> None:
    make_task(seeded)
    with pytest.raises(Invalid) as refused:
        make_task(seeded, deadline=date(2025, 12, 31))
    assert {e.field for e in refused.value.errors} == {"code", "deadline"}


def test_only_managers_within_scope_create_tasks(seeded: Session) -> None:
    with pytest.raises(Forbidden):
        service.create_task(seeded, as_official(seeded, "reporter.hn"), "NQ57", new_task())
    with pytest.raises(Forbidden):  # a Hà Nội programme officer, for a Hồ Chí Minh task
        service.create_task(seeded, as_official(seeded, "officer.hn"), "NQ57", new_task(
            responsible="reporter.hcm", lead="UBND-HCM"))
    assert service.create_task(seeded, as_official(seeded, "officer.hn"), "NQ57",
                               new_task()).code == "T1"


# --- daily progress -------------------------------------------------------------------------

def test_the_first_update_starts_the_task_and_a_second_officials_of_the_same_day_is_kept_too(
        seeded: Session) -> None:
    task = make_task(seeded)
    update(seeded, "reporter.hn", task.id, 20, date(2026, 3, 2),
           [EvidenceFile("bien-ban.pdf", "application/pdf", PDF)])
    service.post_update(seeded, as_official(seeded, "colleague.hn"), task.id, 30,
                        "Đã kiểm tra 300 hồ sơ", [EvidenceFile("anh.png", "image/png", PNG)],
                        today=date(2026, 3, 2))
    posted = service.repository.updates_of(seeded, task.id)
    assert [(u.percent, u.posted_by, u.text) for u in posted] == [
        (30, "official:colleague.hn", "Đã kiểm tra 300 hồ sơ"),
        (20, "official:reporter.hn", "Đã số hoá 1.200 hồ sơ")]
    assert [[e.filename for e in service.repository.evidence_of(seeded, [u.id])]
            for u in posted] == [["anh.png"], ["bien-ban.pdf"]]
    assert (task.state, task.percent) == ("in_progress", 30)
    assert [e.action for e in service.repository.events_of(seeded, task.id)] == ["start"]


@pytest.mark.parametrize("percent", ["101", "-1", "half", ""])
def test_a_percent_outside_0_to_100_is_refused(seeded: Session, percent: str) -> None:
    task = make_task(seeded)
    with pytest.raises(Invalid) as refused:
        update(seeded, "reporter.hn", task.id, percent, date(2026, 3, 2))
    assert refused.value.errors[0].field == "percent"


def test_progress_never_goes_below_an_earlier_day(seeded: Session) -> None:
    task = make_task(seeded)
    update(seeded, "reporter.hn", task.id, 40, date(2026, 3, 2))
    with pytest.raises(Invalid, match="lower"):
        update(seeded, "reporter.hn", task.id, 35, date(2026, 3, 3))
    update(seeded, "reporter.hn", task.id, 40, date(2026, 3, 3))


def test_evidence_must_be_a_small_pdf_jpeg_or_png_and_at_most_five_a_day(
        seeded: Session) -> None:
    task = make_task(seeded)
    for bad in (EvidenceFile("x.exe", "application/pdf", b"MZ\x90"),
                EvidenceFile("big.pdf", "application/pdf", PDF + b"0" * (5 * 1024 * 1024)),
                EvidenceFile("a.pdf", "text/plain", PDF)):
        with pytest.raises(Invalid) as refused:
            update(seeded, "reporter.hn", task.id, 10, date(2026, 3, 2), [bad])
        assert refused.value.errors[0].field == "evidence"
    update(seeded, "reporter.hn", task.id, 10, date(2026, 3, 2),
           [EvidenceFile(f"{n}.pdf", "application/pdf", PDF) for n in range(5)])
    with pytest.raises(Invalid):  # a second update the same day shares the day's five
        update(seeded, "reporter.hn", task.id, 10, date(2026, 3, 2),
               [EvidenceFile("6.pdf", "application/pdf", PDF)])


@pytest.mark.parametrize("hostile", [
    EvidenceFile("mo-ra.pdf", "application/pdf", PDF_OPENING_JAVASCRIPT),
    EvidenceFile("trang-web.pdf", "application/pdf", pdf(after=HTML)),
    EvidenceFile("bom.png", "image/png", png_bomb()),
], ids=["open-action-script", "pdf-html-polyglot", "png-bomb"])
def test_hostile_evidence_is_refused(seeded: Session, hostile: EvidenceFile) -> None:
    task = make_task(seeded)
    with pytest.raises(Invalid) as refused:
        update(seeded, "reporter.hn", task.id, 10, date(2026, 3, 2), [hostile])
    assert refused.value.errors[0].field == "evidence"


def test_an_evidence_photo_is_kept_without_the_web_page_hidden_in_it(seeded: Session) -> None:
    task = make_task(seeded)
    update(seeded, "reporter.hn", task.id, 10, date(2026, 3, 2),
           [EvidenceFile("anh.jpg", "image/jpeg", jpeg_with_html())])
    posted = service.repository.updates_of(seeded, task.id)
    kept = service.repository.evidence_of(seeded, [posted[0].id])[0]
    assert kept.content.startswith(b"\xff\xd8\xff")
    assert b"<script" not in kept.content
    assert kept.size == len(kept.content)


def test_only_the_responsible_official_and_the_lead_agency_post_progress(
        seeded: Session) -> None:
    task = make_task(seeded)
    for username in ("reporter.hcm", "outsider", "acceptor"):
        with pytest.raises(Forbidden):
            update(seeded, username, task.id, 10, date(2026, 3, 2))


# --- the task's life ------------------------------------------------------------------------

def test_only_the_accepting_authority_accepts_or_returns_and_a_return_needs_a_reason(
        seeded: Session) -> None:
    task = make_task(seeded)
    reporter, acceptor = as_official(seeded, "reporter.hn"), as_official(seeded, "acceptor")
    with pytest.raises(Conflict):
        service.transition(seeded, acceptor, task.id, "accept", checked=True)
    submit(seeded, "reporter.hn", task.id, date(2026, 6, 1))
    with pytest.raises(Forbidden):
        service.transition(seeded, reporter, task.id, "accept", checked=True)
    with pytest.raises(Forbidden):
        service.transition(seeded, MANAGER, task.id, "accept", checked=True)
    with pytest.raises(Invalid):
        service.transition(seeded, acceptor, task.id, "return", " ")
    service.transition(seeded, acceptor, task.id, "return", "Thiếu biên bản nghiệm thu")
    assert task.state == State.RETURNED
    submit(seeded, "reporter.hn", task.id, date(2026, 6, 2))
    accept(seeded, "acceptor", task.id, date(2026, 6, 3))
    assert (task.state, task.submitted_on, task.percent) == ("accepted", date(2026, 6, 2), 100)
    assert [e.action for e in service.repository.events_of(seeded, task.id)] == [
        "submit", "return", "submit", "accept"]
    assert seeded.execute(select(AuditEntry.action).where(
        AuditEntry.action == "monitoring.task.return")).scalar_one()


def test_any_member_of_an_accepting_agency_accepts(seeded: Session) -> None:
    task = make_task(seeded, accepting_official="", accepting_agency="BKHCN")
    submit(seeded, "reporter.hn", task.id)
    with pytest.raises(Forbidden):
        accept(seeded, "acceptor", task.id)
    accept(seeded, "reporter.bkhcn", task.id)
    assert task.state == "accepted"


def test_the_official_who_handed_in_a_product_never_accepts_nor_returns_it(
        seeded: Session) -> None:
    """colleague.hn works for the lead agency and is the accepting official: what they hand
    in needs another pair of eyes; what reporter.hn hands in, they may accept."""
    task = make_task(seeded, accepting_official="colleague.hn")
    submit(seeded, "colleague.hn", task.id, date(2026, 6, 1))
    for action in ("accept", "return"):
        with pytest.raises(Forbidden, match="another official of the accepting authority"):
            service.transition(seeded, as_official(seeded, "colleague.hn"), task.id, action,
                               "Chưa đủ", checked=True)
    assert task.state == "submitted"
    other = make_task(seeded, "T2", accepting_official="colleague.hn")
    submit(seeded, "reporter.hn", other.id, date(2026, 6, 1))
    accept(seeded, "colleague.hn", other.id, date(2026, 6, 2))
    assert other.state == "accepted"


def test_the_responsible_official_in_the_accepting_agency_never_accepts_their_own_task(
        seeded: Session) -> None:
    task = make_task(seeded, accepting_official="", accepting_agency="UBND-HCM")
    service.add_member(seeded, MANAGER, "UBND-HCM", "reporter.hn", "hn@example.gov.vn")
    submit(seeded, "colleague.hn", task.id)
    with pytest.raises(Forbidden, match="responsible for this task"):
        accept(seeded, "reporter.hn", task.id)
    accept(seeded, "reporter.hcm", task.id)


@pytest.mark.parametrize("product", [
    HandedIn(), HandedIn(link="  "), HandedIn(link="javascript:alert(1)"),
    HandedIn(link="https://" + "a" * 500),
    HandedIn(file=EvidenceFile("bao-cao.exe", "application/pdf", b"MZ\x90")),
    HandedIn(link="https://hanoi.gov.vn/a", file=EvidenceFile("a.pdf", "application/pdf", PDF)),
], ids=["nothing", "blank-link", "script-link", "long-link", "bad-file", "both"])
def test_a_task_is_handed_in_only_with_a_product_file_or_link(seeded: Session,
                                                                product: HandedIn) -> None:
    task = make_task(seeded)
    with pytest.raises(Invalid) as refused:
        service.transition(seeded, as_official(seeded, "reporter.hn"), task.id, "submit",
                           product=product)
    assert refused.value.errors[0].field in {"product", "product_link"}
    assert task.state == "open"
    assert service.repository.products_of(seeded, task.id) == []


def test_the_product_handed_in_is_kept_each_time(seeded: Session) -> None:
    task = make_task(seeded)
    service.transition(seeded, as_official(seeded, "reporter.hn"), task.id, "submit",
                       product=HandedIn(file=EvidenceFile("bao-cao.pdf", "application/pdf",
                                                          PDF)))
    service.transition(seeded, as_official(seeded, "acceptor"), task.id, "return", "Thiếu")
    submit(seeded, "colleague.hn", task.id)
    kept = service.repository.products_of(seeded, task.id)
    assert [(p.link, p.filename, p.handed_in_by) for p in kept] == [
        (PRODUCT.link, None, "official:colleague.hn"),
        (None, "bao-cao.pdf", "official:reporter.hn")]
    assert service.product_file(seeded, as_official(seeded, "acceptor"),
                                kept[1].id).content == PDF
    with pytest.raises(Forbidden):
        service.product_file(seeded, as_official(seeded, "outsider"), kept[1].id)


def test_accepting_asks_the_authority_to_confirm_the_product_was_checked(
        seeded: Session) -> None:
    task = make_task(seeded)
    submit(seeded, "reporter.hn", task.id)
    with pytest.raises(Invalid) as refused:
        service.transition(seeded, as_official(seeded, "acceptor"), task.id, "accept")
    assert refused.value.errors[0].field == "checked"
    assert task.state == "submitted"
    accept(seeded, "acceptor", task.id)
    assert (task.state, task.percent) == ("accepted", 100)


# --- overdue, in working days ---------------------------------------------------------------

def test_days_overdue_are_working_days_skipping_weekends_and_public_holidays(
        seeded: Session) -> None:
    task = make_task(seeded, deadline=FRIDAY)
    assert not service.is_overdue(task, FRIDAY)
    assert service.is_overdue(task, date(2026, 4, 25))
    assert service.days_overdue(task, date(2026, 4, 25)) == 0  # Saturday: late, no working day
    # 27 April (Hùng Kings, observed), 30 April and 1 May are holidays: 28, 29 April, 4, 5 May
    assert service.days_overdue(task, date(2026, 5, 5)) == 4


def test_a_submitted_task_is_not_overdue_but_a_returned_one_is_again(seeded: Session) -> None:
    task = make_task(seeded, deadline=FRIDAY)
    late = date(2026, 5, 5)
    hand_in(seeded, task.id, date(2026, 4, 29), accept_it=False)
    assert not service.is_overdue(task, late)
    service.transition(seeded, as_official(seeded, "acceptor"), task.id, "return", "Chưa đủ")
    assert service.days_overdue(task, late) == 4
    assert not service.completed_on_time(task)


def test_the_board_counts_overdue_tasks_and_lists_them_most_late_first(
        seeded: Session) -> None:
    for code, deadline in (("A", FRIDAY), ("B", date(2026, 5, 4)), ("C", date(2026, 6, 1))):
        make_task(seeded, code, deadline=deadline)
    found = board.board(seeded, MANAGER, today=date(2026, 5, 5))
    assert [(row.task.code, row.days_overdue, row.lead.code) for row in found.overdue] == [
        ("A", 4, "UBND-HN"), ("B", 1, "UBND-HN")]
    assert found.tasks == 3


def test_a_province_manager_sees_only_tasks_led_in_its_province(seeded: Session) -> None:
    make_task(seeded, "HN-1")
    make_task(seeded, "HCM-1", responsible="reporter.hcm", lead="UBND-HCM")
    make_task(seeded, "BKHCN-1", responsible="reporter.bkhcn", lead="BKHCN")
    officer = as_official(seeded, "officer.hn")
    assert [t.code for t in service.visible_tasks(seeded, officer)] == ["HN-1"]
    assert len(service.visible_tasks(seeded, MANAGER)) == 3
    with pytest.raises(Forbidden):
        service.visible_tasks(seeded, as_official(seeded, "reporter.hn"))


# --- ranking --------------------------------------------------------------------------------

def test_agencies_rank_by_on_time_completion_rate_and_equal_figures_share_a_place(
        seeded: Session) -> None:
    today = date(2026, 7, 1)
    # Hà Nội: 2 due, both accepted on time -> 100 %; Hồ Chí Minh: the same -> shares 1st.
    for code, responsible, lead in (("HN", "reporter.hn", "UBND-HN"),
                                    ("HCM", "reporter.hcm", "UBND-HCM")):
        for n in (1, 2):
            task = make_task(seeded, f"{code}-{n}", responsible, lead, date(2026, 6, 1))
            submit(seeded, responsible, task.id, date(2026, 5, 29))
            accept(seeded, "acceptor", task.id, date(2026, 6, 5))
    # The ministry: one on time, one handed in late, one overdue, one not yet due -> 1/3.
    ministry = [make_task(seeded, f"B-{n}", "reporter.bkhcn", "BKHCN", deadline)
                for n, deadline in enumerate((date(2026, 6, 1), date(2026, 6, 1),
                                              date(2026, 6, 1), date(2026, 9, 1)))]
    for task, day in ((ministry[0], date(2026, 6, 1)), (ministry[1], date(2026, 6, 2))):
        submit(seeded, "reporter.bkhcn", task.id, day)
        accept(seeded, "acceptor", task.id, day)
    ranked = board.board(seeded, MANAGER, today=today).ranking
    assert [(r.position, r.agency.code, r.due, r.on_time, r.overdue) for r in ranked] == [
        (1, "UBND-HCM", 2, 2, 0), (1, "UBND-HN", 2, 2, 0), (3, "BKHCN", 3, 1, 1)]
    assert ranked[2].rate == pytest.approx(1 / 3)


def test_progress_by_agency_averages_the_latest_percent(seeded: Session) -> None:
    first, second = make_task(seeded, "A"), make_task(seeded, "B")
    update(seeded, "reporter.hn", first.id, 60, date(2026, 3, 2))
    update(seeded, "reporter.hn", second.id, 20, date(2026, 3, 2))
    progress = board.board(seeded, MANAGER, today=date(2026, 3, 2)).progress
    assert [(p.agency.code, p.tasks, p.average_percent) for p in progress] == [
        ("UBND-HN", 2, 40.0)]


# --- reminders ------------------------------------------------------------------------------

def test_reminders_go_by_outbox_to_overdue_and_due_soon_tasks_once_a_day(
        seeded: Session) -> None:
    make_task(seeded, "LATE", deadline=FRIDAY)
    make_task(seeded, "SOON", deadline=date(2026, 5, 7))
    make_task(seeded, "LATER", deadline=date(2026, 6, 30))
    today = date(2026, 5, 5)
    sent = service.remind(seeded, MANAGER, today)
    assert sorted(r.recipient for r in sent) == ["reporter.hn@example.gov.vn"] * 2
    assert service.remind(seeded, MANAGER, today) == []  # no spam: once a day per task
    assert len(service.remind(seeded, MANAGER, date(2026, 5, 6))) == 2
    messages = seeded.execute(select(OutboxMessage).where(
        OutboxMessage.channel == "email")).scalars().all()
    assert len(messages) == 4
    assert "quá hạn 4 ngày làm việc" in messages[0].body
    with pytest.raises(Forbidden):
        service.remind(seeded, as_official(seeded, "reporter.hn"), today)


def test_a_ward_scoped_manager_oversees_no_task(seeded: Session) -> None:
    make_task(seeded)
    ward_officer = replace(MANAGER, scope=Scope.ward("01", "00004"), role=Role.ADMIN)
    assert service.visible_tasks(seeded, ward_officer) == []


def test_an_agency_needs_a_known_province_and_only_managers_add_agencies(
        seeded: Session) -> None:
    with pytest.raises(Invalid) as refused:
        service.add_agency(seeded, MANAGER, "UBND-99", "UBND tỉnh X", "province", "99")
    assert refused.value.errors[0].field == "province_code"
    with pytest.raises(Invalid):
        service.add_agency(seeded, MANAGER, "UBND-X", "UBND tỉnh X", "province")
    with pytest.raises(Forbidden):
        service.add_agency(seeded, as_official(seeded, "reporter.hn"), "BYT", "Bộ Y tế",
                           "ministry")
    with pytest.raises(Forbidden):  # a Hà Nội officer cannot staff a ministry
        service.add_member(seeded, as_official(seeded, "officer.hn"), "BKHCN", "outsider",
                           "outsider@example.gov.vn")


@pytest.mark.parametrize("text", ["  ", "x" * 4001])
def test_an_update_says_what_was_done_in_at_most_4000_characters(seeded: Session,
                                                                 text: str) -> None:
    task = make_task(seeded)
    with pytest.raises(Invalid) as refused:
        service.post_update(seeded, as_official(seeded, "reporter.hn"), task.id, 10, text, [],
                            today=date(2026, 3, 2))
    assert refused.value.errors[0].field == "text"
