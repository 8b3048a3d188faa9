"""The citizen's side of online public services in the portal: a province's catalogue, a
procedure's page, the dossier form prefilled from the register and the wallet, the payment
step of a procedure with a fee and its receipt, submission and its receipt, my dossiers with
their history, supplements, withdrawal and the signed result. Every rule is in service.py;
interlinked groups share one form, one payment and one receipt."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from civicstack.identity.auth import Citizen, MaybeCitizen
from civicstack.identity.service import SignedIn
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.db import transaction
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import Conflict, DomainError, Invalid, NotFound, RefusedWithPage
from civicstack.kit.web import field_errors, render
from civicstack.registry import service as registry
from civicstack.services import catalogue, checkout, service
from civicstack.services.models import Attachment, Dossier, DossierGroup, Procedure
from civicstack.services.payments import PaymentMethod
from civicstack.services.site import PAYMENTS
from civicstack.services.states import Party, State, allowed_actions
from civicstack.wallet.site import WALLET_SITE, WalletSite

router = html_router()
SERVICES, DOSSIERS = "/services", "/dossiers"
UPLOAD_PREFIX = "document_"  # an upload's input is named after the document it carries


async def posted_form(request: Request) -> FormData:
    """The whole form: a dossier's fields depend on its procedure, so they are not declared."""
    return await request.form()


PostedForm = Annotated[FormData, Depends(posted_form)]


def _actor(signed: SignedIn) -> Actor:
    return Actor("citizen", signed.account.personal_id_number)


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _refused(request: Request, exc: DomainError) -> Response:
    return render(request, "portal/services_refused.html", {"refusal": exc}, exc.status)


# --- the catalogue --------------------------------------------------------------------------

def _province(session: Session, signed: SignedIn | None, asked: str) -> str:
    """The province asked for, else the signed-in citizen's own, else none (a chooser)."""
    if asked or signed is None:
        return asked
    return service.home_province(session, _actor(signed), signed.account.personal_id_number)


@router.get(SERVICES, response_class=HTMLResponse)
def services_catalogue(request: Request, session: DbSession, maybe: MaybeCitizen,
                       province: str = "", q: str = "") -> Response:
    chosen = _province(session, maybe, province)
    provinces = registry.provinces(session)
    place = next((p for p in provinces if p.code == chosen), None)
    listed = service.matching(service.catalogue_for(session, place.code), q) if place else []
    ordered = sorted(listed, key=lambda p: (p.agency.id, p.procedure.code))
    groups = [(code, names, [p for p in listed if p.procedure.group_code == code])
              for code, names in catalogue.GROUPS.items()]
    return render(request, "portal/services_catalogue.html", {
        "provinces": provinces, "province": place, "query": q, "found": len(listed),
        "agencies": [(agency, list(rows)) for agency, rows in
                     groupby(ordered, key=lambda p: p.agency)],
        "groups": [group for group in groups if group[2]]})


# --- a procedure, or a group of them --------------------------------------------------------

def _published(session: Session, found: Procedure, province: str) -> service.Published | None:
    """Its fees where the citizen lives (None: not offered there); national fees when the
    province is not known."""
    if not province:
        return service.Published(found, service.agency_of(session, found), found.fee,
                                 found.online_fee)
    try:
        return service.published(session, found.code, province)
    except DomainError:
        return None


def _procedures_page(request: Request, session: Session, signed: SignedIn | None,
                     members: list[Procedure], group_code: str | None, province: str,
                     refusal: DomainError | None = None) -> Response:
    chosen = _province(session, signed, province)
    offered = [(found, _published(session, found, chosen)) for found in members]
    fields, documents = _union(members)
    return render(request, "portal/services_procedure.html", {
        "offered": offered, "group_code": group_code,
        "group_names": catalogue.GROUPS.get(group_code or "", (group_code, group_code)),
        "fields": fields, "documents": documents, "province": chosen,
        "signed_in": signed is not None,
        "filing_for": service.filing_organisations(
            session, signed.account.personal_id_number) if signed and not group_code else [],
        "refusal": refusal}, refusal.status if refusal else 200)


@router.get(SERVICES + "/{code}", response_class=HTMLResponse)
def procedure_page(request: Request, session: DbSession, maybe: MaybeCitizen, code: str,
                   province: str = "") -> Response:
    try:
        found = service.procedure(session, code)
    except NotFound as exc:
        return _refused(request, exc)
    return _procedures_page(request, session, maybe, [found], None, province)


@router.get(SERVICES + "/groups/{group_code}", response_class=HTMLResponse)
def group_page(request: Request, session: DbSession, maybe: MaybeCitizen, group_code: str,
               province: str = "") -> Response:
    try:
        members = service.group_procedures(session, group_code)
    except NotFound as exc:
        return _refused(request, exc)
    return _procedures_page(request, session, maybe, members, group_code, province)


@router.post(SERVICES + "/{code}/start", response_class=HTMLResponse)
def start(request: Request, session: DbSession, signed: Citizen, code: str,
          organisation: Annotated[str, Form()] = "") -> Response:
    """Start a draft for the citizen themself, or for an organisation they file for."""
    try:
        found = service.procedure(session, code)
        draft = service.start_draft(session, _actor(signed), signed.account.personal_id_number,
                                    code, organisation or None)
    except NotFound as exc:
        return _refused(request, exc)
    except DomainError as exc:  # not offered where the citizen lives
        return _procedures_page(request, session, signed, [found], None, "", exc)
    return RedirectResponse(f"{DOSSIERS}/{draft.receipt_code}", status_code=303)


@router.post(SERVICES + "/groups/{group_code}/start", response_class=HTMLResponse)
def start_group(request: Request, session: DbSession, signed: Citizen,
                group_code: str) -> Response:
    try:
        members = service.group_procedures(session, group_code)
        drafts = service.start_group(session, _actor(signed),
                                     signed.account.personal_id_number, group_code)
    except NotFound as exc:
        return _refused(request, exc)
    except DomainError as exc:
        return _procedures_page(request, session, signed, members, group_code, "", exc)
    group = service.group_of(session, drafts[0])
    assert group is not None  # start_group made it
    return RedirectResponse(f"{DOSSIERS}/{group.receipt_code}", status_code=303)


def _union(members: list[Procedure]) -> tuple[list[catalogue.FieldSpec],
                                              list[catalogue.DocumentSpec]]:
    """The fields and documents of several procedures, each once: one form for a group."""
    fields: dict[str, catalogue.FieldSpec] = {}
    documents: dict[str, catalogue.DocumentSpec] = {}
    for found in members:
        for spec in found.fields:
            fields.setdefault(spec.name, spec)
        for document in found.documents:
            documents.setdefault(document.code, document)
    return list(fields.values()), list(documents.values())


# --- a dossier (or a group's dossiers) ------------------------------------------------------

@dataclass(frozen=True)
class Opened:
    """What a receipt code opens: one dossier, or every dossier of a group."""

    receipt_code: str
    dossiers: list[Dossier]
    group: DossierGroup | None  # the group of these dossiers, if any

    @property
    def is_group(self) -> bool:
        return self.group is not None and self.group.receipt_code == self.receipt_code

    @property
    def is_draft(self) -> bool:
        return all(d.state == State.DRAFT.value for d in self.dossiers)


def _open(session: Session, actor: Actor, receipt_code: str, *, lock: bool = False) -> Opened:
    return Opened(receipt_code, *service.under_receipt(session, actor, receipt_code, lock=lock))


def _open_one(session: Session, actor: Actor, receipt_code: str, *,
              lock: bool = False) -> Opened:
    """A dossier under its own receipt, never a group's: for what only a dossier has."""
    dossier = service.dossier_for(session, actor, receipt_code, lock=lock)
    return Opened(receipt_code, [dossier], service.group_of(session, dossier))


def _within_scope(request: Request, load: Callable[[], Opened]) -> Opened:
    """What `load` opens; a receipt that is not the citizen's is answered as one that does
    not exist, with the services' own refusal page."""
    try:
        return load()
    except NotFound as exc:
        raise RefusedWithPage(_refused(request, exc)) from exc


def _own(open_receipt: Callable[..., Opened], *, lock: bool) -> Callable[..., Opened]:
    """A dependency: what `open_receipt` opens under the path's receipt code, if the signed-in
    citizen applied for it; with `lock`, held until the request's transaction ends."""
    def own(request: Request, session: DbSession, signed: Citizen,
            receipt_code: str) -> Opened:
        return _within_scope(request, lambda: open_receipt(session, _actor(signed),
                                                           receipt_code, lock=lock))
    return own


# The citizen's own dossier (or group of dossiers) under the path's receipt code, resolved
# after the router's CSRF check and the citizen; "Single": one dossier under its own receipt,
# never a group's; "Locked": for a change to it.
OwnDossier = Annotated[Opened, Depends(_own(_open, lock=False))]
OwnDossierLocked = Annotated[Opened, Depends(_own(_open, lock=True))]
OwnSingleDossier = Annotated[Opened, Depends(_own(_open_one, lock=False))]
OwnSingleDossierLocked = Annotated[Opened, Depends(_own(_open_one, lock=True))]


def _form_page(request: Request, session: Session, site: WalletSite, actor: Actor,
               opened: Opened, errors: dict[str, str] | None = None,
               status_code: int = 200) -> Response:
    members = [service.procedure_of(session, d) for d in opened.dossiers]
    values: dict[str, Any] = {}
    wallet_documents: dict[str, str] = {}
    for dossier, found in zip(opened.dossiers, members, strict=True):
        filled = service.prefill(session, site, actor, dossier.applicant_pid, found)
        values.update({k: v for k, v in dossier.data.items() if k not in values})
        values.update(filled.values)  # the register's and wallet's values win, as at submission
        wallet_documents.update(filled.wallet_documents)
    fields, documents = _union(members)
    return render(request, "portal/services_form.html", {
        "opened": opened, "procedures": members, "fields": fields, "documents": documents,
        "values": values, "wallet_documents": wallet_documents,
        "uploaded": _uploaded(session, opened.dossiers),
        "from_record": {code for d in opened.dossiers
                        for code, check in service.checked_at_counter(session, d).items()
                        if check.detail.get("checked_against") == "register"},
        "ward_office": service.counter_office(session, opened.dossiers[0]),
        "fee": sum(d.fee for d in opened.dossiers), "errors": errors or {},
        "saved": request.query_params.get("saved") == "1"}, status_code)


def _uploaded(session: Session, dossiers: list[Dossier]) -> dict[str, list[Attachment]]:
    """Each document's uploads, once even where two dossiers of a group both hold a copy."""
    found: dict[str, list[Attachment]] = {}
    seen: set[tuple[str, str]] = set()
    for dossier in dossiers:
        for attachment in service.attachments(session, dossier):
            if (attachment.document_code, attachment.sha256) not in seen:
                seen.add((attachment.document_code, attachment.sha256))
                found.setdefault(attachment.document_code, []).append(attachment)
    return found


def _status_page(request: Request, session: Session, opened: Opened,
                 errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    if opened.is_group:
        return render(request, "portal/services_group.html", {
            "opened": opened, "group": opened.group,
            "rows": [(d, service.procedure_of(session, d), service.is_overdue(d))
                     for d in opened.dossiers],
            "fee": sum(d.fee for d in opened.dossiers),
            "due_on": max((d.due_on for d in opened.dossiers if d.due_on), default=None),
            "submitted": request.query_params.get("submitted") == "1"}, status_code)
    dossier = opened.dossiers[0]
    found = service.procedure_of(session, dossier)
    events = service.history(session, dossier)
    asked = [e for e in events if e.action == "request_supplement"]
    return render(request, "portal/services_dossier.html", {
        "dossier": dossier, "procedure": found, "agency": service.agency_of(session, found),
        "group": opened.group, "events": events, "overdue": service.is_overdue(dossier),
        "actions": allowed_actions(State(dossier.state), Party.APPLICANT),
        "supplement_reason": asked[-1].reason if asked else "",
        "to_correct": service.fields_to_correct(session, dossier),
        "documents": [d for d in found.documents if not d.wallet_document_type],
        "uploaded": _uploaded(session, [dossier]), "errors": errors or {},
        "submitted": request.query_params.get("submitted") == "1"}, status_code)


@router.get(DOSSIERS, response_class=HTMLResponse)
def my_dossiers(request: Request, session: DbSession, signed: Citizen) -> Response:
    held = service.my_dossiers(session, signed.account.personal_id_number)
    return render(request, "portal/services_dossiers.html", {
        "rows": [(d, service.procedure_of(session, d), service.is_overdue(d)) for d in held],
        "organisations": service.filing_organisations(session,
                                                      signed.account.personal_id_number)})


@router.get(DOSSIERS + "/organisations/{tax_code}", response_class=HTMLResponse)
def organisation_dossiers(request: Request, session: DbSession, signed: Citizen,
                          tax_code: str) -> Response:
    """Dossiers filed for an organisation, for its members who may file for it; a member
    opens those they filed themselves."""
    pid = signed.account.personal_id_number
    try:
        acting, found = service.organisation_dossiers(session, pid, tax_code)
    except DomainError as exc:
        return _refused(request, exc)
    return render(request, "portal/services_organisation_dossiers.html", {
        "acting": acting, "me": pid,
        "rows": [(d, service.procedure_of(session, d), service.is_overdue(d)) for d in found]})


def _to_the_groups(opened: Opened, page: str = "") -> Response | None:
    """A group member's draft sent to the group's same page: a group's drafts are filled, paid
    for and submitted as one, under the group's receipt."""
    if opened.group and not opened.is_group and opened.is_draft:
        return RedirectResponse(f"{DOSSIERS}/{opened.group.receipt_code}{page}",
                                status_code=303)
    return None


@router.get(DOSSIERS + "/{receipt_code}", response_class=HTMLResponse)
def dossier_page(request: Request, session: DbSession, services: Services, signed: Citizen,
                 opened: OwnDossier) -> Response:
    grouped = _to_the_groups(opened)
    if grouped is not None:
        return grouped
    if opened.is_draft:
        return _form_page(request, session, services[WALLET_SITE], _actor(signed), opened)
    return _status_page(request, session, opened)


def _upload_errors(session: Session, actor: Actor, dossiers: list[Dossier],
                   form: FormData) -> dict[str, str]:
    """Attach each file sent to every dossier whose procedure asks for its document; the
    refusals by document. Only a little more than the limit is read: the rest is refused."""
    errors: dict[str, str] = {}
    for dossier in dossiers:
        for spec in service.procedure_of(session, dossier).documents:
            upload = form.get(UPLOAD_PREFIX + spec.code)
            if not isinstance(upload, UploadFile) or not upload.filename:
                continue
            upload.file.seek(0)
            content = upload.file.read(spec.max_bytes + 1)
            if not content:
                continue
            try:
                service.add_attachment(session, actor, dossier, spec.code, upload.filename,
                                       upload.content_type or "", content)
            except DomainError as exc:
                errors.update(field_errors(exc))
    return errors


def _save(request: Request, session: Session, site: WalletSite, actor: Actor,
          receipt_code: str, form: FormData) -> Response | None:
    """Keep what was typed and uploaded; the page saying why not, if it cannot be kept."""
    opened = _within_scope(request, lambda: _open(session, actor, receipt_code, lock=True))
    try:
        for dossier in opened.dossiers:
            typed = {spec.name: _text(form, spec.name)
                     for spec in service.procedure_of(session, dossier).fields
                     if spec.source == "applicant" and spec.name in form}
            service.save_draft(session, actor, dossier, typed)
    except Invalid as exc:  # a value refused as typed: shown by its field
        return _form_page(request, session, site, actor, opened, field_errors(exc), exc.status)
    except DomainError as exc:  # no longer a draft
        return _status_page(request, session, opened, field_errors(exc), exc.status)
    errors = _upload_errors(session, actor, opened.dossiers, form)
    return _form_page(request, session, site, actor, opened, errors, 422) if errors else None


@router.post(DOSSIERS + "/{receipt_code}", response_class=HTMLResponse)
def save_or_submit(request: Request, session: DbSession, services: Services,
                   signed: Citizen, receipt_code: str, form: PostedForm) -> Response:
    """Save what was typed and uploaded, committed on its own; with "submit", submit it too
    (every dossier of a group or none) through checkout, which commits each fee as pending
    before charging it. A refusal shows the form again with each reason by its field."""
    here, site = f"{DOSSIERS}/{receipt_code}", services[WALLET_SITE]
    actor = _actor(signed)
    # Committed before checkout records the fees in transactions of their own, which must
    # not wait on this one's hold of the dossier.
    with transaction(services.session_factory) as saving:
        refused = _save(request, saving, site, actor, receipt_code, form)
    if refused is not None:
        return refused
    if _text(form, "action") != "submit":
        return RedirectResponse(f"{here}?saved=1", status_code=303)
    opened = _open(session, actor, receipt_code)
    try:
        if _fee(opened) > 0:  # checked first: nobody pays for a form that will be refused
            service.check_ready(session, site, actor, opened.dossiers)
            return RedirectResponse(f"{here}/payment", status_code=303)
        checkout.submit(services.session_factory, site, actor, receipt_code,
                        services[PAYMENTS])
    except DomainError as exc:  # the draft stays as saved above
        return _form_page(request, session, site, actor, _open(session, actor, receipt_code),
                          field_errors(exc), exc.status)
    return RedirectResponse(f"{here}?submitted=1", status_code=303)


@router.post(DOSSIERS + "/{receipt_code}/records/{document_code}",
             response_class=HTMLResponse)
def use_record(request: Request, session: DbSession, services: Services, signed: Citizen,
               opened: OwnDossierLocked, document_code: str) -> Response:
    """The applicant's choice of the register's record for a document their wallet lacks; a
    refusal (no record) shown by the document, with the other ways forward beside it, while
    the register's read stays in the audit log. The same record serves every dossier of a
    group that asks for the document."""
    actor = _actor(signed)
    try:
        for dossier in opened.dossiers:
            if any(d.code == document_code
                   for d in service.procedure_of(session, dossier).documents):
                service.use_record(session, actor, dossier, document_code)
    except DomainError as exc:
        return _form_page(request, session, services[WALLET_SITE], actor, opened,
                          field_errors(exc), exc.status)
    return RedirectResponse(f"{DOSSIERS}/{opened.receipt_code}?saved=1", status_code=303)

# --- the payment step -----------------------------------------------------------------------

def _fee(opened: Opened) -> int:
    return sum(d.fee for d in opened.dossiers)


def _payment_page(request: Request, session: Session, opened: Opened,
                  form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                  declined: bool = False, status_code: int = 200) -> Response:
    return render(request, "portal/services_payment.html", {
        "opened": opened, "fee": _fee(opened), "methods": list(PaymentMethod),
        "rows": [(d, service.procedure_of(session, d)) for d in opened.dossiers],
        "form": form or {"method": PaymentMethod.CARD.value}, "errors": errors or {},
        "declined": declined}, status_code)


def _paid_or_form(session: Session, opened: Opened) -> Response | None:
    """Where a payment page sends a dossier it has nothing to ask for: a free draft back to its
    form; a submitted one to its payment's receipt (a second click, a page kept open), or to
    its own page, which says where it stands, when it has no payment (free, or a bookmark); a
    group member's draft to the group's payment step, never paid for and submitted alone."""
    here = f"{DOSSIERS}/{opened.receipt_code}"
    grouped = _to_the_groups(opened, "/payment")
    if grouped is not None:
        return grouped
    if opened.is_draft:
        return RedirectResponse(here, status_code=303) if _fee(opened) == 0 else None
    paid = service.fees_paid(session, opened.dossiers)
    return RedirectResponse(f"{here}/payment/receipt" if paid else here, status_code=303)


@router.get(DOSSIERS + "/{receipt_code}/payment", response_class=HTMLResponse)
def payment_page(request: Request, session: DbSession, opened: OwnDossier) -> Response:
    return _paid_or_form(session, opened) or _payment_page(request, session, opened)


@router.post(DOSSIERS + "/{receipt_code}/payment", response_class=HTMLResponse)
def pay(request: Request, session: DbSession, services: Services, signed: Citizen,
        opened: OwnDossier, method: Annotated[str, Form()] = "",
        account: Annotated[str, Form()] = "") -> Response:
    """Pay the fee from the source chosen, then submit (checkout): a declined payment leaves
    the draft unsubmitted and this page again, saying so, to try another card or account."""
    actor, typed = _actor(signed), {"method": method, "account": account}
    elsewhere = _paid_or_form(session, opened)
    if elsewhere is not None:
        return elsewhere
    try:
        source = service.payment_source(method, account)
        checkout.submit(services.session_factory, services[WALLET_SITE], actor,
                        opened.receipt_code, services[PAYMENTS], source)
    except service.PaymentRefused as exc:
        return _payment_page(request, session, opened, typed, declined=True,
                             status_code=exc.status)
    except Invalid as exc:
        return _payment_page(request, session, opened, typed, field_errors(exc),
                             status_code=exc.status)
    except Conflict:  # submitted meanwhile: by the first of two clicks
        pass
    return RedirectResponse(f"{DOSSIERS}/{opened.receipt_code}/payment/receipt",
                            status_code=303)


@router.get(DOSSIERS + "/{receipt_code}/payment/receipt", response_class=HTMLResponse)
def payment_receipt(request: Request, session: DbSession, opened: OwnDossier) -> Response:
    """The payment's receipt: what was paid, for which dossier, when and how; printable.
    Without a payment there is no receipt to show, but the address is the citizen's own
    (typed, bookmarked): an unpaid draft goes to its payment step, any other dossier to its
    own page, rather than to a page saying only that nothing is here."""
    paid = service.fees_paid(session, opened.dossiers)
    if not paid:
        return _paid_or_form(session, opened) or RedirectResponse(
            f"{DOSSIERS}/{opened.receipt_code}/payment", status_code=303)
    return render(request, "portal/services_payment_receipt.html", {
        "opened": opened, "total": sum(p.amount for _, p in paid),
        "rows": [(d, service.procedure_of(session, d), p) for d, p in paid]})


@router.post(DOSSIERS + "/{receipt_code}/supplement", response_class=HTMLResponse)
def send_supplement(request: Request, session: DbSession, signed: Citizen,
                    opened: OwnSingleDossierLocked, form: PostedForm) -> Response:
    """The documents and corrected fields an official asked for, then the dossier goes back
    to them."""
    actor, dossier = _actor(signed), opened.dossiers[0]
    errors = _upload_errors(session, actor, [dossier], form)
    if errors:
        return _status_page(request, session, opened, errors, 422)
    asked = service.fields_to_correct(session, dossier)
    try:
        service.supplement(session, actor, opened.receipt_code,
                           {spec.name: _text(form, spec.name) for spec in asked})
    except DomainError as exc:
        return _status_page(request, session, opened, field_errors(exc), exc.status)
    return RedirectResponse(f"{DOSSIERS}/{opened.receipt_code}", status_code=303)


@router.post(DOSSIERS + "/{receipt_code}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, session: DbSession, signed: Citizen, opened: OwnSingleDossier,
             reason: Annotated[str, Form()] = "") -> Response:
    try:
        service.transition(session, _actor(signed), opened.receipt_code, "withdraw", reason)
    except DomainError as exc:
        return _status_page(request, session, opened, field_errors(exc), exc.status)
    return RedirectResponse(f"{DOSSIERS}/{opened.receipt_code}", status_code=303)


@router.get(DOSSIERS + "/{receipt_code}/result.pdf")
def result_pdf(opened: OwnSingleDossier) -> Response:
    """The signed result, to its applicant only (the console's flow wrote it). Before there is
    one (or where there never will be: refused, withdrawn), the dossier's own page, which
    says where it stands."""
    dossier = opened.dossiers[0]
    if dossier.result_pdf is None:
        return RedirectResponse(f"{DOSSIERS}/{opened.receipt_code}", status_code=303)
    return Response(dossier.result_pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{opened.receipt_code}.pdf"',
        "Cache-Control": "no-store"})
