"""The console's re-routing after a unit reform (before, only `civicstack services
reroute-legacy`): the abolished wards and the reason, a dry run showing how many dossiers and
applicants would move and where, a confirmation, then the worker's run with its progress,
which the page polls. The rules are in rerouting.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import Csrf, DbSession, html_router
from civicstack.kit.errors import DomainError
from civicstack.kit.web import field_errors, render
from civicstack.services import rerouting

router = html_router()
REROUTE = "/console/catalogue/reroute"
FormText = Annotated[str, Form()]
# How often the run's page asks for its progress while the worker moves dossiers.
POLL_SECONDS = 2


def national_manager(official: Official) -> Actor:
    """The signed-in official, refused (403) unless a catalogue manager of national scope."""
    rerouting.require_national_manager(official)
    return official


Manager = Annotated[Actor, Depends(national_manager)]


@router.get(REROUTE, response_class=HTMLResponse)
def reroute_form(request: Request, official: Manager) -> Response:
    return _form_page(request, official, {"ward_codes": "", "reason": ""})


@router.post(REROUTE + "/preview", response_class=HTMLResponse)
def reroute_preview(request: Request, session: DbSession, official: Manager, _: Csrf,
                    ward_codes: FormText = "", reason: FormText = "") -> Response:
    """The dry run: counts only; the confirmation form carries what was typed."""
    values = {"ward_codes": ward_codes.strip(), "reason": reason.strip()}
    try:
        found = rerouting.preview(session, official,
                                  rerouting.request_of(ward_codes, reason).ward_codes)
    except DomainError as exc:
        return _form_page(request, official, values, exc)
    return render(request, "console/services_reroute_preview.html",
                  {"operator": official, "values": values, "preview": found})


@router.post(REROUTE, response_class=HTMLResponse)
def reroute_start(request: Request, session: DbSession, official: Manager, _: Csrf,
                  ward_codes: FormText = "", reason: FormText = "") -> Response:
    """Confirmed: a queued run (or the one already running for these wards)."""
    values = {"ward_codes": ward_codes.strip(), "reason": reason.strip()}
    try:
        run = rerouting.start(session, official, rerouting.request_of(ward_codes, reason))
    except DomainError as exc:
        return _form_page(request, official, values, exc)
    return RedirectResponse(f"{REROUTE}/runs/{run.id}", status_code=303)


@router.get(REROUTE + "/runs/{run_id}", response_class=HTMLResponse)
def run_page(request: Request, session: DbSession, official: Manager, run_id: int) -> Response:
    return render(request, "console/services_reroute_run.html", _run_context(
        session, official, run_id))


@router.get(REROUTE + "/runs/{run_id}/status", response_class=HTMLResponse)
def run_status(request: Request, session: DbSession, official: Manager,
               run_id: int) -> Response:
    """The progress alone, which the run's page swaps in every POLL_SECONDS until done."""
    return render(request, "console/_reroute_progress.html", _run_context(
        session, official, run_id))


def _run_context(session: DbSession, official: Actor, run_id: int) -> dict[str, Any]:
    return {"operator": official, "run": rerouting.run_of(session, official, run_id),
            "poll_seconds": POLL_SECONDS}


def _form_page(request: Request, official: Actor, values: dict[str, str],
               refusal: DomainError | None = None) -> Response:
    return render(request, "console/services_reroute.html",
                  {"operator": official, "values": values,
                   "errors": field_errors(refusal) if refusal else {}},
                  refusal.status if refusal else 200)
