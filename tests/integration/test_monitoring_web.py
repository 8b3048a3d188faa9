"""Monitoring in the console and on the command line: daily updates with evidence, the
authority's decision, the leaders' board and its reports, reminders, spreadsheet import and
export, and the NQ57 demo; and the refusals (permission, scope, bad input, CSRF)."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from civicstack.cli import app
from civicstack.identity.demo import ensure_demo_officials
from civicstack.kit import calendar
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.cli_support import CLI_ACTOR, cli_transaction
from civicstack.kit.db import transaction
from civicstack.kit.outbox import OutboxMessage
from civicstack.monitoring import board, repository, service, spreadsheet
from civicstack.monitoring.models import Task
from tests.support.monitoring import MANAGER, PEOPLE, as_official, make_task, seed_programme
from tests.support.uploads import PDF
from tests.support.web import Site

runner = CliRunner()


def signed_in(site: Site, username: str) -> None:
    role, scope, _ = PEOPLE[username]
    site.sign_in(site.new_official(role, scope, username))


def seeded_task(site: Site, overdue: bool = False) -> int:
    """NQ57 with one Hà Nội task for reporter.hn, accepted by `acceptor`."""
    with transaction(site.services.session_factory) as session:
        seed_programme(session)
        deadline = calendar.today() - timedelta(days=10 if overdue else -30)
        return make_task(session, deadline=deadline).id


def task_row(site: Site, task_id: int) -> Task:
    with transaction(site.services.session_factory) as session:
        found = repository.task(session, task_id)
        assert found is not None
        session.expunge(found)
        return found


def post_update(site: Site, task_id: int, percent: str, files: list[tuple[str, bytes, str]],
                csrf: str | None = None) -> httpx.Response:
    page = f"/console/monitoring/tasks/{task_id}"
    return site.client.post(f"{page}/updates", follow_redirects=False, data={
        "percent": percent, "text": "Đã số hoá 1.200 hồ sơ",
        "csrf_token": site.csrf(page) if csrf is None else csrf},
        files=[("evidence", f) for f in files])


# --- daily updates --------------------------------------------------------------------------

def test_the_responsible_official_posts_a_daily_update_with_evidence(site: Site) -> None:
    signed_in(site, "reporter.hn")
    task_id = seeded_task(site)
    response = post_update(site, task_id, "35", [("bien-ban.pdf", PDF, "application/pdf")])
    assert response.status_code == 303
    page = site.client.get(f"/console/monitoring/tasks/{task_id}").text
    assert 'id="task-percent">35%' in page
    assert "bien-ban.pdf" in page
    evidence = re.search(r'href="(/console/monitoring/evidence/\d+)"', page)
    assert evidence
    assert site.client.get(evidence.group(1)).content == PDF
    assert task_row(site, task_id).state == "in_progress"


def test_a_bad_percent_and_a_bad_file_are_shown_next_to_their_fields_and_nothing_is_saved(
        site: Site) -> None:
    signed_in(site, "reporter.hn")
    task_id = seeded_task(site)
    refused = post_update(site, task_id, "120", [])
    assert refused.status_code == 422
    assert 'id="percent-error"' in refused.text
    refused = post_update(site, task_id, "20", [("virus.pdf", b"MZ\x90", "application/pdf")])
    assert refused.status_code == 422
    assert 'id="evidence-error"' in refused.text
    assert task_row(site, task_id).percent == 0


def test_an_update_without_the_form_token_is_refused(site: Site) -> None:
    signed_in(site, "reporter.hn")
    task_id = seeded_task(site)
    assert post_update(site, task_id, "10", [], csrf="forged").status_code == 403


def test_an_official_outside_the_task_can_neither_read_nor_update_it(site: Site) -> None:
    signed_in(site, "outsider")
    task_id = seeded_task(site)
    assert site.client.get(f"/console/monitoring/tasks/{task_id}").status_code == 403
    assert post_update(site, task_id, "10", [],
                       csrf=site.csrf("/console/monitoring/mine")).status_code == 403
    assert task_row(site, task_id).percent == 0


def test_the_accepting_authority_returns_a_deliverable_only_with_a_reason(site: Site) -> None:
    signed_in(site, "acceptor")
    task_id = seeded_task(site)
    with transaction(site.services.session_factory) as session:
        service.transition(session, as_official(session, "reporter.hn"), task_id, "submit",
                           product=service.HandedIn(link="https://hanoi.gov.vn/bao-cao"))
    page = f"/console/monitoring/tasks/{task_id}"
    refused = site.client.post(f"{page}/actions/return", data={
        "reason": "", "csrf_token": site.csrf(page)})
    assert refused.status_code == 422
    assert 'id="reason-error"' in refused.text
    assert site.client.post(f"{page}/actions/return", follow_redirects=False, data={
        "reason": "Thiếu biên bản", "csrf_token": site.csrf(page)}).status_code == 303
    assert task_row(site, task_id).state == "returned"


def act(site: Site, task_id: int, action: str, data: dict[str, str] | None = None,
        files: list[tuple[str, tuple[str, bytes, str]]] | None = None) -> httpx.Response:
    page = f"/console/monitoring/tasks/{task_id}"
    return site.client.post(f"{page}/actions/{action}", follow_redirects=False,
                            data={**(data or {}), "csrf_token": site.csrf(page)}, files=files)


def test_four_eyes_the_official_who_handed_in_is_refused_next_to_the_accept_button(
        site: Site) -> None:
    """colleague.hn works for the lead agency and accepts the task: in two clicks they used
    to hand in and accept their own work."""
    signed_in(site, "colleague.hn")
    with transaction(site.services.session_factory) as session:
        seed_programme(session)
        task_id = make_task(session, accepting_official="colleague.hn").id
    assert act(site, task_id, "submit", {"product_link": "https://hanoi.gov.vn/bc"}
               ).status_code == 303
    page = site.client.get(f"/console/monitoring/tasks/{task_id}").text
    assert 'id="four-eyes"' in page.split('id="task-actions"')[1]
    refused = act(site, task_id, "accept", {"checked": "yes"})
    assert refused.status_code == 403
    actions = refused.text.split('id="task-actions"')[1]
    assert "một cán bộ khác của cơ quan nghiệm thu" in actions
    assert task_row(site, task_id).state == "submitted"


def test_handing_in_needs_a_product_and_accepting_a_confirmation(site: Site) -> None:
    role, scope, _ = PEOPLE["acceptor"]
    acceptor = site.new_official(role, scope, "acceptor")
    signed_in(site, "reporter.hn")
    task_id = seeded_task(site)
    refused = act(site, task_id, "submit")
    assert refused.status_code == 422
    assert 'id="product-error"' in refused.text
    assert act(site, task_id, "submit", files=[
        ("product_file", ("bao-cao.pdf", PDF, "application/pdf"))]).status_code == 303
    page = site.client.get(f"/console/monitoring/tasks/{task_id}").text
    product = re.search(r'href="(/console/monitoring/products/\d+)"', page)
    assert product
    assert site.client.get(product.group(1)).content == PDF
    site.sign_in(acceptor)
    unconfirmed = act(site, task_id, "accept")
    assert unconfirmed.status_code == 422
    assert 'id="checked-error"' in unconfirmed.text
    assert 'id="checked" name="checked" type="checkbox"' in unconfirmed.text
    assert site.client.get(product.group(1)).content == PDF  # the authority opens it
    assert act(site, task_id, "accept", {"checked": "yes"}).status_code == 303
    assert task_row(site, task_id).state == "accepted"


def test_the_task_page_shows_every_update_as_history(site: Site) -> None:
    signed_in(site, "reporter.hn")
    task_id = seeded_task(site)
    with transaction(site.services.session_factory) as session:
        service.post_update(session, as_official(session, "colleague.hn"), task_id, 10,
                            "Đã tiếp nhận 300 hồ sơ", [])
    assert post_update(site, task_id, "20", []).status_code == 303
    history = site.client.get(f"/console/monitoring/tasks/{task_id}").text.split(
        'id="task-updates"')[1].split("</table>")[0]
    assert history.count("<tr>") == 3  # the header and both updates of the day
    assert "Đã tiếp nhận 300 hồ sơ" in history
    assert "Đã số hoá 1.200 hồ sơ" in history


# --- the leaders' board ---------------------------------------------------------------------

def test_the_board_counts_overdue_tasks_for_managers_only(site: Site) -> None:
    signed_in(site, "reporter.hn")
    task_id = seeded_task(site, overdue=True)
    assert site.client.get("/console/monitoring").status_code == 403
    mine = site.client.get("/console/monitoring/mine").text
    assert f"/console/monitoring/tasks/{task_id}" in mine
    assert "quá hạn 10 ngày" not in mine  # counted in working days, not calendar days
    site.sign_in_as(Role.PROGRAMME_OFFICER, Scope.province("01"))
    page = site.client.get("/console/monitoring")
    assert page.status_code == 200
    assert "1 nhiệm vụ quá hạn" in page.text
    assert f"/console/monitoring/tasks/{task_id}" in page.text
    assert "Task monitoring" in site.client.get("/console/monitoring?lang=en").text


def test_a_province_manager_does_not_see_another_provinces_tasks(site: Site) -> None:
    task_id = seeded_task(site, overdue=True)
    site.sign_in_as(Role.PROGRAMME_OFFICER, Scope.province("79"))
    assert "0 nhiệm vụ quá hạn" in site.client.get("/console/monitoring").text
    assert site.client.get(f"/console/monitoring/tasks/{task_id}").status_code == 403


def test_the_board_exports_the_ranking_and_overdue_list_as_csv_and_pdf(site: Site) -> None:
    seeded_task(site, overdue=True)
    site.sign_in_as(Role.PROGRAMME_OFFICER, NATIONAL)
    ranking = site.client.get("/console/monitoring/ranking.csv")
    assert ranking.headers["content-type"].startswith("text/csv")
    assert ranking.content.decode("utf-8-sig").splitlines()[1].startswith(
        "1,UBND-HN,UBND thành phố Hà Nội,1,0,0.0,1")
    overdue = site.client.get("/console/monitoring/overdue.csv").content.decode("utf-8-sig")
    assert "T1,Số hoá hồ sơ hộ tịch,reporter.hn,UBND-HN" in overdue
    pdf = site.client.get("/console/monitoring/report.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_remind_button_queues_one_email_per_task_a_day(site: Site) -> None:
    seeded_task(site, overdue=True)
    site.sign_in_as(Role.PROGRAMME_OFFICER, NATIONAL)
    for expected in ("1", "0"):
        response = site.client.post("/console/monitoring/remind", follow_redirects=False,
                                    data={"csrf_token": site.csrf("/console/monitoring")})
        assert response.headers["location"] == f"/console/monitoring?reminded={expected}"
    with transaction(site.services.session_factory) as session:
        sent = session.execute(select(OutboxMessage)).scalars().all()
        assert [m.recipient for m in sent] == ["reporter.hn@example.gov.vn"]


# --- spreadsheets ---------------------------------------------------------------------------

def upload(site: Site, programme: str, name: str, content: bytes) -> httpx.Response:
    return site.client.post("/console/monitoring/import", data={
        "programme": programme, "csrf_token": site.csrf("/console/monitoring/import")},
        files={"file": (name, content, "application/octet-stream")})


def test_an_import_with_a_bad_row_imports_nothing_and_names_row_column_and_reason(
        site: Site) -> None:
    seeded_task(site)
    site.sign_in_as(Role.PROGRAMME_OFFICER, NATIONAL)
    header = ",".join(spreadsheet.COLUMNS)
    good = "T2,Kết nối dữ liệu đất đai,reporter.hn,2026-09-30,UBND-HN,BKHCN,Báo cáo,acceptor,"
    bad = "T3,Kết nối dữ liệu,reporter.hcm,30/09/2026,UBND-HN,,Báo cáo,,"
    refused = upload(site, "NQ57", "tasks.csv", f"{header}\n{good}\n{bad}\n".encode())
    assert refused.status_code == 422
    rows = re.findall(r"<tr><td>(\d+)</td><td>(\w+)</td>", refused.text)
    assert rows == [("3", "responsible_official"), ("3", "deadline"),
                    ("3", "accepting_authority")]
    with transaction(site.services.session_factory) as session:
        assert repository.task_codes(session, service.programme(session, "NQ57").id) == {"T1"}
    accepted = upload(site, "NQ57", "tasks.csv", f"{header}\n{good}\n".encode())
    assert accepted.status_code == 200
    assert "Đã nhập 1 nhiệm vụ" in accepted.text


def test_a_file_that_is_not_a_task_sheet_is_refused_next_to_the_file_field(site: Site) -> None:
    seeded_task(site)
    site.sign_in_as(Role.PROGRAMME_OFFICER, NATIONAL)
    refused = upload(site, "NQ57", "tasks.xlsx", b"not a workbook")
    assert refused.status_code == 422
    assert 'id="file-error"' in refused.text
    assert upload(site, "NQ57", "tasks.csv", b"name,deadline\n").status_code == 422


def test_an_xlsx_export_imports_again_unchanged(site: Site) -> None:
    seeded_task(site)
    with transaction(site.services.session_factory) as session:
        make_task(session, "T2", accepting_official="", accepting_agency="BKHCN")
        service.add_programme(session, MANAGER, "NQ57-BIS", "Bản sao", "57-NQ/TW",
                              service.programme(session, "NQ57").issued_on)
    site.sign_in_as(Role.PROGRAMME_OFFICER, NATIONAL)
    exported = site.client.get("/console/monitoring/tasks.xlsx?programme=NQ57").content
    sheet = load_workbook(io.BytesIO(exported)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]] == list(spreadsheet.COLUMNS)
    assert upload(site, "NQ57-BIS", "NQ57.xlsx", exported).status_code == 200
    again = site.client.get("/console/monitoring/tasks.csv?programme=NQ57-BIS").content
    assert again == site.client.get("/console/monitoring/tasks.csv?programme=NQ57").content


def test_only_managers_import(site: Site) -> None:
    signed_in(site, "reporter.hn")
    seeded_task(site)
    assert site.client.get("/console/monitoring/import").status_code == 403
    header = ",".join(spreadsheet.COLUMNS)
    assert upload(site, "NQ57", "t.csv", f"{header}\n".encode()).status_code == 403


# --- the command line -----------------------------------------------------------------------

def test_the_cli_imports_reports_bad_rows_exports_and_reminds(data_dir: Path,
                                                              tmp_path: Path) -> None:
    with cli_transaction() as session:
        seed_programme(session)
    header = ",".join(spreadsheet.COLUMNS)
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\nT1,,reporter.hn,2026-09-30,UBND-HN,,Báo cáo,acceptor,\n",
                   encoding="utf-8")
    refused = runner.invoke(app, ["monitoring", "import", "NQ57", str(bad)])
    assert refused.exit_code == 1
    assert "row 2, work: describe the work" in refused.output
    good = tmp_path / "good.csv"
    good.write_text(f"{header}\nT1,Việc,reporter.hn,2026-01-30,UBND-HN,,Báo cáo,acceptor,\n",
                    encoding="utf-8")
    assert runner.invoke(app, ["monitoring", "import", "NQ57", str(good)]).exit_code == 0
    exported = tmp_path / "out.csv"
    assert runner.invoke(app, ["monitoring", "export", "NQ57", str(exported)]).exit_code == 0
    assert exported.read_bytes() == good.read_bytes().replace(b"\n", b"\r\n").join(
        [b"\xef\xbb\xbf", b""])
    reminded = runner.invoke(app, ["monitoring", "remind"])
    assert "1 reminders queued" in reminded.output
    report = tmp_path / "report.pdf"
    assert runner.invoke(app, ["monitoring", "report", str(report)]).exit_code == 0
    assert report.read_bytes().startswith(b"%PDF")


def test_the_demo_seeds_nq57_once_with_overdue_and_on_time_tasks(data_dir: Path) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    with cli_transaction() as session:
        ensure_demo_officials(session, CLI_ACTOR, data_dir)
    first = runner.invoke(app, ["monitoring", "demo"])
    assert first.exit_code == 0, first.output
    assert runner.invoke(app, ["monitoring", "demo"]).output.strip() == \
        "programme NQ57 exists already"
    with cli_transaction() as session:
        found = board.board(session, CLI_ACTOR, "NQ57")
        hanoi = board.board(session, as_official(session, "programme.hanoi"), "NQ57")
    assert found.tasks == 63
    assert found.overdue
    assert sum(r.on_time for r in found.ranking) > 0
    assert {r.agency.code for r in hanoi.ranking} == {"UBND-01"}


@pytest.mark.parametrize("kind", ["ods", "exe"])
def test_an_unknown_export_format_is_refused(site: Site, kind: str) -> None:
    seeded_task(site)
    site.sign_in_as(Role.PROGRAMME_OFFICER, NATIONAL)
    assert site.client.get(f"/console/monitoring/tasks.{kind}?programme=NQ57"
                           ).status_code == 422


# --- the JSON API ---------------------------------------------------------------------------

def test_the_board_is_json_for_an_operator_key_that_manages_tasks_in_its_scope(
        site: Site) -> None:
    task_id = seeded_task(site, overdue=True)
    national = {"Authorization": f"Bearer {site.key('nq57-dashboard', Role.PROGRAMME_OFFICER)}"}
    found = site.client.get("/api/v1/monitoring/board", headers=national).json()
    assert (found["tasks"], found["overdue_count"]) == (1, 1)
    assert found["overdue"][0]["working_days_overdue"] > 0
    assert found["ranking"][0] == {"position": 1, "agency": "UBND-HN",
                                   "name": "UBND thành phố Hà Nội", "due": 1, "on_time": 0,
                                   "overdue": 1, "on_time_rate": 0.0}
    task = site.client.get(f"/api/v1/monitoring/tasks/{task_id}", headers=national).json()
    assert (task["lead_agency"], task["accepting_official"]) == ("UBND-HN", "acceptor")
    elsewhere = {"Authorization": "Bearer " + site.key("hcm", Role.PROGRAMME_OFFICER,
                                                       Scope.province("79"))}
    assert site.client.get("/api/v1/monitoring/board", headers=elsewhere).json()["tasks"] == 0
    assert site.client.get(f"/api/v1/monitoring/tasks/{task_id}",
                           headers=elsewhere).status_code == 403
    clerk = {"Authorization": f"Bearer {site.key('clerk', Role.SERVICE_CLERK)}"}
    refused = site.client.get("/api/v1/monitoring/board", headers=clerk)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert site.client.get("/api/v1/monitoring/board").status_code == 401


# --- one task typed in ----------------------------------------------------------------------

def new_task_form(site: Site, **changes: str) -> httpx.Response:
    page = "/console/monitoring/tasks/new"
    return site.client.post(page, follow_redirects=False, data={
        "programme": "NQ57", "code": "HN-09", "work": "Số hoá sổ hộ tịch 1999-2015",
        "responsible_official": "reporter.hn", "deadline": "2026-10-30",
        "lead_agency": "UBND-HN", "coordinating_agencies": "BKHCN;UBND-HCM",
        "deliverable": "Dữ liệu hộ tịch đã số hoá", "accepting_official": "",
        "accepting_agency": "BKHCN", "csrf_token": site.csrf(page), **changes})


def test_a_manager_types_in_a_task_and_each_missing_principle_shows_next_to_its_field(
        site: Site) -> None:
    seeded_task(site)
    site.sign_in_as(Role.PROGRAMME_OFFICER, Scope.province("01"))
    refused = new_task_form(site, deliverable="", accepting_official="acceptor")
    assert refused.status_code == 422
    assert 'id="deliverable-error"' in refused.text
    assert 'id="accepting_authority-error"' in refused.text
    assert 'value="Số hoá sổ hộ tịch 1999-2015"' not in refused.text  # a textarea keeps it
    assert "Số hoá sổ hộ tịch 1999-2015</textarea>" in refused.text
    created = new_task_form(site)
    assert created.status_code == 303
    page = site.client.get(created.headers["location"]).text
    assert "Dữ liệu hộ tịch đã số hoá" in page
    assert "BKHCN, UBND-HCM" in page


def test_a_province_manager_cannot_give_another_province_a_task_nor_a_reporter_any(
        site: Site) -> None:
    signed_in(site, "reporter.hn")
    seeded_task(site)
    assert site.client.get("/console/monitoring/tasks/new").status_code == 403
    site.sign_in_as(Role.PROGRAMME_OFFICER, Scope.province("79"))
    assert new_task_form(site).status_code == 403
