"""Citizen support tickets: opened in the portal or for a hotline caller, routed by topic and
ward, answered in a thread, closed and reopened, escalated when late; agents reach only their
queues within their scope."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from civicstack.cli import app as cli_app
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Permission, Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from civicstack.kit.outbox import OutboxMessage
from civicstack.registry.demo import seed_population, write_demo_population
from civicstack.registry.models import Person, Ward
from civicstack.support import routing, service
from tests.integration.test_identity_web import approved_and_signed_in, citizen_sign_in
from tests.support.people import make_person
from tests.support.web import Site

QUEUE = "/console/support"
ADMIN = Actor("official", "admin", Scope.national(), Role.ADMIN)
AGENT_HANOI = Actor("official", "hotline.hanoi", Scope.province("01"), Role.SUPPORT_AGENT)
AGENT_HCMC = Actor("official", "hotline.hcmc", Scope.province("79"), Role.SUPPORT_AGENT)
# Monday 7 December 2026, 09:00 in Hà Nội: a working week with no holiday.
MONDAY_9AM = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def vn(day: int, hour: int = 10) -> datetime:
    """An instant in December 2026, Hà Nội time."""
    return datetime(2026, 12, day, hour - 7, 0, tzinfo=UTC)


def citizen(an: Person) -> Actor:
    return Actor("citizen", an.personal_id_number)


def new(an: Person, topic: str = "account", ward_code: str = "") -> service.NewTicket:
    return service.NewTicket(an.personal_id_number, topic, "Cannot sign in",
                             "My password is refused.", ward_code)


def wards_of(session: Session, province_code: str) -> list[str]:
    return list(session.execute(select(Ward.code).where(Ward.province_code == province_code)
                                .order_by(Ward.code).limit(3)).scalars())


def emails(session: Session) -> list[OutboxMessage]:
    return list(session.execute(select(OutboxMessage).where(OutboxMessage.channel == "email")
                                .order_by(OutboxMessage.id)).scalars())


def sms_to(session: Session, phone: str) -> list[str]:
    return list(session.execute(select(OutboxMessage.body).where(
        OutboxMessage.channel == "sms", OutboxMessage.recipient == phone)
        .order_by(OutboxMessage.id)).scalars())


# --- the whole round trip through the pages ---------------------------------------------

def open_in_portal(site: Site, **fields: str) -> tuple[int, str]:
    response = site.client.post("/support/tickets", follow_redirects=False, data={
        "topic": "account", "subject": "Cannot sign in on my phone",
        "text": "The app says my password is wrong.", **fields,
        "csrf_token": site.csrf("/support")})
    return response.status_code, response.headers.get("location", response.text)


def test_a_control_character_in_a_ticket_is_refused_and_decomposed_text_kept_composed(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    status, page = open_in_portal(site, text="My password\x00 is refused.")
    assert status == 422
    assert re.search(r'id="text-error"[^>]*>chứa ký tự điều khiển', page)
    status, page = open_in_portal(site, subject="Cannot sign in\x1b[2J")
    assert status == 422
    assert 'id="subject-error"' in page
    status, _ = open_in_portal(site, subject=unicodedata.normalize(
        "NFD", "Không đăng nhập được"), text="Dòng một\r\n\tdòng hai")  # a textarea's
    assert status == 303
    with transaction(site.services.session_factory) as session:
        [ticket] = service.tickets_of(session, an.personal_id_number)
        thread = service.citizen_ticket(session, an.personal_id_number, ticket.id).messages
        assert ticket.subject == "Không đăng nhập được"
        assert thread[0].body == "Dòng một\r\n\tdòng hai"
        with pytest.raises(Invalid, match="control character"):
            service.citizen_reply(session, an.personal_id_number, ticket.id, "thêm\x00")


def test_a_citizen_opens_a_ticket_an_agent_of_her_province_answers_and_she_reads_it(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    status, location = open_in_portal(site)
    assert status == 303
    ticket_id = location.rsplit("/", 1)[1]
    assert "Cannot sign in on my phone" in site.client.get("/support?lang=en").text

    site.client.cookies.clear()
    site.sign_in_as(Role.SUPPORT_AGENT, Scope.province("01"))
    assert f'data-ticket="{ticket_id}"' in site.client.get(QUEUE).text
    page = f"{QUEUE}/tickets/{ticket_id}"
    assert "The app says my password is wrong." in site.client.get(page).text
    assert site.client.post(f"{page}/answer", follow_redirects=False, data={
        "text": "Reset it at /account/password-reset.", "csrf_token": site.csrf(page)},
    ).status_code == 303
    assert site.client.post(f"{page}/answer", follow_redirects=False, data={
        "text": "Second time this week for this caller.", "internal": "1",
        "csrf_token": site.csrf(page)}).status_code == 303

    site.client.cookies.clear()
    assert citizen_sign_in(site, an) == 303
    thread = site.client.get(f"/support/tickets/{ticket_id}?lang=en").text
    assert "Reset it at /account/password-reset." in thread
    assert "Answered" in thread
    assert "Second time this week" not in thread  # internal notes stay among officials
    with transaction(site.services.session_factory) as session:
        notices = sms_to(session, str(an.phone))
    assert any(f"so {ticket_id} da duoc tiep nhan" in n for n in notices)
    assert any(f"so {ticket_id} da co tra loi" in n for n in notices)


def test_a_ticket_with_bad_input_is_refused_next_to_its_fields_and_nothing_is_written(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    status, page = open_in_portal(site, topic="weather", subject=" ", text="")
    assert status == 422
    for name in ("topic", "subject", "text"):
        assert f'id="{name}-error"' in page
    with transaction(site.services.session_factory) as session:
        assert service.tickets_of(session, an.personal_id_number) == []


def test_the_citizen_replies_closes_and_reopens_within_seven_days_but_not_after(
        site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        ticket = service.open_ticket(session, citizen(an), new(an), MONDAY_9AM)
        service.answer(session, ADMIN, ticket.id, "Done.", now=MONDAY_9AM)
        service.citizen_reply(session, an.personal_id_number, ticket.id, "Still broken.")
        assert ticket.state == "assigned"  # back with whoever answered
        service.citizen_close(session, an.personal_id_number, ticket.id, vn(8))
        service.reopen(session, an.personal_id_number, ticket.id, "Broken again.", vn(14))
        assert ticket.state == "assigned"
        assert ticket.resolution_due == date(2026, 12, 17)  # three working days from reopening
        service.close(session, ADMIN, ticket.id, vn(14))
        with pytest.raises(Conflict):
            service.reopen(session, an.personal_id_number, ticket.id, "Again.", vn(22))
        with pytest.raises(Conflict):
            service.citizen_reply(session, an.personal_id_number, ticket.id, "Hello?")
        with pytest.raises(NotFound):  # another citizen's ticket does not exist for them
            service.citizen_ticket(session, "001099000001", ticket.id)


def test_citizens_open_at_most_five_tickets_a_day_in_the_portal(site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        for hour in range(5):
            service.open_ticket(session, citizen(an), new(an), MONDAY_9AM + timedelta(hours=hour))
        with pytest.raises(RateLimited):
            service.open_ticket(session, citizen(an), new(an), MONDAY_9AM + timedelta(hours=6))
        service.open_ticket(session, citizen(an), new(an), MONDAY_9AM + timedelta(hours=25))
        service.open_ticket(session, AGENT_HANOI, new(an), MONDAY_9AM + timedelta(days=1))
        with pytest.raises(Forbidden):  # nor about somebody else
            service.open_ticket(session, Actor("citizen", "001099000001"), new(an))


# --- routing ----------------------------------------------------------------------------

def test_a_ticket_goes_to_the_most_specific_rule_of_its_topic_and_ward_else_national(
        site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        other_ward = wards_of(session, "01")[1]
        saigon_ward = wards_of(session, "79")[0]
        for code, place in (("hanoi", {"province_code": "01"}),
                            ("ward", {"ward_code": other_ward}),
                            ("documents", {})):
            routing.save_queue(session, ADMIN, code, code, Permission.SUPPORT_HANDLE,
                               f"{code}@example.org", **place)
        routing.save_rule(session, ADMIN, "hanoi", province_code="01")
        routing.save_rule(session, ADMIN, "ward", ward_code=other_ward)
        routing.save_rule(session, ADMIN, "documents", topic="documents")

        def routed(topic: str, ward_code: str = "") -> str:
            ticket = service.open_ticket(session, ADMIN, new(an, topic, ward_code))
            return next(q.code for q in routing.repository.queues(session)
                        if q.id == ticket.queue_id)

        assert routed("account") == "hanoi"  # her permanent ward, in Hà Nội
        assert routed("account", other_ward) == "ward"  # the ward chosen beats the province
        assert routed("documents", other_ward) == "documents"  # the topic beats the place
        assert routed("data_read") == "auditors"  # made by the migration
        assert routed("account", saigon_ward) == "national"  # no rule: the national queue
        with pytest.raises(Invalid):
            service.open_ticket(session, ADMIN, new(an, "account", "99999"))


def test_agents_reach_only_tickets_of_their_queues_within_their_scope(
        site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        ticket = service.open_ticket(session, citizen(an), new(an))
        other_ward = wards_of(session, "01")[1]
    page = f"{QUEUE}/tickets/{ticket.id}"
    for scope, reached in ((Scope.province("01"), True), (Scope.province("79"), False),
                           (Scope.ward("01", other_ward), False), (Scope.national(), True)):
        site.client.cookies.clear()
        site.sign_in_as(Role.SUPPORT_AGENT, scope)
        listed = f'data-ticket="{ticket.id}"' in site.client.get(QUEUE).text
        assert listed is reached
        assert site.client.get(page).status_code == (200 if reached else 404)
        if not reached:
            closing = site.client.post(f"{page}/close", data={"csrf_token": site.csrf(QUEUE)})
            assert closing.status_code == 404
    site.client.cookies.clear()
    site.sign_in_as(Role.PROGRAMME_OFFICER, Scope.national())
    assert site.client.get(QUEUE).status_code == 403
    assert site.client.get(page).status_code == 403


def test_a_hotline_agent_opens_a_ticket_for_a_caller_only_within_scope_and_audited(
        site: Site, an: Person) -> None:
    site.sign_in_as(Role.SUPPORT_AGENT, Scope.province("79"))
    form = {"personal_id_number": an.personal_id_number, "topic": "dossier",
            "subject": "Birth registration late", "text": "Caller says it is overdue."}
    hotline = f"{QUEUE}/hotline"
    assert site.client.post(hotline, data={**form, "csrf_token": site.csrf(hotline)},
                            ).status_code == 404  # a caller outside the scope: as if nobody
    site.client.cookies.clear()
    agent = site.sign_in_as(Role.SUPPORT_AGENT, Scope.province("01"))
    missing = site.client.post(hotline, data={**form, "subject": "",
                                              "csrf_token": site.csrf(hotline)})
    assert missing.status_code == 422
    assert 'id="subject-error"' in missing.text
    opened = site.client.post(hotline, follow_redirects=False,
                              data={**form, "csrf_token": site.csrf(hotline)})
    assert opened.status_code == 303
    with transaction(site.services.session_factory) as session:
        [ticket] = service.tickets_of(session, an.personal_id_number)
        assert (ticket.channel, ticket.opened_by) == ("hotline", f"official:{agent.username}")
        actions = set(session.execute(select(AuditEntry.action).where(
            AuditEntry.subject_id == an.personal_id_number)).scalars())
    assert {"registry.person.read", "support.ticket.open"} <= actions


# --- SLAs and escalation ----------------------------------------------------------------

def test_a_late_ticket_escalates_one_level_per_missed_target_and_never_twice(
        site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        routing.save_queue(session, ADMIN, "hanoi", "Hà Nội", Permission.SUPPORT_HANDLE,
                           "lead.hanoi@example.org", province_code="01")
        routing.save_rule(session, ADMIN, "hanoi", province_code="01")
        late = service.open_ticket(session, citizen(an), new(an), MONDAY_9AM)
        on_time = service.open_ticket(session, citizen(an), new(an), MONDAY_9AM)
        service.answer(session, AGENT_HANOI, on_time.id, "Fixed.", now=vn(8))
        # account: a first response by Tuesday 8, a resolution by Thursday 10
        assert (late.first_response_due, late.resolution_due) == (date(2026, 12, 8),
                                                                   date(2026, 12, 10))

        assert service.escalate_late(session, ADMIN, vn(8, 23)) == []  # Tuesday is not over
        [first] = service.escalate_late(session, ADMIN, vn(9))
        assert (first.ticket_id, first.target, first.level) == (late.id, "first_response", 1)
        assert service.escalate_late(session, ADMIN, vn(9, 15)) == []  # never twice
        [second] = service.escalate_late(session, ADMIN, vn(11))
        assert (second.target, second.level) == ("resolution", 2)
        assert service.escalate_late(session, ADMIN, vn(18)) == []
        assert [m.recipient for m in emails(session)] == ["lead.hanoi@example.org",
                                                           "support-lead@civicstack.example"]
        assert (late.escalation_level, on_time.escalation_level) == (2, 0)
        escalations = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "support.ticket.escalate")).scalars().all()
    assert [d["level"] for d in escalations] == [1, 2]


def test_weekends_do_not_count_towards_the_targets(site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        friday = service.open_ticket(session, citizen(an), new(an), vn(4))
        assert friday.first_response_due == date(2026, 12, 7)  # Monday
        assert service.escalate_late(session, ADMIN, vn(6, 22)) == []  # Sunday night


def test_the_escalate_command_escalates_late_tickets_once(
        site: Site, an: Person, data_dir: Path) -> None:
    with transaction(site.services.session_factory) as session:
        service.open_ticket(session, citizen(an), new(an),
                            datetime.now(UTC) - timedelta(days=30))
    runner = CliRunner()
    first = runner.invoke(cli_app, ["support", "escalate"])
    assert first.exit_code == 0, first.output
    assert "2 escalation(s)" in first.output  # both targets were missed long ago
    assert "0 escalation(s)" in runner.invoke(cli_app, ["support", "escalate"]).output


def test_the_queue_shows_escalated_and_late_tickets_first(site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        fresh = service.open_ticket(session, citizen(an), new(an))
        old = service.open_ticket(session, citizen(an), new(an),
                                  datetime.now(UTC) - timedelta(days=30))
        service.escalate_late(session, ADMIN)
    site.sign_in_as(Role.SUPPORT_AGENT, Scope.province("01"))
    page = site.client.get(f"{QUEUE}?lang=en").text
    assert re.findall(r'data-ticket="(\d+)"', page) == [str(old.id), str(fresh.id)]
    assert "escalated, level 2" in page


def test_the_citizen_sees_the_due_dates_and_that_her_late_ticket_was_escalated(
        site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        fresh = service.open_ticket(session, citizen(an), new(an))
        old = service.open_ticket(session, citizen(an), new(an),
                                  datetime.now(UTC) - timedelta(days=30))
        service.escalate_late(session, ADMIN)  # both targets missed: the national lead
    approved_and_signed_in(site, an)
    late = site.client.get(f"/support/tickets/{old.id}?lang=en").text
    assert f"First reply expected by</dt><dd>{old.first_response_due:%d/%m/%Y}" in late
    assert f"Answer expected by</dt><dd>{old.resolution_due:%d/%m/%Y}" in late
    assert 'data-late="overdue"' in late
    assert "Late: passed on to the national support lead" in late
    on_time = site.client.get(f"/support/tickets/{fresh.id}?lang=en").text
    assert f"First reply expected by</dt><dd>{fresh.first_response_due:%d/%m/%Y}" in on_time
    assert "data-late" not in on_time
    assert "passed on to" not in on_time
    vietnamese = site.client.get(f"/support/tickets/{old.id}?lang=vi").text
    assert "Hạn phản hồi lần đầu" in vietnamese
    assert "quá hạn" in vietnamese
    assert "Trễ hạn: đã chuyển lên trưởng bộ phận hỗ trợ quốc gia" in vietnamese


def test_a_caller_without_an_eid_account_gets_no_sms_but_the_ticket_is_kept(
        site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        neighbour = make_person(session, "Trần Thị Bình", date(1985, 3, 2), phone="0987654321")
        service.open_ticket(session, AGENT_HANOI, new(neighbour))
        assert sms_to(session, "0987654321") == []
        assert len(service.tickets_of(session, neighbour.personal_id_number)) == 1


def test_the_demo_seeds_a_hanoi_queue_and_its_tickets_once(site: Site, data_dir: Path) -> None:
    population = write_demo_population(data_dir, 80, seed=7)  # 16 live in Hà Nội
    seed_population(site.services.session_factory, population)
    runner = CliRunner()
    first = runner.invoke(cli_app, ["support", "demo", "--population", str(population)])
    assert first.exit_code == 0, first.output
    assert "3 tickets added" in first.output
    assert "0 tickets added" in runner.invoke(
        cli_app, ["support", "demo", "--population", str(population)]).output
    with transaction(site.services.session_factory) as session:
        listed = service.queue_tickets(session, AGENT_HANOI)
    assert {queue.code for _, queue, _ in listed} == {"hanoi"}
    assert [ticket.escalation_level > 0 for ticket, _, _ in listed].count(True) >= 1


def test_a_ticket_is_assigned_only_to_a_colleague_who_can_reach_it(
        site: Site, an: Person) -> None:
    site.new_official(Role.SUPPORT_AGENT, Scope.province("01"), username="hotro.hanoi")
    site.new_official(Role.SUPPORT_AGENT, Scope.province("79"), username="hotro.hcm")
    site.new_official(Role.POLICE, Scope.national(), username="canhsat")
    with transaction(site.services.session_factory) as session:
        ticket = service.open_ticket(session, citizen(an), new(an))
        for stranger in ("hotro.hcm", "canhsat", "nobody"):
            with pytest.raises(Invalid):
                service.assign(session, AGENT_HANOI, ticket.id, stranger)
        service.assign(session, AGENT_HANOI, ticket.id, "hotro.hanoi")
        assert (ticket.state, ticket.assignee) == ("assigned", "official:hotro.hanoi")
        with pytest.raises(NotFound):
            service.assign(session, AGENT_HCMC, ticket.id)


def test_the_citizen_replies_closes_and_reopens_from_the_ticket_page(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    ticket_id = open_in_portal(site)[1].rsplit("/", 1)[1]
    page = f"/support/tickets/{ticket_id}"

    def act(action: str, text: str = "") -> int:
        return site.client.post(f"{page}/{action}", follow_redirects=False, data={
            "text": text, "csrf_token": site.csrf(page)}).status_code

    empty = site.client.post(f"{page}/reply", data={"text": " ", "csrf_token": site.csrf(page)})
    assert empty.status_code == 422
    assert 'id="text-error"' in empty.text
    assert act("reply", "I also changed my phone.") == 303
    assert act("close") == 303
    assert act("reply", "Hello?") == 409
    assert act("reopen", "It is broken again.") == 303
    assert act("escalate") == 404
    assert "It is broken again." in site.client.get(f"{page}?lang=en").text
    assert site.client.get("/support/tickets/999999").status_code == 404
    assert site.client.post("/support/tickets", data={"topic": "account"}).status_code == 403
