"""The learner's side in the portal (signed in with their eID): my courses, a course with its
progress, each lesson (confirmed as done), the quiz and its result; and the public completion
figures per province. Every rule is in service.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from civicstack.identity.auth import Citizen
from civicstack.identity.service import SignedIn
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession, ReadOnlyDb, html_router
from civicstack.kit.errors import DomainError, NotFound
from civicstack.kit.web import field_errors, render
from civicstack.learning import charts, service
from civicstack.wallet.site import WALLET_SITE

router = html_router()
LEARNING = "/learning"
COURSES = LEARNING + "/courses"
EXTENSIONS = {"application/pdf": "pdf", "image/png": "png", "image/jpeg": "jpg"}


async def posted_form(request: Request) -> FormData:
    """The quiz's answers: one field per question, several values for a multi-answer one."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _learner(signed: SignedIn) -> tuple[Actor, str]:
    number = signed.account.personal_id_number
    return Actor("citizen", number), number


def _refused(request: Request, exc: DomainError) -> Response:
    return render(request, "portal/learning_refused.html", {"refusal": exc}, exc.status)


@router.get(LEARNING, response_class=HTMLResponse)
def my_courses(request: Request, session: DbSession, signed: Citizen) -> Response:
    _, number = _learner(signed)
    return render(request, "portal/learning_courses.html", {
        "rows": [(enrolment, course, service.progress(session, number, course.code))
                 for enrolment, course in service.my_courses(session, number)]})


@router.get(COURSES + "/{code}", response_class=HTMLResponse)
def course_page(request: Request, session: DbSession, signed: Citizen, code: str) -> Response:
    try:
        found = service.progress(session, _learner(signed)[1], code)
    except DomainError as exc:
        return _refused(request, exc)
    return render(request, "portal/learning_course.html", {
        "progress": found, "attempt": service.latest_attempt(session, found.enrolment),
        "attempts_per_day": service.ATTEMPTS_PER_DAY})


@router.get(COURSES + "/{code}/lessons/{position}", response_class=HTMLResponse)
def lesson_page(request: Request, session: DbSession, signed: Citizen, code: str,
                position: int) -> Response:
    try:
        found = service.progress(session, _learner(signed)[1], code)
        lesson = service.lesson_at(found, position)
    except DomainError as exc:
        return _refused(request, exc)
    following = [lesson for lesson in found.lessons if lesson.position > position]
    return render(request, "portal/learning_lesson.html", {
        "progress": found, "lesson": lesson, "done": lesson.id in found.done,
        "next": following[0] if following else None})


@router.post(COURSES + "/{code}/lessons/{position}/done", response_class=HTMLResponse)
def lesson_done(request: Request, session: DbSession, signed: Citizen, code: str,
                position: int) -> Response:
    """Confirm the lesson, then on to the next one (or back to the course after the last)."""
    actor, number = _learner(signed)
    try:
        found = service.mark_lesson_done(session, actor, number, code, position)
    except DomainError as exc:
        return _refused(request, exc)
    following = [lesson.position for lesson in found.lessons if lesson.position > position]
    target = f"{COURSES}/{code}/lessons/{following[0]}" if following else f"{COURSES}/{code}"
    return RedirectResponse(target, status_code=303)


@router.get(COURSES + "/{code}/lessons/{position}/file")
def lesson_file(request: Request, session: DbSession, signed: Citizen, code: str,
                position: int) -> Response:
    """A lesson's file, to its enrolled learners only; downloaded, never rendered in the
    portal's origin."""
    try:
        lesson = service.lesson_at(service.progress(session, _learner(signed)[1], code),
                                   position)
    except DomainError as exc:
        return _refused(request, exc)
    if lesson.file_content is None or lesson.file_type is None:
        return _refused(request, NotFound("this lesson has no file"))
    name = f"{code}-{position}.{EXTENSIONS.get(lesson.file_type, 'bin')}"
    return Response(lesson.file_content, media_type=lesson.file_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


@router.get(COURSES + "/{code}/quiz", response_class=HTMLResponse)
def quiz_page(request: Request, session: DbSession, signed: Citizen, code: str) -> Response:
    try:
        found = service.progress(session, _learner(signed)[1], code)
    except DomainError as exc:
        return _refused(request, exc)
    if not found.lessons_finished:  # the course page says the quiz opens after the lessons
        return RedirectResponse(f"{COURSES}/{code}", status_code=303)
    return render(request, "portal/learning_quiz.html", {"progress": found, "errors": {}})


def _answers(form: FormData) -> dict[int, list[int]]:
    """Fields q1, q2, ... each holding the indexes of the options ticked; anything else that
    is not a number is refused by the service as no option of the question."""
    answers: dict[int, list[int]] = {}
    for name in {key for key in form if key.startswith("q") and key[1:].isdigit()}:
        values = [str(value) for value in form.getlist(name)]
        answers[int(name[1:])] = [int(v) if v.isdigit() else -1 for v in values]
    return answers


@router.post(COURSES + "/{code}/quiz", response_class=HTMLResponse)
def submit_quiz(request: Request, session: DbSession, services: Services, signed: Citizen,
                code: str, form: PostedForm) -> Response:
    actor, number = _learner(signed)
    try:
        found = service.progress(session, number, code)
    except DomainError as exc:
        return _refused(request, exc)
    try:
        service.submit_quiz(session, services[WALLET_SITE], actor, number, code, _answers(form))
    except DomainError as exc:
        return render(request, "portal/learning_quiz.html", {
            "progress": found, "errors": field_errors(exc)}, exc.status)
    return RedirectResponse(f"{COURSES}/{code}#result", status_code=303)


@router.get(LEARNING + "/statistics", response_class=HTMLResponse)
def statistics(request: Request, session: ReadOnlyDb, course: str = "") -> Response:
    """Anyone may read it: counts per province only, no person and no cohort."""
    courses = service.published_courses(session)
    chosen = next((c for c in courses if c.code == course), None)
    rates = service.public_rates(session, chosen.code if chosen else None)
    return render(request, "portal/learning_statistics.html", {
        "courses": courses, "chosen": chosen, "rates": rates,
        "chart": charts.rate_chart(rates)})
