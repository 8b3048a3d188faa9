"""Monitoring in the officials' console: the leaders' board (overdue tasks, progress by
agency, ranking, reminders, reports), one's own tasks, a task with the history of its updates,
its product handed in and the authority's decision, and spreadsheet import/export. Every rule
is in service.py and board.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from civicstack.kit import calendar, console
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.web import field_errors, render, request_locale
from civicstack.monitoring import board, reports, repository, service, spreadsheet
from civicstack.monitoring.models import Evidence, Product, Programme
from civicstack.monitoring.states import TRANSITIONS

router = html_router()
T = TypeVar("T")
BASE = "/console/monitoring"
BAR_AREA, ROW = 360, 28  # SVG units of the progress chart, as the services' statistics


def _scope_label(request: Request, official: Actor) -> str:
    header = request.session.get(console.HEADER, {})
    return str(header.get("scope_label") or official.scope)


def _chart(progress: list[board.AgencyProgress], english: bool) -> dict[str, Any]:
    """The progress bars, in the services' statistics chart's shape and CSS classes."""
    bars = [{"label": p.agency.name if not english else p.agency.code,
             "percent": p.average_percent, "width": BAR_AREA * p.average_percent / 100,
             "y": 8 + i * ROW, "done": p.average_percent >= 100} for i, p in enumerate(progress)]
    return {"bars": bars, "height": 16 + len(bars) * ROW, "area": BAR_AREA}


def _unless_refused(request: Request, official: Actor, fetch: Callable[[], T],
                    respond: Callable[[T], Response]) -> Response:
    """`fetch` (whose service checks the official's permission and scope), then `respond`; a
    refusal is shown on the console's error page."""
    try:
        found = fetch()
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return respond(found)


# --- the leaders' board ---------------------------------------------------------------------

@router.get(BASE, response_class=HTMLResponse)
def board_page(request: Request, session: DbSession, official: Official, programme: str = "",
               reminded: str = "") -> Response:
    return _unless_refused(
        request, official, lambda: board.board(session, official, programme),
        lambda found: render(request, "console/monitoring_board.html", {
            "operator": official, "board": found, "programme": programme,
            "programmes": repository.programmes(session), "reminded": reminded,
            "chart": _chart(found.progress, request_locale(request) == "en")}))


@router.post(BASE + "/remind", response_class=HTMLResponse)
def remind(request: Request, session: DbSession, official: Official) -> Response:
    return _unless_refused(
        request, official, lambda: service.remind(session, official),
        lambda sent: RedirectResponse(f"{BASE}?reminded={len(sent)}", status_code=303))


CSV = "text/csv; charset=utf-8"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _board_file(request: Request, session: Session, official: Actor, programme: str,
                write: Callable[[board.Board], Response]) -> Response:
    return _unless_refused(request, official,
                           lambda: board.board(session, official, programme), write)


@router.get(BASE + "/ranking.csv")
def ranking_csv(request: Request, session: DbSession, official: Official,
                programme: str = "") -> Response:
    return _board_file(request, session, official, programme, lambda found: _download(
        spreadsheet.to_csv(reports.ranking_rows(found)), CSV, "xep-hang-co-quan.csv"))


@router.get(BASE + "/overdue.csv")
def overdue_csv(request: Request, session: DbSession, official: Official,
                programme: str = "") -> Response:
    return _board_file(request, session, official, programme, lambda found: _download(
        spreadsheet.to_csv(reports.overdue_rows(found)), CSV, "nhiem-vu-qua-han.csv"))


@router.get(BASE + "/report.pdf")
def report_pdf(request: Request, session: DbSession, official: Official,
               programme: str = "") -> Response:
    return _board_file(request, session, official, programme, lambda found: _download(
        reports.board_pdf(found, _scope_label(request, official)), "application/pdf",
        "bao-cao-nhiem-vu.pdf"))


# --- spreadsheets ---------------------------------------------------------------------------

def _export_rows(session: Session, official: Actor, kind: str,
                 programme: str) -> list[list[str]]:
    if kind not in spreadsheet.FORMATS:
        raise Invalid("kind", "export as csv or xlsx")
    return spreadsheet.export_rows(session, official, programme)


@router.get(BASE + "/tasks.{kind}")
def export_tasks(request: Request, session: DbSession, official: Official, kind: str,
                 programme: str) -> Response:
    def respond(rows: list[list[str]]) -> Response:
        if kind == "xlsx":
            return _download(spreadsheet.to_xlsx(rows, programme), XLSX, f"{programme}.xlsx")
        return _download(spreadsheet.to_csv(rows), CSV, f"{programme}.csv")

    return _unless_refused(
        request, official, lambda: _export_rows(session, official, kind, programme), respond)


def _import_page(request: Request, session: Session, official: Actor,
                 outcome: spreadsheet.ImportReport | None = None,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "console/monitoring_import.html", {
        "operator": official, "programmes": repository.programmes(session),
        "columns": spreadsheet.COLUMNS, "outcome": outcome, "errors": errors or {}},
        status_code)


@router.get(BASE + "/import", response_class=HTMLResponse)
def import_form(request: Request, session: DbSession, official: Official) -> Response:
    return _unless_refused(request, official, lambda: official.require(Permission.TASKS_MANAGE),
                           lambda _: _import_page(request, session, official))


@router.post(BASE + "/import", response_class=HTMLResponse)
async def import_tasks(request: Request, session: DbSession, official: Official) -> Response:
    """All or nothing; the bad rows are listed with their column and reason."""
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid("file", "choose a CSV or XLSX file")
        outcome = spreadsheet.import_tasks(session, official, str(form.get("programme", "")),
                                           upload.filename, await upload.read())
    except Invalid as exc:
        return _import_page(request, session, official, errors=field_errors(exc),
                            status_code=exc.status)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return _import_page(request, session, official, outcome,
                        status_code=422 if outcome.bad_rows else 200)


# --- one task typed in -----------------------------------------------------------------------

def _new_task_page(request: Request, session: Session, official: Actor, form: dict[str, str],
                   errors: dict[str, str], status_code: int = 200) -> Response:
    return render(request, "console/monitoring_new.html", {
        "operator": official, "programmes": repository.programmes(session),
        "agencies": list(repository.agencies(session).values()), "form": form,
        "errors": errors}, status_code)


@router.get(BASE + "/tasks/new", response_class=HTMLResponse)
def new_task_form(request: Request, session: DbSession, official: Official) -> Response:
    return _unless_refused(request, official, lambda: official.require(Permission.TASKS_MANAGE),
                           lambda _: _new_task_page(request, session, official, {}, {}))


@router.post(BASE + "/tasks/new", response_class=HTMLResponse)
async def new_task(request: Request, session: DbSession, official: Official) -> Response:
    """The six principles typed in, checked as an imported row is; each refusal is shown next
    to its field."""
    form = await request.form()
    typed = {name: str(form.get(name, "")).strip()
             for name in ("programme", *spreadsheet.COLUMNS)}
    try:
        with session.begin_nested():
            task = service.create_task(session, official, typed["programme"],
                                       spreadsheet.new_task(typed))
    except Invalid as exc:
        return _new_task_page(request, session, official, typed, field_errors(exc), exc.status)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return RedirectResponse(f"{BASE}/tasks/{task.id}", status_code=303)


# --- one's own tasks, and one task ----------------------------------------------------------

@router.get(BASE + "/mine", response_class=HTMLResponse)
def mine(request: Request, session: DbSession, official: Official) -> Response:
    today = calendar.today()
    return _unless_refused(
        request, official, lambda: service.my_tasks(session, official),
        lambda tasks: render(request, "console/monitoring_mine.html", {
            "operator": official, "agencies": repository.agencies(session),
            "rows": [(t, service.days_overdue(t, today), service.is_overdue(t, today))
                     for t in tasks]}))


def _task_page(request: Request, session: Session, official: Actor, task_id: int,
               refusal: DomainError | None = None, form: dict[str, str] | None = None,
               ) -> Response:
    try:
        task = service.read_task(session, official, task_id)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    today = calendar.today()
    updates = repository.updates_of(session, task.id)
    files: dict[int, list[Any]] = {}
    for found in repository.evidence_of(session, [u.id for u in updates]):
        files.setdefault(found.update_id, []).append(found)
    return render(request, "console/monitoring_task.html", {
        "operator": official, "task": task, "agencies": repository.agencies(session),
        "programme": session.get(Programme, task.programme_id),
        "overdue": service.is_overdue(task, today),
        "days_overdue": service.days_overdue(task, today), "updates": updates,
        "files": files, "events": repository.events_of(session, task.id),
        "products": repository.products_of(session, task.id),
        "may_report": service.may_report(session, official, task),
        "actions": service.actions_for(session, official, task),
        "judges_own_work": service.judges_own_work(session, official, task),
        "four_eyes": service.FOUR_EYES,
        "needs_reason": {a for a, rule in TRANSITIONS.items() if rule.needs_reason},
        "refusal": refusal, "errors": field_errors(refusal) if refusal else {},
        "form": form or {}}, refusal.status if refusal else 200)


@router.get(BASE + "/tasks/{task_id:int}", response_class=HTMLResponse)
def task_page(request: Request, session: DbSession, official: Official,
              task_id: int) -> Response:
    return _task_page(request, session, official, task_id)


@router.post(BASE + "/tasks/{task_id:int}/updates", response_class=HTMLResponse)
async def post_update(request: Request, session: DbSession, official: Official,
                      task_id: int) -> Response:
    """The day's progress with its evidence files; a refusal keeps what was typed."""
    form = await request.form()
    typed = {"percent": str(form.get("percent", "")), "text": str(form.get("text", ""))}
    try:
        files = [found for upload in form.getlist("evidence")
                 if (found := await _uploaded(upload)) is not None]
        with session.begin_nested():
            service.post_update(session, official, task_id, typed["percent"], typed["text"],
                                files)
    except DomainError as exc:
        return _task_page(request, session, official, task_id, exc, typed)
    return RedirectResponse(f"{BASE}/tasks/{task_id}", status_code=303)


async def _uploaded(upload: object) -> service.EvidenceFile | None:
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    return service.EvidenceFile(upload.filename, upload.content_type or "",
                                await upload.read(service.MAX_EVIDENCE_BYTES + 1))


@router.post(BASE + "/tasks/{task_id:int}/actions/{action}", response_class=HTMLResponse)
async def take_action(request: Request, session: DbSession, official: Official, task_id: int,
                      action: str) -> Response:
    """Hand in with the product (a file or a link), accept once the product is checked, or
    return with a reason; a refusal is shown next to the buttons, keeping what was typed."""
    form = await request.form()
    typed = {"reason": str(form.get("reason", "")),
             "product_link": str(form.get("product_link", ""))}
    try:
        product = service.HandedIn(typed["product_link"],
                                   await _uploaded(form.get("product_file")))
        with session.begin_nested():
            service.transition(session, official, task_id, action, typed["reason"],
                               product=product, checked=form.get("checked") == "yes")
    except DomainError as exc:
        return _task_page(request, session, official, task_id, exc, typed)
    return RedirectResponse(f"{BASE}/tasks/{task_id}", status_code=303)


def _attachment(content: bytes, media_type: str, name: str) -> Response:
    extension = service.EVIDENCE_EXTENSIONS[media_type]
    return Response(content, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}.{extension}"',
        "X-Content-Type-Options": "nosniff"})


def _evidence_download(found: Evidence) -> Response:
    return _attachment(found.content, found.media_type, f"evidence-{found.id}")


def _product_download(found: Product) -> Response:
    # product_file hands out only products that are files
    assert found.content is not None
    assert found.media_type is not None
    return _attachment(found.content, found.media_type, f"product-{found.id}")


@router.get(BASE + "/evidence/{evidence_id:int}")
def evidence(request: Request, session: DbSession, official: Official,
             evidence_id: int) -> Response:
    return _unless_refused(
        request, official, lambda: service.evidence_file(session, official, evidence_id),
        _evidence_download)


@router.get(BASE + "/products/{product_id:int}")
def product(request: Request, session: DbSession, official: Official,
            product_id: int) -> Response:
    return _unless_refused(
        request, official, lambda: service.product_file(session, official, product_id),
        _product_download)
