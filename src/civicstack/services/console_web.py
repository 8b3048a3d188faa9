"""The officials' side of dossiers: the inbox, a dossier with its documents, history and the
actions the official may take, the signed result, and the assisted channel (a clerk files a
dossier for a citizen at the counter). Every rule is in service.py, states.py and flows.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from civicstack.kit import console
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.db import transaction
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.web import field_errors, render
from civicstack.services import checkout, flows, service
from civicstack.services.catalogue import MAX_UPLOAD_BYTES
from civicstack.services.models import Dossier, Procedure
from civicstack.services.site import PAYMENTS, RESULT_SIGNER
from civicstack.services.states import OPEN, TRANSITIONS, State
from civicstack.wallet.site import WALLET_SITE

router = html_router()
DOSSIERS = "/console/dossiers"
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
MAX_SCAN_BYTES = MAX_UPLOAD_BYTES  # one byte more is read, for the check to refuse it
CHOOSE_CHECK = N_("Say what you checked the document against.")


# --- the inbox ------------------------------------------------------------------------------

@router.get(DOSSIERS, response_class=HTMLResponse)
def inbox(request: Request, session: DbSession, official: Official, queue: str = "",
          state: str = "", q: str = "", sort: str = "due", page: int = 1) -> Response:
    """The work queues with their counts, a search by receipt code, ID number or name, and a
    page of dossiers; an unknown queue, state or sort falls back to the default."""
    asked = service.InboxRequest(
        queue=service.Queue(queue) if queue in set(service.Queue) else service.Queue.ALL,
        state=State(state) if state in set(State) else None, search=q, sort=sort, page=page)
    try:
        found = service.inbox_page(session, official, asked)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    rows = [(d, session.get(Procedure, d.procedure_id), service.is_overdue(d))
            for d in found.dossiers]
    return render(request, "console/services_inbox.html", {
        "operator": official, "rows": rows, "found": found, "asked": asked,
        "queues": list(service.Queue), "states": list(State), "sorts": ["due", "received"]})


# --- assisted channel: a draft opened at the counter ----------------------------------------

def _new_page(request: Request, session: Session, official: Actor, form: dict[str, str],
              errors: dict[str, str], status_code: int = 200) -> Response:
    return render(request, "console/services_new.html", {
        "operator": official, "procedures": service.all_procedures(session), "form": form,
        "errors": errors}, status_code)


@router.get(DOSSIERS + "/new", response_class=HTMLResponse)
def new_form(request: Request, session: DbSession, official: Official) -> Response:
    return _new_page(request, session, official, {}, {})


@router.post(DOSSIERS + "/new", response_class=HTMLResponse)
def new(request: Request, session: DbSession, official: Official,
        pid: Annotated[str, Form()] = "", procedure: Annotated[str, Form()] = "") -> Response:
    form = {"pid": pid.strip(), "procedure": procedure}
    try:
        with session.begin_nested():
            draft = service.start_draft(session, official, form["pid"], procedure)
    except Invalid as exc:
        return _new_page(request, session, official, form, field_errors(exc), exc.status)
    except DomainError as exc:  # no such person or procedure, outside scope, not offered
        return _new_page(request, session, official, form, {"pid": exc.detail}, exc.status)
    return RedirectResponse(f"{DOSSIERS}/{draft.receipt_code}", status_code=303)


@router.post(DOSSIERS + "/{receipt_code}/assist", response_class=HTMLResponse)
async def assist(request: Request, session: DbSession, services: Services,
                 official: Official, receipt_code: str) -> Response:
    """The clerk types the applicant's answers and uploads their papers; with `submit`, files
    the dossier for them. What was saved stays saved when submission is refused."""
    form = await request.form()
    try:
        with transaction(services.session_factory) as saving:  # committed before any fee
            dossier = service.dossier_for(saving, official, receipt_code, lock=True)
            found = saving.get(Procedure, dossier.procedure_id)
            assert found is not None
            service.save_draft(saving, official, dossier, {
                spec.name: str(form[spec.name]).strip() for spec in found.fields
                if not spec.source.startswith("register:") and form.get(spec.name)})
            for spec in found.documents:
                upload = form.get(f"file_{spec.code}")
                if isinstance(upload, UploadFile) and upload.filename:
                    service.add_attachment(saving, official, dossier, spec.code,
                                           upload.filename, upload.content_type or "",
                                           await upload.read(spec.max_bytes + 1))
        if form.get("submit"):
            checkout.submit(services.session_factory, services[WALLET_SITE], official,
                            receipt_code, services[PAYMENTS])
    except DomainError as exc:
        return _dossier_page(request, session, official, receipt_code, refusal=exc)
    return RedirectResponse(f"{DOSSIERS}/{receipt_code}", status_code=303)


@router.post(DOSSIERS + "/{receipt_code}/checks/{document_code}", response_class=HTMLResponse)
async def check_document(request: Request, session: DbSession, official: Official,
                         receipt_code: str, document_code: str) -> Response:
    """The clerk vouches for a document the walk-in's wallet lacks: held against the register
    or against the original paper, whose scan comes with the form."""
    form = await request.form()
    against = str(form.get("against", ""))
    upload = form.get("scan")
    try:
        with session.begin_nested():
            dossier = service.dossier_for(session, official, receipt_code, lock=True)
            if against not in set(service.CounterCheck):
                raise Invalid(document_code, CHOOSE_CHECK)
            scan = None
            if isinstance(upload, UploadFile) and upload.filename:
                scan = service.Scan(upload.filename, upload.content_type or "",
                                    await upload.read(MAX_SCAN_BYTES + 1))
            service.check_at_counter(session, official, dossier, document_code,
                                     service.CounterCheck(against), scan)
    except DomainError as exc:
        return _dossier_page(request, session, official, receipt_code, exc, "check")
    return RedirectResponse(f"{DOSSIERS}/{receipt_code}", status_code=303)


@router.post(DOSSIERS + "/{receipt_code}/scans/{document_code}", response_class=HTMLResponse)
def check_scan(request: Request, session: DbSession, official: Official, receipt_code: str,
               document_code: str) -> Response:
    """The official vouches for the scan an online applicant sent of a wallet document."""
    try:
        with session.begin_nested():
            dossier = service.dossier_for(session, official, receipt_code, lock=True)
            service.check_scan(session, official, dossier, document_code)
    except DomainError as exc:
        return _dossier_page(request, session, official, receipt_code, exc, "check")
    return RedirectResponse(f"{DOSSIERS}/{receipt_code}", status_code=303)


# --- one dossier ----------------------------------------------------------------------------

def _wallet_documents(session: Session, dossier: Dossier) -> dict[str, str]:
    """Document code -> the wallet credential that stood in for it at submission."""
    for event in service.history(session, dossier):
        if event.action == "submit":
            documents: dict[str, str] = event.detail.get("wallet_documents", {})
            return documents
    return {}


def _dossier_context(session: Session, official: Actor, receipt_code: str) -> dict[str, Any]:
    dossier = service.read_dossier(session, official, receipt_code)
    found = session.get(Procedure, dossier.procedure_id)
    assert found is not None
    return {
        "operator": official, "dossier": dossier, "procedure": found,
        "agency": service.agency_of(session, found),
        "values": [(spec, dossier.data[spec.name]) for spec in found.fields
                   if dossier.data.get(spec.name) not in (None, "")],
        "correctable": [spec for spec in found.fields if spec.source == "applicant"],
        "wallet_documents": _wallet_documents(session, dossier),
        "counter_checks": service.checked_at_counter(session, dossier),
        "unchecked_scans": service.unchecked_scans(session, dossier),
        "attachments": service.attachments(session, dossier),
        "history": service.history(session, dossier),
        "actions": service.official_actions(session, official, dossier),
        "needs_reason": {a for a, rule in TRANSITIONS.items() if rule.needs_reason},
        "overdue": service.is_overdue(dossier), "is_draft": dossier.state == State.DRAFT,
        "open": State(dossier.state) in OPEN,
        "may_assign": service.may_assign(official, dossier),
        "colleagues": service.colleagues_for(session, official, dossier)}


def _dossier_page(request: Request, session: Session, official: Actor, receipt_code: str,
                  refusal: DomainError | None = None, action: str = "") -> Response:
    """The dossier, with a refused action's reason shown above its buttons (and a missing
    reason next to the action's reason field)."""
    try:
        context = _dossier_context(session, official, receipt_code)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    errors = field_errors(refusal) if refusal and refusal.errors else {}
    return render(request, "console/services_dossier.html", {
        **context, "refusal": refusal, "errors": errors, "failed_action": action},
        refusal.status if refusal else 200)


@router.get(DOSSIERS + "/{receipt_code}", response_class=HTMLResponse)
def dossier_page(request: Request, session: DbSession, official: Official,
                 receipt_code: str) -> Response:
    return _dossier_page(request, session, official, receipt_code)


@router.post(DOSSIERS + "/{receipt_code}/actions/{action}", response_class=HTMLResponse)
def take_action(request: Request, session: DbSession, services: Services, official: Official,
                receipt_code: str, action: str, reason: Annotated[str, Form()] = "",
                fields: Annotated[list[str] | None, Form()] = None) -> Response:
    """One step of the state machine; approval runs its whole flow. A refused step leaves
    nothing behind (its savepoint is rolled back) and is shown on the dossier's page."""
    try:
        with session.begin_nested():
            if action == "approve":
                flows.approve(session, services[WALLET_SITE], services[RESULT_SIGNER], official,
                              receipt_code, reason)
            elif action == "refuse":
                flows.refuse(session, official, receipt_code, reason)
            elif action == "request_supplement":
                service.request_supplement(session, official, receipt_code, reason,
                                           fields or [])
            else:
                service.transition(session, official, receipt_code, action, reason)
    except DomainError as exc:
        return _dossier_page(request, session, official, receipt_code, exc, action)
    return RedirectResponse(f"{DOSSIERS}/{receipt_code}", status_code=303)


@router.post(DOSSIERS + "/{receipt_code}/assign", response_class=HTMLResponse)
def assign(request: Request, session: DbSession, official: Official, receipt_code: str,
           assignee: Annotated[str, Form()] = "") -> Response:
    """Hand the dossier to a colleague by username; a refusal shows beside the field."""
    try:
        with session.begin_nested():
            service.assign(session, official, receipt_code, assignee)
    except DomainError as exc:
        return _dossier_page(request, session, official, receipt_code, exc, "assign")
    return RedirectResponse(f"{DOSSIERS}/{receipt_code}", status_code=303)


@router.get(DOSSIERS + "/{receipt_code}/attachments/{attachment_id}")
def attachment(request: Request, session: DbSession, official: Official, receipt_code: str,
               attachment_id: int) -> Response:
    """The uploaded file as stored, always as a download: an official's browser never
    renders what a citizen uploaded inside the console's origin."""
    try:
        found = service.read_attachment(session, official, receipt_code, attachment_id)
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    extension = EXTENSIONS.get(found.media_type, "bin")
    name = f"{receipt_code}-{found.document_code}-{found.id}.{extension}"
    return Response(found.content, media_type=found.media_type, headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Content-Type-Options": "nosniff"})


@router.get(DOSSIERS + "/{receipt_code}/result.pdf")
def result_pdf(request: Request, session: DbSession, official: Official,
               receipt_code: str) -> Response:
    try:
        dossier = service.read_dossier(session, official, receipt_code,
                                       "read the signed result")
    except DomainError as exc:
        return console.refusal_page(request, official, exc)
    if dossier.result_pdf is None:
        missing = NotFound("this dossier has no signed result yet")
        return console.refusal_page(request, official, missing)
    return Response(dossier.result_pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{receipt_code}.pdf"'})
