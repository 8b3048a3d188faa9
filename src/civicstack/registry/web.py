"""HTML pages: the officials' register console (the portal's front page is services/home_web.py).

Officials sign in with their accounts (identity/console_web.py); reading the register needs
the registry:read permission, and the service keeps them to their scope. Every person shown
is read through the audited service with the purpose the official typed. A clerk holding the
civil-status permission records births, marriages, divorces, changes of residence and
deaths here through the same service
functions as the API, so the same rules apply.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit import console
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.console import Official
from civicstack.kit.deps import Csrf, DbSession, html_router
from civicstack.kit.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from civicstack.kit.web import field_errors, render
from civicstack.registry import service
from civicstack.registry.models import Sex

router = html_router()
SEARCH_FIELDS = ("full_name", "date_of_birth", "province_code", "purpose")
SEARCH_LIMIT = 50


def register_reader(official: Official) -> Actor:
    """The signed-in official, refused (403) unless their role may read the register."""
    official.require(Permission.REGISTRY_READ)
    return official


Reader = Annotated[Actor, Depends(register_reader)]


def civil_status_clerk(official: Official) -> Actor:
    """The signed-in official, refused (403) unless their role records civil status."""
    official.require(Permission.REGISTRY_CIVIL_STATUS)
    return official


Clerk = Annotated[Actor, Depends(civil_status_clerk)]
FormText = Annotated[str, Form()]
# The purpose under which the record just written is shown to the clerk who wrote it.
RECORDING_PURPOSE = "civil status registration"


@router.get("/console/registry", response_class=HTMLResponse)
def registry_search(request: Request, session: DbSession, official: Reader) -> Response:
    query = {name: request.query_params.get(name, "").strip() for name in SEARCH_FIELDS}
    context: dict[str, Any] = {"query": query, "errors": {}, "results": None,
                               "provinces": service.provinces(session),
                               "operator": official,
                               "may_record": official.may(Permission.REGISTRY_CIVIL_STATUS)}
    status = 200
    if query["full_name"] or query["purpose"]:
        try:
            results = service.search_persons(
                session, official, query["purpose"], text=query["full_name"],
                date_of_birth=_date("date_of_birth", query["date_of_birth"]),
                province_code=query["province_code"] or None, limit=SEARCH_LIMIT)
            context.update(results=results, places=service.place_names(session, results),
                           limit=SEARCH_LIMIT)
        except Invalid as exc:
            context["errors"] = field_errors(exc)
            status = exc.status
        except Forbidden as exc:  # the province chosen lies outside the official's scope
            context["errors"] = {"province_code": exc.detail}
            status = exc.status
    template = "console/_register_search.html" if request.headers.get("hx-request") else \
        "console/registry_search.html"
    return render(request, template, context, status)


@router.get("/console/registry/persons/{personal_id_number}", response_class=HTMLResponse)
def person_page(request: Request, session: DbSession, official: Reader,
                personal_id_number: str, purpose: str = "") -> Response:
    context: dict[str, Any] = {"purpose": purpose, "errors": {}, "operator": official,
                               "action": f"/console/registry/persons/{personal_id_number}",
                               "title": personal_id_number}
    if not purpose:
        return render(request, "console/purpose.html", context)
    try:
        history = service.person_history(session, official, personal_id_number, purpose)
        context.update(history=history, places=service.place_names(session, [history.person]))
    except Invalid as exc:
        context["errors"] = field_errors(exc)
        return render(request, "console/purpose.html", context, exc.status)
    except (NotFound, Forbidden) as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/person.html", context)


@router.get("/console/registry/households/{household_code}", response_class=HTMLResponse)
def household_page(request: Request, session: DbSession, official: Reader,
                   household_code: str, purpose: str = "") -> Response:
    context: dict[str, Any] = {"purpose": purpose, "errors": {}, "operator": official,
                               "action": f"/console/registry/households/{household_code}",
                               "title": household_code}
    if not purpose:
        return render(request, "console/purpose.html", context)
    try:
        household = service.household_by_code(session, official, household_code, purpose)
    except Invalid as exc:
        context["errors"] = field_errors(exc)
        return render(request, "console/purpose.html", context, exc.status)
    except NotFound as exc:
        return console.refusal_page(request, official, exc)
    return render(request, "console/household.html", {**context, "household": household})


# --- civil-status forms --------------------------------------------------------------------
# Each form has the same shape: a blank page, then a post whose values are kept when the
# register refuses them, the refusal shown in an error summary and next to its field.


@dataclass(frozen=True)
class CivilStatusForm:
    template: str
    fields: tuple[str, ...]
    # Where a refusal that names no field is shown (a missing person: next to their number).
    not_found_field: str = "form"

    def blank(self, **prefilled: str) -> dict[str, str]:
        return dict.fromkeys(self.fields, "") | prefilled

    def page(self, request: Request, official: Actor, values: dict[str, str],
             refusal: DomainError | None = None) -> Response:
        errors: dict[str, str] = {}
        if refusal is not None:
            errors = field_errors(refusal)
            if isinstance(refusal, NotFound) and not refusal.errors:
                errors = {self.not_found_field: refusal.detail}
        return render(request, self.template,
                      {"operator": official, "values": values, "errors": errors},
                      refusal.status if refusal else 200)

    def record(self, request: Request, official: Actor, values: dict[str, str],
               write: Callable[[], str]) -> Response:
        """`write` records through the register's service and returns whose record to show."""
        try:
            return _recorded(write())
        except DomainError as exc:
            return self.page(request, official, values, exc)


def _stripped(**typed: str) -> dict[str, str]:
    return {name: text.strip() for name, text in typed.items()}


BIRTH = CivilStatusForm("console/registry_birth.html", (
    "full_name", "date_of_birth", "sex", "birth_ward_code", "mother_pid", "father_pid",
    "place_of_birth"))
MARRIAGE = CivilStatusForm("console/registry_marriage.html",
                           ("first_pid", "second_pid", "occurred_on"))
DIVORCE = CivilStatusForm("console/registry_divorce.html",
                          ("first_pid", "second_pid", "occurred_on"), "first_pid")
DEATH = CivilStatusForm("console/registry_death.html",
                        ("personal_id_number", "occurred_on", "cause"), "personal_id_number")
RESIDENCE = CivilStatusForm("console/registry_residence.html", (
    "personal_id_number", "kind", "ward_code", "address_line", "occurred_on"),
    "personal_id_number")


@router.get("/console/registry/births", response_class=HTMLResponse)
def birth_form(request: Request, official: Clerk) -> Response:
    return BIRTH.page(request, official,
                      BIRTH.blank(birth_ward_code=official.scope.ward_code or ""))


@router.post("/console/registry/births", response_class=HTMLResponse)
def record_birth(request: Request, session: DbSession, official: Clerk, _: Csrf,
                 full_name: FormText = "", date_of_birth: FormText = "", sex: FormText = "",
                 birth_ward_code: FormText = "", mother_pid: FormText = "",
                 father_pid: FormText = "", place_of_birth: FormText = "") -> Response:
    values = _stripped(full_name=full_name, date_of_birth=date_of_birth, sex=sex,
                       birth_ward_code=birth_ward_code, mother_pid=mother_pid,
                       father_pid=father_pid, place_of_birth=place_of_birth)

    def write() -> str:
        return service.record_birth(session, official, service.Birth(
            _required("full_name", values["full_name"]),
            _required_date("date_of_birth", values["date_of_birth"]), _sex(values["sex"]),
            values["birth_ward_code"], values["mother_pid"] or None,
            values["father_pid"] or None, values["place_of_birth"])).personal_id_number
    return BIRTH.record(request, official, values, write)


@router.get("/console/registry/marriages", response_class=HTMLResponse)
def marriage_form(request: Request, official: Clerk) -> Response:
    return MARRIAGE.page(request, official, MARRIAGE.blank())


@router.get("/console/registry/divorces", response_class=HTMLResponse)
def divorce_form(request: Request, official: Clerk) -> Response:
    return DIVORCE.page(request, official, DIVORCE.blank())


CoupleEvent = Callable[[Session, Actor, str, str, date], object]


def _couple_event_route(path: str, form: CivilStatusForm, record: CoupleEvent) -> None:
    """A marriage or a divorce: the same two people and date, recorded by `record`."""
    @router.post(path, response_class=HTMLResponse)
    def record_couple_event(request: Request, session: DbSession, official: Clerk, _: Csrf,
                            first_pid: FormText = "", second_pid: FormText = "",
                            occurred_on: FormText = "") -> Response:
        values = _stripped(first_pid=first_pid, second_pid=second_pid, occurred_on=occurred_on)

        def write() -> str:
            record(session, official, *_couple(values),
                   _required_date("occurred_on", values["occurred_on"]))
            return values["first_pid"]
        return form.record(request, official, values, write)


_couple_event_route("/console/registry/marriages", MARRIAGE, service.record_marriage)
_couple_event_route("/console/registry/divorces", DIVORCE, service.record_divorce)


@router.get("/console/registry/residence", response_class=HTMLResponse)
def residence_form(request: Request, official: Clerk) -> Response:
    return RESIDENCE.page(request, official, RESIDENCE.blank(
        kind="permanent", ward_code=official.scope.ward_code or ""))


@router.post("/console/registry/residence", response_class=HTMLResponse)
def record_residence(request: Request, session: DbSession, official: Clerk, _: Csrf,
                     personal_id_number: FormText = "", kind: FormText = "",
                     ward_code: FormText = "", address_line: FormText = "",
                     occurred_on: FormText = "") -> Response:
    values = _stripped(personal_id_number=personal_id_number, kind=kind, ward_code=ward_code,
                       address_line=address_line, occurred_on=occurred_on)

    def write() -> str:
        return service.record_residence_change(session, official, service.ResidenceChange(
            _required("personal_id_number", values["personal_id_number"]),
            _required("kind", values["kind"]), values["ward_code"] or None,
            values["address_line"], _required_date("occurred_on", values["occurred_on"]),
        )).personal_id_number
    return RESIDENCE.record(request, official, values, write)


@router.get("/console/registry/deaths", response_class=HTMLResponse)
def death_form(request: Request, official: Clerk) -> Response:
    return DEATH.page(request, official, DEATH.blank())


@router.post("/console/registry/deaths", response_class=HTMLResponse)
def record_death(request: Request, session: DbSession, official: Clerk, _: Csrf,
                 personal_id_number: FormText = "", occurred_on: FormText = "",
                 cause: FormText = "", confirmed: FormText = "") -> Response:
    """Two steps, because a death cannot be undone here: the form shows whose record it is
    and asks for confirmation; only the confirmed form records the death."""
    values = _stripped(personal_id_number=personal_id_number, occurred_on=occurred_on,
                       cause=cause)
    try:
        died_on = _required_date("occurred_on", values["occurred_on"])
        number = _required("personal_id_number", values["personal_id_number"])
        if confirmed != "yes":
            person = service.get_person(session, official, number, RECORDING_PURPOSE)
            if person.status != "alive":
                raise Conflict("%(pid)s is already recorded as deceased", pid=number)
            return render(request, "console/registry_death_confirm.html",
                          {"operator": official, "values": values, "person": person,
                           "died_on": died_on})
    except DomainError as exc:
        return DEATH.page(request, official, values, exc)

    def write() -> str:
        return service.record_death(session, official, number, died_on,
                                    values["cause"]).personal_id_number
    return DEATH.record(request, official, values, write)


def _recorded(personal_id_number: str) -> Response:
    return RedirectResponse(f"/console/registry/persons/{personal_id_number}"
                            f"?purpose={RECORDING_PURPOSE.replace(' ', '+')}", status_code=303)


def _couple(values: dict[str, str]) -> tuple[str, str]:
    return (_required("first_pid", values["first_pid"]),
            _required("second_pid", values["second_pid"]))


def _required(field: str, text: str) -> str:
    if not text:
        raise Invalid(field, "this field is required")
    return text


def _required_date(field: str, text: str) -> date:
    found = _date(field, text)
    if found is None:
        raise Invalid(field, "this field is required")
    return found


def _sex(text: str) -> Sex:
    try:
        return Sex(text)
    except ValueError:
        raise Invalid("sex", "choose male or female") from None


def _date(field: str, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(field, "use the form YYYY-MM-DD") from None
