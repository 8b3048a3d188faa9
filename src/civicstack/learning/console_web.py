"""The programme officers' side in the console (`learning:manage`, within their scope): courses
with their lessons and quiz, publication, cohorts from the register or a roster, enrolment of a
cohort in a course, and the completion dashboard. Every rule is in service.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as PostedFile

from civicstack.kit import console
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.web import field_errors, render
from civicstack.learning import charts, service
from civicstack.learning.models import Cohort
from civicstack.registry import service as registry

router = html_router()
LEARNING = "/console/learning"
COURSES = LEARNING + "/courses"
COHORTS = LEARNING + "/cohorts"
ROSTER_LIMIT = 1024 * 1024  # a class or a ward's officials: far below a megabyte


def _number(value: str, field_name: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise Invalid(field_name, "give a whole number") from None


# --- courses --------------------------------------------------------------------------------

def _form_page(request: Request, session: Session, official: Actor, template: str,
               listing: Callable[[], dict[str, Any]], form: dict[str, str] | None,
               errors: dict[str, str] | None, status_code: int) -> Response:
    """A list with the form that adds to it, the form's values and errors kept; `listing`
    refuses an official without the permission."""
    try:
        listed = listing()
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return render(request, template, {
        "operator": official, "provinces": registry.provinces(session), "form": form or {},
        "errors": errors or {}, **listed}, status_code)


def _courses_page(request: Request, session: Session, official: Actor,
                  form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    return _form_page(request, session, official, "console/learning_courses.html",
                      lambda: {"courses": service.courses_for(session, official)},
                      form, errors, status_code)


@router.get(LEARNING, response_class=HTMLResponse)
def courses_page(request: Request, session: DbSession, official: Official) -> Response:
    return _courses_page(request, session, official)


@router.post(COURSES, response_class=HTMLResponse)
def create_course(request: Request, session: DbSession, official: Official,
                  code: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
                  summary: Annotated[str, Form()] = "",
                  publisher_kind: Annotated[str, Form()] = "",
                  publisher: Annotated[str, Form()] = "",
                  province_code: Annotated[str, Form()] = "",
                  pass_mark: Annotated[str, Form()] = "") -> Response:
    form = {"code": code, "title": title, "summary": summary, "publisher_kind": publisher_kind,
            "publisher": publisher, "province_code": province_code, "pass_mark": pass_mark}
    try:
        with session.begin_nested():
            course = service.create_course(session, official, service.CourseDraft(
                code, title, summary, publisher_kind, publisher, province_code or None,
                _number(pass_mark, "pass_mark")))
    except DomainError as exc:
        return _courses_page(request, session, official, form, field_errors(exc), exc.status)
    return RedirectResponse(f"{COURSES}/{course.code}", status_code=303)


def _course_page(request: Request, session: Session, official: Actor, code: str,
                 errors: dict[str, str] | None = None, status_code: int = 200,
                 form: dict[str, str] | None = None) -> Response:
    """The outline and its forms; a refused form comes back with what was typed in it."""
    try:
        found = service.visible_course(session, official, code)
        cohorts = service.cohorts_for(session, official)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/learning_course.html", {
        "operator": official, "outline": service.outline(session, found),
        "may_edit": service.may_manage(official, found) and found.status == "draft",
        "cohorts": [c for c in cohorts if service.takes(found, c)],
        "errors": errors or {}, "form": form or {}}, status_code)


@router.get(COURSES + "/{code}", response_class=HTMLResponse)
def course_page(request: Request, session: DbSession, official: Official,
                code: str) -> Response:
    return _course_page(request, session, official, code)


@router.post(COURSES + "/{code}/lessons", response_class=HTMLResponse)
async def add_lesson(request: Request, session: DbSession, official: Official, code: str,
                     kind: Annotated[str, Form()] = "", title: Annotated[str, Form()] = "",
                     body: Annotated[str, Form()] = "", video_url: Annotated[str, Form()] = "",
                     file: Annotated[UploadFile | None, File()] = None) -> Response:
    # A little more than the limit is read, so a larger file is refused without reading it all.
    content = await file.read(service.MAX_FILE_BYTES + 1) if file and file.filename else b""
    draft = service.LessonDraft(kind, title, body, video_url,
                                file.filename or "" if file else "",
                                file.content_type or "" if file else "", content)
    try:
        with session.begin_nested():
            service.add_lesson(session, official, code, draft)
    except DomainError as exc:
        typed = {"kind": kind, "title": title, "body": body, "video_url": video_url}
        return _course_page(request, session, official, code, field_errors(exc), exc.status,
                            typed)
    return RedirectResponse(f"{COURSES}/{code}", status_code=303)


@router.post(COURSES + "/{code}/questions", response_class=HTMLResponse)
async def add_question(request: Request, session: DbSession, official: Official,
                       code: str) -> Response:
    """Options are sent as option_0 ... option_7, the right ones ticked as `correct`."""
    form = await request.form()
    options = [str(form.get(f"option_{i}", "")) for i in range(service.MAX_OPTIONS)]
    # The right options are counted among the non-empty ones, as the service keeps them.
    kept = [i for i, option in enumerate(options) if option.strip()]
    ticked = {str(value) for value in form.getlist("correct")}
    correct = [kept.index(i) for i in kept if str(i) in ticked]
    try:
        with session.begin_nested():
            service.add_question(session, official, code, str(form.get("prompt", "")),
                                 options, correct)
    except DomainError as exc:
        typed = {"prompt": str(form.get("prompt", "")),
                 **{f"option_{i}": option for i, option in enumerate(options)}}
        return _course_page(request, session, official, code, field_errors(exc), exc.status,
                            typed)
    return RedirectResponse(f"{COURSES}/{code}", status_code=303)


@router.post(COURSES + "/{code}/publish", response_class=HTMLResponse)
def publish(request: Request, session: DbSession, official: Official, code: str) -> Response:
    return console.act(request, official, lambda actor: service.publish(session, actor, code),
                       f"{COURSES}/{code}")


# --- cohorts --------------------------------------------------------------------------------

def _cohorts_page(request: Request, session: Session, official: Actor,
                  form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    return _form_page(request, session, official, "console/learning_cohorts.html",
                      lambda: {"cohorts": service.cohorts_for(session, official),
                               "kinds": service.COHORT_KINDS}, form, errors, status_code)


@router.get(COHORTS, response_class=HTMLResponse)
def cohorts_page(request: Request, session: DbSession, official: Official) -> Response:
    return _cohorts_page(request, session, official)


def _spec(form: dict[str, str]) -> service.CohortSpec:
    return service.CohortSpec(form["name"], form["kind"], form["province_code"],
                              form["ward_code"].strip() or None, form["school"])


async def _cohort_form(request: Request) -> dict[str, Any]:
    return dict((await request.form()).items())


def _cohort_fields(posted: dict[str, Any], source: str) -> dict[str, str]:
    """The fields of one of the two cohort forms, and which one it was (age or roster)."""
    names = ("name", "kind", "province_code", "ward_code", "school", "min_age", "max_age")
    return {"source": source, **{name: str(posted.get(name, "")) for name in names}}


@router.post(COHORTS + "/by-age", response_class=HTMLResponse)
async def create_by_age(request: Request, session: DbSession, official: Official) -> Response:
    """Everyone of an age living in the place, e.g. the pupils (6-18) of a province."""
    posted = await _cohort_form(request)
    form = _cohort_fields(posted, "age")
    try:
        with session.begin_nested():
            cohort = service.create_cohort_by_age(
                session, official, _spec(form), _number(form["min_age"], "min_age"),
                _number(form["max_age"], "max_age"))
    except DomainError as exc:
        return _cohorts_page(request, session, official, form, field_errors(exc), exc.status)
    return RedirectResponse(f"{COHORTS}/{cohort.id}", status_code=303)


@router.post(COHORTS + "/roster", response_class=HTMLResponse)
async def create_from_roster(request: Request, session: DbSession,
                             official: Official) -> Response:
    """A roster upload (CSV, personal ID numbers in the first column); the page that follows
    lists every bad row with its reason."""
    posted = await _cohort_form(request)
    form = _cohort_fields(posted, "roster")
    upload = posted.get("roster")
    try:
        roster = await _roster_text(upload)
        with session.begin_nested():
            report = service.create_cohort_from_roster(session, official, _spec(form), roster)
    except DomainError as exc:
        return _cohorts_page(request, session, official, form, field_errors(exc), exc.status)
    return _cohort_page(request, session, official, report.cohort, report, 201)


async def _roster_text(upload: object) -> str:
    if not isinstance(upload, PostedFile) or not upload.filename:
        raise Invalid("roster", "Required.")
    content = await upload.read(ROSTER_LIMIT + 1)
    if len(content) > ROSTER_LIMIT:
        raise Invalid("roster", "the roster is larger than 1 MiB")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("roster", "save the roster as CSV in UTF-8") from None


def _cohort_page(request: Request, session: Session, official: Actor, cohort: Cohort,
                 report: service.RosterReport | None = None, status_code: int = 200) -> Response:
    courses = [c for c in service.courses_for(session, official)
               if c.status == "published" and service.takes(c, cohort)]
    return render(request, "console/learning_cohort.html", {
        "operator": official, "cohort": cohort,
        "members": len(service.cohort_members(session, cohort)), "report": report,
        "courses": courses, "rates": [r for r in service.completion_rates(
            session, official).by_cohort if r.key == str(cohort.id)],
        "enrolled": request.query_params.get("enrolled"),
        "already": request.query_params.get("already")}, status_code)


@router.get(COHORTS + "/{cohort_id}", response_class=HTMLResponse)
def cohort_page(request: Request, session: DbSession, official: Official,
                cohort_id: int) -> Response:
    try:
        cohort = service.managed_cohort(session, official, cohort_id)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return _cohort_page(request, session, official, cohort)


@router.post(COHORTS + "/{cohort_id}/enrol", response_class=HTMLResponse)
def enrol(request: Request, session: DbSession, official: Official, cohort_id: int,
          course: Annotated[str, Form()] = "") -> Response:
    try:
        with session.begin_nested():
            report = service.enrol_cohort(session, official, cohort_id, course)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return RedirectResponse(f"{COHORTS}/{cohort_id}?enrolled={report.enrolled}"
                            f"&already={report.already}", status_code=303)


# --- the dashboard --------------------------------------------------------------------------

@router.get(LEARNING + "/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, session: DbSession, official: Official,
              course: str = "") -> Response:
    try:
        courses = [c for c in service.courses_for(session, official) if c.status == "published"]
        chosen = next((c for c in courses if c.code == course), None)
        rates = service.completion_rates(session, official, chosen.code if chosen else None)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/learning_dashboard.html", {
        "operator": official, "courses": courses, "chosen": chosen, "rates": rates,
        "charts": {"province": charts.rate_chart(rates.by_province),
                   "school": charts.rate_chart(rates.by_school),
                   "cohort": charts.rate_chart(rates.by_cohort)}})
