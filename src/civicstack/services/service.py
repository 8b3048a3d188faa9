"""The rules of online public services: the catalogue as published per province, dossier
drafts prefilled from the register and the wallet, attachments, submission with payment, every
transition through the state machine (states.py) with its audit entry and notification, the
officials' inbox, and re-routing after administrative units merge."""

from __future__ import annotations

import dataclasses
import enum
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session

from civicstack.identity import officials
from civicstack.identity import service as identity
from civicstack.kit import audit, calendar, uploads
from civicstack.kit.audit import Actor
from civicstack.kit.audit_purposes import coded
from civicstack.kit.authz import Permission, Role
from civicstack.kit.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.reasons import stated_reason
from civicstack.kit.text import fold, typed_text
from civicstack.kit.uploads import Refusal
from civicstack.organisations import service as organisations
from civicstack.organisations.models import MemberPermission
from civicstack.registry import service as registry
from civicstack.registry.rules import load_reference_data
from civicstack.services import catalogue, repository
from civicstack.services.models import (
    Agency,
    Attachment,
    Dossier,
    DossierEvent,
    DossierGroup,
    Offering,
    Payment,
    PaymentStatus,
    Procedure,
)
from civicstack.services.payments import (
    PaymentChannel,
    PaymentDeclined,
    PaymentMethod,
    PaymentSource,
)
from civicstack.services.states import OPEN, TRANSITIONS, Party, State
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite

MAX_TEXT = 300
SUBJECT = "dossier"
REQUIRED = N_("Required.")
ALREADY_SUBMITTED = N_("this dossier was already submitted")
SUBMITTED_TOGETHER = N_("the dossiers of a group are submitted together, under the group's "
                        "receipt")
WRONG_TYPE = N_("the file must be a PDF, JPEG or PNG")


def now() -> datetime:
    return datetime.now(UTC)


# --- catalogue ------------------------------------------------------------------------------

def seed_catalogue(session: Session, province_codes: list[str]) -> int:
    """Load the demo catalogue and publish it in the given provinces; returns rows added."""
    added = 0
    for kind in catalogue.AGENCIES:
        if repository.agency(session, kind.code) is None:
            session.add(Agency(code=kind.code, name=kind.name, name_en=kind.name_en,
                               level=kind.level, ministry=kind.ministry,
                               deciding_role=kind.deciding_role))
            added += 1
    session.flush()
    for seed in catalogue.PROCEDURES:
        found = repository.procedure(session, seed.code)
        if found is None:
            found = _add_procedure(session, seed)
            added += 1
        for province in seed.provinces or province_codes:
            if province in province_codes and \
                    repository.offering(session, found.id, province) is None:
                fee, online_fee = catalogue.LOCAL_FEES.get((seed.code, province), (None, None))
                session.add(Offering(procedure_id=found.id, province_code=province, fee=fee,
                                     online_fee=online_fee))
                added += 1
    session.flush()
    return added


def _add_procedure(session: Session, seed: catalogue.ProcedureSeed) -> Procedure:
    agency = repository.agency(session, seed.agency)
    assert agency is not None  # seeded just before
    procedure = Procedure(
        code=seed.code, name=seed.name, name_en=seed.name_en, agency_id=agency.id,
        online_level=seed.online_level, legal_basis=seed.legal_basis, fee=seed.fee,
        online_fee=seed.online_fee, processing_days=seed.processing_days,
        fields=seed.fields, documents=seed.documents,
        result_document_type=seed.result_document_type, register_effect=seed.register_effect,
        group_code=seed.group_code, active=True)
    session.add(procedure)
    session.flush()
    return procedure


def procedure(session: Session, code: str) -> Procedure:
    found = repository.procedure(session, code)
    if found is None or not found.active:
        raise NotFound(f"no procedure {code} in the catalogue")
    return found


def agency_of(session: Session, found: Procedure) -> Agency:
    agency = session.get(Agency, found.agency_id)
    assert agency is not None  # a foreign key
    return agency


@dataclass(frozen=True)
class Published:
    procedure: Procedure
    agency: Agency
    fee: int
    online_fee: int


def _published(found: Procedure, agency: Agency, offering: Offering) -> Published:
    return Published(found, agency, found.fee if offering.fee is None else offering.fee,
                     found.online_fee if offering.online_fee is None else offering.online_fee)


def catalogue_for(session: Session, province_code: str) -> list[Published]:
    """The procedures a province offers, with its fees."""
    agencies = {a.id: a for a in repository.agencies(session)}
    return [_published(found, agencies[found.agency_id], offering)
            for found, offering in repository.offered_in(session, province_code)]


def matching(offered: list[Published], query: str) -> list[Published]:
    """The procedures whose Vietnamese or English name holds every word typed, with or without
    diacritics ('khai sinh', 'Khai sinh', 'birth' all find the birth registration)."""
    words = fold(query).split()
    return [p for p in offered
            if all(word in fold(f"{p.procedure.name} {p.procedure.name_en}") for word in words)]


def published(session: Session, code: str, province_code: str) -> Published:
    found = procedure(session, code)
    offering = repository.offering(session, found.id, province_code)
    if offering is None:
        raise Conflict(N_("This procedure is not offered in your province."))
    return _published(found, agency_of(session, found), offering)


# --- prefill --------------------------------------------------------------------------------

PURPOSE_PREFILL = coded("services.prefill")


def _register_values(person: Any, places: dict[str, str]) -> dict[str, Any]:
    address = ", ".join(p for p in (person.permanent_address_line,
                                    places.get(person.permanent_ward_code, "")) if p)
    return {"full_name": person.full_name, "personal_id_number": person.personal_id_number,
            "date_of_birth": person.date_of_birth.isoformat(), "sex": person.sex,
            "phone": person.phone or "", "permanent_address": address}


@dataclass(frozen=True)
class Prefill:
    values: dict[str, Any]  # field name -> value drawn from the register or the wallet
    wallet_documents: dict[str, str]  # document code -> the wallet credential that serves it


def prefill(session: Session, site: WalletSite, actor: Actor, applicant_pid: str,
            found: Procedure) -> Prefill:
    """What the register and the wallet already hold for this procedure's form: read with an
    audited purpose, never typed again by the citizen."""
    person = registry.get_person(session, actor, applicant_pid, PURPOSE_PREFILL)
    register = _register_values(person, registry.place_names(session, [person]))
    held = {card.document.code: card for card in wallet.cards(session, site, applicant_pid)
            if card.credential.status == "valid" and not card.expired}
    values: dict[str, Any] = {}
    for spec in found.fields:
        kind, _, path = spec.source.partition(":")
        if kind == "register" and register.get(path):
            values[spec.name] = register[path]
        elif kind == "wallet":
            document_code, _, claim = path.partition(".")
            card = held.get(document_code)
            if card and claim in card.claims:
                values[spec.name] = card.claims[claim]
    documents = {spec.code: held[spec.wallet_document_type].credential.public_id
                 for spec in found.documents
                 if spec.wallet_document_type in held}
    return Prefill(values, documents)


# --- drafts ---------------------------------------------------------------------------------

def _receipt_code(session: Session, province_code: str) -> str:
    """`<province><yymmdd>-<6 letters>`: says where and when, guessable by nobody."""
    while True:
        code = f"{province_code}{now():%y%m%d}-{secrets.token_hex(3).upper()}"
        if not repository.receipt_taken(session, code):
            return code


def _record(session: Session, actor: Actor, dossier: Dossier, action: str,
            from_state: str | None, reason: str = "",
            detail: dict[str, Any] | None = None) -> DossierEvent:
    event = DossierEvent(dossier_id=dossier.id, seq=repository.last_seq(session, dossier.id) + 1,
                         action=action, from_state=from_state, to_state=dossier.state,
                         actor=str(actor), reason=reason, occurred_at=now(),
                         detail=detail or {})
    session.add(event)
    audit.record(session, actor, f"services.dossier.{action}", subject_type=SUBJECT,
                 subject_id=dossier.receipt_code, purpose=reason or action,
                 detail={"from": from_state, "to": dossier.state,
                         "applicant": dossier.applicant_pid, **(detail or {})})
    return event


def _require_applicant(actor: Actor, dossier: Dossier) -> None:
    """The citizen themself, or an official at the counter who holds dossier:process."""
    if actor.kind == "citizen" and actor.name == dossier.applicant_pid:
        return
    if actor.may(Permission.DOSSIER_PROCESS) and actor.may_see(dossier.province_code,
                                                               dossier.ward_code):
        return
    raise NotFound("no such dossier")


def filing_organisations(session: Session, applicant_pid: str) -> list[organisations.Acting]:
    """The active organisations this citizen may file public services for."""
    account = identity.account_for_person(session, applicant_pid)
    return organisations.organisations_acting(session, account.id,
                                              MemberPermission.SERVICES_FILE) if account else []


def _filed_for(session: Session, actor: Actor, applicant_pid: str,
               tax_code: str) -> organisations.Acting:
    """The organisation the applicant files for: only the member themself, online, with
    services:file in an active organisation (a clerk at the counter cannot prove it)."""
    account = identity.account_for_person(session, applicant_pid)
    if actor.kind != "citizen" or actor.name != applicant_pid or account is None:
        raise Forbidden(N_("Only a member authorised by the organisation may file for it, "
                           "signed in with their own eID account."))
    return organisations.acting_for(session, account.id, tax_code,
                                    MemberPermission.SERVICES_FILE)


def organisation_dossiers(session: Session, member_pid: str,
                          tax_code: str) -> tuple[organisations.Acting, list[Dossier]]:
    """The dossiers filed for the organisation by any of its members, for a member who may
    file for it (its representative, or one holding services:file): they carry on each
    other's affairs. Not a member: 404; without the permission, or the organisation
    suspended: 403. Each listing is audited on the organisation."""
    account = identity.account_for_person(session, member_pid)
    if account is None:
        raise NotFound(organisations.NOT_MEMBER)
    acting = organisations.acting_for(session, account.id, tax_code,
                                      MemberPermission.SERVICES_FILE)
    found = repository.dossiers_of_organisation(session, acting.tax_code)
    audit.record(session, Actor("citizen", member_pid), "services.dossier.organisation_list",
                 subject_type="organisation", subject_id=acting.tax_code,
                 purpose="the organisation's dossiers",
                 detail={"dossiers": [d.receipt_code for d in found]})
    return acting, found


def start_draft(session: Session, actor: Actor, applicant_pid: str, code: str,
                organisation_tax_code: str | None = None) -> Dossier:
    """A draft for the applicant, routed to where they live; a clerk's is `assisted`. Filed
    for an organisation, it is the organisation's affair: it goes to the head office's ward
    and province, whose agency is competent, wherever the member lives."""
    person = registry.get_person(session, actor, applicant_pid, "open a dossier")
    if person.status != "alive":
        raise Conflict("the applicant is recorded as deceased")
    province, ward, acting = person.permanent_province_code, person.permanent_ward_code, None
    if organisation_tax_code:
        acting = _filed_for(session, actor, applicant_pid, organisation_tax_code)
        province = acting.organisation.head_office_province_code
        ward = acting.organisation.head_office_ward_code
    offered = published(session, code, province)
    channel = "online" if actor.kind == "citizen" else "assisted"
    dossier = Dossier(
        receipt_code=_receipt_code(session, province),
        procedure_id=offered.procedure.id, group_id=None, applicant_pid=applicant_pid,
        organisation_tax_code=acting.tax_code if acting else None,
        submitted_by=str(actor), channel=channel, state=State.DRAFT.value,
        province_code=province, ward_code=ward,
        data={}, fee=offered.online_fee if channel == "online" else offered.fee,
        created_at=now(), decision_reason="")
    session.add(dossier)
    session.flush()
    _record(session, actor, dossier, "create", None,
            detail={"organisation": acting.tax_code, "member_role": acting.role}
            if acting else None)
    return dossier


def save_draft(session: Session, actor: Actor, dossier: Dossier,
               values: dict[str, Any]) -> Dossier:
    """Keep what the citizen typed so far, composed; only control characters are refused now,
    every other check waits for submission."""
    _require_applicant(actor, dossier)
    if dossier.state != State.DRAFT.value:
        raise Conflict("only a draft can be edited")
    found = procedure_of(session, dossier)
    names = {spec.name for spec in found.fields}
    typed, errors = {}, []
    for name, value in values.items():
        if name in names:
            try:
                typed[name] = typed_text(name, str(value)[:MAX_TEXT])
            except Invalid as refusal:
                errors.extend(refusal.errors)
    if errors:
        raise Invalid.of_fields(errors)
    dossier.data = {**dossier.data, **typed}
    return dossier


def add_attachment(session: Session, actor: Actor, dossier: Dossier, document_code: str,
                   filename: str, media_type: str, content: bytes) -> Attachment:
    """A document the procedure asks for: a paper, or a scan of a wallet document the
    applicant's wallet lacks, which an official checks before the decision (check_scan). The
    file parsed, not trusted by the name or type the browser sent, and kept as checked
    (kit/uploads.py). A draft holds one file per document, the last one sent; a supplement is
    kept beside the file the official has already seen."""
    _require_applicant(actor, dossier)
    if dossier.state not in (State.DRAFT.value, State.SUPPLEMENT_REQUESTED.value):
        raise Conflict("attachments can be added to a draft or when a supplement is asked for")
    spec = _document_spec(session, dossier, document_code)
    if spec.wallet_document_type and dossier.channel == "assisted":
        raise Invalid(document_code, N_("At the counter this document is checked, not "
                                        "uploaded."))
    return _store_file(session, dossier, spec, filename, media_type, content)


def _document_spec(session: Session, dossier: Dossier,
                   document_code: str) -> catalogue.DocumentSpec:
    found = procedure_of(session, dossier)
    spec = next((d for d in found.documents if d.code == document_code), None)
    if spec is None:
        raise Invalid(document_code, "this procedure does not ask for this document")
    return spec


def _store_file(session: Session, dossier: Dossier, spec: catalogue.DocumentSpec,
                filename: str, media_type: str, content: bytes) -> Attachment:
    too_large = f"the file is larger than {spec.max_bytes // 1048576} MB"
    checked = uploads.check_upload(
        spec.code, content, media_type, max_bytes=spec.max_bytes, allowed=spec.media_types,
        words={Refusal.NOT_ALLOWED: WRONG_TYPE, Refusal.MISLABELLED: WRONG_TYPE,
               Refusal.TOO_LARGE: too_large})
    if dossier.state == State.DRAFT.value:
        repository.remove_attachments(session, dossier.id, spec.code)
    attachment = Attachment(dossier_id=dossier.id, document_code=spec.code,
                            filename=filename[:200] or "file", media_type=checked.media_type,
                            size=len(checked.content), sha256=checked.sha256,
                            content=checked.content, uploaded_at=now())
    session.add(attachment)
    session.flush()
    return attachment


# --- the counter: an official vouches for the documents a walk-in's wallet lacks ------------

class CounterCheck(enum.StrEnum):
    """What an official at the counter held a presented document against."""

    REGISTER = "register"  # the register's record, or the issuer's record of the document
    PAPER = "paper"  # the original paper, whose scan or photograph the dossier keeps


@dataclass(frozen=True)
class Scan:
    """A scan or photograph of an original paper, as the browser sent it."""

    filename: str
    media_type: str
    content: bytes


CHECK_DOCUMENT = "check_document"
PURPOSE_COUNTER_CHECK = coded("services.counter_check")
NOT_ON_RECORD = N_("Neither the register nor the issuer holds this document for the "
                   "applicant: check the original paper and scan it.")
SCAN_NEEDED = N_("Scan or photograph the original paper.")


def check_at_counter(session: Session, actor: Actor, dossier: Dossier, document_code: str,
                     against: CounterCheck, scan: Scan | None = None) -> DossierEvent:
    """An official filing a dossier at the counter vouches for a document that would
    otherwise come from the applicant's wallet: held against the register or the issuer's
    record (an audited read), or against the original paper, whose scan is kept. Recorded in
    the dossier's history and the audit as checked by this official; submission then counts
    the document as present."""
    if actor.kind != "official" or dossier.channel != "assisted":
        raise Forbidden(N_("Only the official filing a dossier at the counter checks its "
                           "documents."))
    _require_applicant(actor, dossier)
    if dossier.state != State.DRAFT.value:
        raise Conflict(N_("Documents are checked at the counter before the dossier is "
                          "submitted."))
    spec = _document_spec(session, dossier, document_code)
    if not spec.wallet_document_type:
        raise Invalid(document_code, N_("This document is uploaded, not checked."))
    detail: dict[str, Any] = {"document": spec.code, "checked_against": against.value}
    if against == CounterCheck.REGISTER:
        record = wallet.on_record(session, actor, dossier.applicant_pid,
                                  spec.wallet_document_type, PURPOSE_COUNTER_CHECK)
        if record is None:
            raise Invalid(document_code, NOT_ON_RECORD)
        detail["record"] = record
    else:
        if scan is None or not scan.content:
            raise Invalid(document_code, SCAN_NEEDED)
        kept = _store_file(session, dossier, spec, scan.filename, scan.media_type, scan.content)
        detail.update(attachment=kept.id, sha256=kept.sha256)
    return _record(session, actor, dossier, CHECK_DOCUMENT, dossier.state, detail=detail)


def checked_at_counter(session: Session, dossier: Dossier) -> dict[str, DossierEvent]:
    """Document code -> the latest counter check of it."""
    return {event.detail["document"]: event for event in repository.events(session, dossier.id)
            if event.action == CHECK_DOCUMENT}


# --- online: a document the wallet lacks is never a dead end ---------------------------------
# The applicant has three ways forward, each offered by the form: the register's (or the
# issuer's) own record of the document, read at their request; a scan or photograph, which an
# official checks before deciding; or the counter of the ward office, with the original.

SCAN_CHECKED = "scan"  # checked_against of an applicant's scan the official has looked at
PURPOSE_RECORD_FOR_APPLICANT = coded("services.record_for_applicant")
NO_RECORD_ONLINE = N_("Neither the register nor the issuer holds this document for you: "
                      "upload a scan or photograph of it, or bring the original to the ward "
                      "office.")
NO_WALLET_DOCUMENT = N_("Not in your wallet: use the register's record, upload a scan or "
                        "photograph, or bring the original to the ward office.")
UNCHECKED_SCANS = N_("Check the scans the applicant sent for the documents their wallet "
                     "lacks before deciding.")


def _lacking_wallet_document(session: Session, dossier: Dossier,
                             document_code: str) -> catalogue.DocumentSpec:
    spec = _document_spec(session, dossier, document_code)
    if not spec.wallet_document_type:
        raise Invalid(document_code, N_("This document is uploaded, not checked."))
    return spec


def use_record(session: Session, actor: Actor, dossier: Dossier,
               document_code: str) -> DossierEvent:
    """The applicant asks that the register's (or the issuer's) record of a document stand in
    for the wallet's copy they lack: an audited read under their own name, recorded in the
    dossier's history as a counter check is, so submission counts the document as present."""
    _require_applicant(actor, dossier)
    if dossier.state != State.DRAFT.value:
        raise Conflict(N_("Documents are chosen before the dossier is submitted."))
    spec = _lacking_wallet_document(session, dossier, document_code)
    assert spec.wallet_document_type is not None
    record = wallet.on_record(session, actor, dossier.applicant_pid, spec.wallet_document_type,
                              PURPOSE_RECORD_FOR_APPLICANT)
    if record is None:
        raise Invalid(document_code, NO_RECORD_ONLINE)
    return _record(session, actor, dossier, CHECK_DOCUMENT, dossier.state, detail={
        "document": spec.code, "checked_against": CounterCheck.REGISTER.value,
        "record": record})


def check_scan(session: Session, actor: Actor, dossier: Dossier,
               document_code: str) -> DossierEvent:
    """The official processing an online dossier has looked at the applicant's scan of a
    wallet document and vouches for it, as a clerk does for a paper at the counter."""
    actor.require(Permission.DOSSIER_PROCESS)
    if not actor.may_see(dossier.province_code, dossier.ward_code):
        raise NotFound("no such dossier")
    if State(dossier.state) not in OPEN or dossier.state == State.DRAFT.value:
        raise Conflict(N_("A scan is checked while the dossier is being processed."))
    spec = _lacking_wallet_document(session, dossier, document_code)
    sent = [a for a in repository.attachments(session, dossier.id)
            if a.document_code == spec.code]
    if not sent:
        raise Invalid(document_code, N_("The applicant sent no scan of this document."))
    return _record(session, actor, dossier, CHECK_DOCUMENT, dossier.state, detail={
        "document": spec.code, "checked_against": SCAN_CHECKED, "attachment": sent[-1].id,
        "sha256": sent[-1].sha256})


def unchecked_scans(session: Session, dossier: Dossier) -> list[str]:
    """The wallet documents the applicant sent a scan of that no official has checked since."""
    checked = checked_at_counter(session, dossier)
    wallet_codes = {d.code for d in procedure_of(session, dossier).documents
                    if d.wallet_document_type}
    latest: dict[str, Attachment] = {}
    for attachment in repository.attachments(session, dossier.id):
        if attachment.document_code in wallet_codes:
            latest[attachment.document_code] = attachment
    return [code for code, attachment in latest.items()
            if code not in checked or checked[code].detail.get("sha256") != attachment.sha256]


def counter_office(session: Session, dossier: Dossier) -> str:
    """The ward whose office serves this dossier at its counter."""
    found = registry.ward(session, dossier.ward_code)
    return f"{found.ward_name}, {found.province_name}" if found else dossier.ward_code


# --- submission -----------------------------------------------------------------------------

def _problem_of(session: Session, spec: catalogue.FieldSpec, text: str) -> str | None:
    if spec.type == "date":
        try:
            date.fromisoformat(text)
        except ValueError:
            return N_("must be a date written YYYY-MM-DD")
    if spec.type == "integer" and not text.lstrip("-").isdigit():
        return N_("must be a whole number")
    if spec.type == "personal_id_number" and not registry.is_personal_id_number(session, text):
        return N_("must be a personal ID number of 12 digits")
    if spec.choices and text not in {choice.value for choice in spec.choices}:
        return N_("choose one of the values offered")
    if spec.type == "ward_code" and registry.ward(session, text) is None:
        return N_("no ward with this code")
    return None


def checked_value(session: Session, spec: catalogue.FieldSpec, value: Any) -> str:
    """The value as its type says it must be, or Invalid by the field's name. Submission,
    a supplement and the approval's effects all call this one check, so nothing the citizen
    can send is accepted at submission and refused at approval, when it is too late to fix."""
    text = str(value if value is not None else "").strip()
    if not text:
        raise Invalid(spec.name, REQUIRED)
    problem = _problem_of(session, spec, text)
    if problem:
        raise Invalid(spec.name, problem)
    return text


def approved_value(session: Session, dossier: Dossier, name: str) -> str:
    """A field of a dossier being decided, checked again as at submission (the catalogue may
    have changed since, and the approval's effects write the register with it)."""
    spec = next((f for f in procedure_of(session, dossier).fields if f.name == name), None)
    if spec is None:
        raise Invalid(name, N_("this procedure does not ask for this field"))
    return checked_value(session, spec, dossier.data.get(name))


@dataclass(frozen=True)
class Complete:
    """What a submission keeps: every field's value, typed or integrated."""

    values: dict[str, Any]  # field name -> value, the register's and wallet's over typing
    wallet_documents: dict[str, str]  # document code -> the wallet credential that serves it


def _check_complete(session: Session, site: WalletSite, actor: Actor, dossier: Dossier,
                    found: Procedure) -> Complete:
    """Every required field filled (from the register, the wallet or the form) and every
    required document present (held in the wallet, or uploaded): all refusals at once."""
    filled = prefill(session, site, actor, dossier.applicant_pid, found)
    values = {**dossier.data, **filled.values}  # integrated data wins over typing
    errors = []
    for spec in found.fields:
        value = values.get(spec.name)
        if value in (None, "") and not spec.required:
            continue
        try:
            values[spec.name] = checked_value(session, spec, value)
        except Invalid as refusal:
            errors.extend(refusal.errors)
    uploaded = {a.document_code for a in repository.attachments(session, dossier.id)}
    present = uploaded | set(filled.wallet_documents) | set(checked_at_counter(session, dossier))
    for document in found.documents:
        if not document.required or document.code in present:
            continue
        errors.append(FieldError(document.code, _missing_document(dossier, document)))
    if errors:
        raise Invalid.of_fields(errors)
    return Complete(values, filled.wallet_documents)


def _missing_document(dossier: Dossier, document: catalogue.DocumentSpec) -> str:
    if not document.wallet_document_type:
        return REQUIRED
    if dossier.channel == "assisted":
        return N_("Check this document at the counter, against the register or its original "
                  "paper.")
    return NO_WALLET_DOCUMENT


class PaymentRefused(Conflict):
    """The payment channel declined a fee: nothing of the submission is kept, and any fee
    already taken for it is given back."""


def fee_key(receipt_code: str, attempt: int) -> str:
    """The idempotency key of the `attempt`th try at paying a dossier's fee: the same on
    every resubmission after a crash, so the channel never charges it twice; a new one once a
    try ended refunded or failed."""
    return f"dossier:{receipt_code}:fee:{attempt}"


def receipt_of_fee_key(key: str) -> str | None:
    """The receipt code of the dossier whose fee a key pays, or None for another key."""
    kind, _, rest = key.partition(":")
    receipt_code, _, attempt = rest.partition(":fee:")
    return receipt_code if kind == "dossier" and attempt.isdigit() else None


def record_pending_fees(session: Session, actor: Actor, dossiers: list[Dossier],
                        channel_name: str) -> None:
    """Each draft's fee as a pending payment under its idempotency key, for the caller to
    commit before any fee is charged (checkout.py): whatever then becomes of the charge, the
    key it was asked under is known, and a resubmission asks under the same one."""
    for dossier in dossiers:
        _require_applicant(actor, dossier)
        if dossier.state == State.DRAFT.value:
            _fee_payment(session, dossier, channel_name)


def _fee_payment(session: Session, dossier: Dossier, channel_name: str) -> Payment | None:
    """The dossier's pending or settled payment, a new pending one if it has neither; None
    for a dossier without a fee."""
    if dossier.fee <= 0:
        return None
    found = repository.open_payment(session, dossier.id)
    if found is not None:
        return found
    attempt = repository.spent_payments(session, dossier.id) + 1
    payment = Payment(dossier_id=dossier.id, amount=dossier.fee, channel=channel_name,
                      idempotency_key=fee_key(dossier.receipt_code, attempt),
                      status=PaymentStatus.PENDING.value, created_at=now(), note="")
    session.add(payment)
    return payment


def _pay(session: Session, dossiers: list[Dossier], channel: PaymentChannel,
         source: PaymentSource | None) -> None:
    """Every fee charged under its payment's key, or none kept: a declined fee fails its
    payment, gives back those taken for the other dossiers, and raises PaymentRefused with the
    payments saying so, for the caller to commit (their keys are spent)."""
    paid: list[tuple[Dossier, Payment]] = []
    for dossier in dossiers:
        payment = _fee_payment(session, dossier, channel.name)
        if payment is None:
            continue
        if payment.status == PaymentStatus.PENDING.value:
            payment.method = source.method.value if source is not None else ""
            try:
                reference = channel.charge(dossier.applicant_pid, payment.amount,
                                           f"dossier {dossier.receipt_code}",
                                           payment.idempotency_key, source)
            except PaymentDeclined as exc:
                payment.status, payment.note = PaymentStatus.FAILED.value, str(exc)
                for _, taken in paid:
                    refund(channel, taken, "group submission undone: a later fee declined")
                raise PaymentRefused(f"the payment was declined: {exc}") from exc
            settle(payment, reference, now())
        paid.append((dossier, payment))
    for dossier, payment in paid:
        dossier.payment_reference = payment.reference


def fees_paid(session: Session, dossiers: list[Dossier]) -> list[tuple[Dossier, Payment]]:
    """Each dossier's settled fee, for the payment receipt; free dossiers have none."""
    paid = [(d, repository.open_payment(session, d.id)) for d in dossiers]
    return [(d, p) for d, p in paid if p is not None and p.status == PaymentStatus.SETTLED.value]


def settle(payment: Payment, reference: str, moment: datetime) -> None:
    payment.status, payment.reference = PaymentStatus.SETTLED.value, reference
    payment.settled_at = moment


def refund(channel: PaymentChannel, payment: Payment, reason: str) -> None:
    """Give a payment's money back through its channel, and say so on the payment."""
    assert payment.reference is not None  # a payment that took money
    channel.refund(payment.reference, payment.amount, reason)
    payment.status, payment.note = PaymentStatus.REFUNDED.value, reason


# Digits of a card (PAN), a bank account or an e-wallet's phone number, spaces and dashes left
# out: the shortest phone number to the longest card number.
ACCOUNT_DIGITS = range(9, 20)


def payment_source(method: str, account: str) -> PaymentSource:
    """The method and number a citizen typed at the payment step, or Invalid saying which."""
    errors = []
    if method not in set(PaymentMethod):
        errors.append(FieldError("method", N_("Choose how to pay.")))
    digits = "".join(c for c in account if c not in " -")
    if not (digits.isascii() and digits.isdigit() and len(digits) in ACCOUNT_DIGITS):
        errors.append(FieldError("account", N_("Type the card, account or phone number: 9 to "
                                               "19 digits.")))
    if errors:
        raise Invalid.of_fields(errors)
    return PaymentSource(PaymentMethod(method), digits)


def submit(session: Session, site: WalletSite, actor: Actor, dossier: Dossier,
           payments: PaymentChannel, source: PaymentSource | None = None) -> Dossier:
    """Check, pay, and submit one dossier, in the caller's transaction (submit_group)."""
    return submit_group(session, site, actor, [dossier], payments, source)[0]


def check_ready(session: Session, site: WalletSite, actor: Actor,
                dossiers: list[Dossier]) -> list[tuple[Dossier, Procedure, Complete]]:
    """What submitting the dossiers would keep, or Invalid with the refusals of all of them
    at once: asked before the payment step too, so that nobody pays for a form that will be
    refused."""
    _require_whole_groups(session, dossiers)
    errors: dict[str, FieldError] = {}
    checked: list[tuple[Dossier, Procedure, Complete]] = []
    for dossier in dossiers:
        _require_applicant(actor, dossier)
        _check_transition(dossier, "submit")
        found = procedure_of(session, dossier)
        try:
            checked.append((dossier, found,
                            _check_complete(session, site, actor, dossier, found)))
        except Invalid as exc:
            errors.update({error.field: error for error in exc.errors
                           if error.field not in errors})
    if errors:
        raise Invalid.of_fields(list(errors.values()))
    return checked


def _require_whole_groups(session: Session, dossiers: list[Dossier]) -> None:
    """Interlinked procedures are submitted all or none: a dossier of a group only with every
    other dossier of its group."""
    given = {dossier.id for dossier in dossiers}
    for group_id in {dossier.group_id for dossier in dossiers if dossier.group_id}:
        if any(d.id not in given for d in repository.group_dossiers(session, group_id)):
            raise Conflict(SUBMITTED_TOGETHER)


def submit_group(session: Session, site: WalletSite, actor: Actor, dossiers: list[Dossier],
                 payments: PaymentChannel,
                 source: PaymentSource | None = None) -> list[Dossier]:
    """Submit every dossier given (a group's, or one alone), or none: the refusals of all of
    them at once, then every fee paid (_pay) from the source the citizen chose, then each
    submitted, in the caller's transaction so that a crash leaves the drafts as they were; a
    fee charged before the crash is not charged again by the next try (fee_key)."""
    checked = check_ready(session, site, actor, dossiers)
    _pay(session, dossiers, payments, source)
    for dossier, found, snapshot in checked:
        dossier.data = snapshot.values
        dossier.submitted_at = now()
        dossier.due_on = calendar.add_working_days(dossier.submitted_at.date(),
                                                   found.processing_days)
        _move(session, actor, dossier, "submit",
              detail={"wallet_documents": snapshot.wallet_documents, "fee": dossier.fee})
    return dossiers


# --- transitions ----------------------------------------------------------------------------

def _check_transition(dossier: Dossier, action: str) -> None:
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Invalid("action", f"unknown action '{action}'")
    if State(dossier.state) not in transition.sources:
        if action == "submit":
            raise Conflict(ALREADY_SUBMITTED)
        state = dossier.state.replace("_", " ")
        raise Conflict(f"a {state} dossier cannot take the action '{action}'")


def _move(session: Session, actor: Actor, dossier: Dossier, action: str, reason: str = "",
          detail: dict[str, Any] | None = None) -> None:
    before = dossier.state
    dossier.state = TRANSITIONS[action].target.value
    _record(session, actor, dossier, action, before, reason, detail)
    _notify(session, dossier, action)


NOTICES = {
    "submit": identity.Notice("Ho so {code} da duoc nop. Han tra ket qua: {due}.",
                              N_("Dossier %(code)s was submitted. The result is due on "
                                 "%(due)s.")),
    "receive": identity.Notice("Ho so {code} da duoc tiep nhan.",
                               N_("Dossier %(code)s was received.")),
    "start": identity.Notice("Ho so {code} dang duoc xu ly.",
                             N_("Dossier %(code)s is being processed.")),
    "request_supplement": identity.Notice(
        "Ho so {code} can bo sung giay to hoac sua thong tin. Vui long xem tren Cong dich vu "
        "cong.",
        N_("Dossier %(code)s needs more documents or corrected information: see it on the "
           "Public Services Portal.")),
    "supplement": identity.Notice("Ho so {code} da duoc bo sung va cho xu ly tiep.",
                                  N_("Dossier %(code)s was supplemented and waits to be "
                                     "processed further.")),
    "approve": identity.Notice("Ho so {code} da duoc phe duyet; ket qua dang duoc ky so.",
                               N_("Dossier %(code)s was approved; its result is being "
                                  "digitally signed.")),
    "refuse": identity.Notice("Ho so {code} bi tu choi. Xem ly do tren Cong dich vu cong.",
                              N_("Dossier %(code)s was refused. See why on the Public Services "
                                 "Portal.")),
    "deliver": identity.Notice("Ho so {code} da co ket qua; giay to da co trong vi.",
                               N_("Dossier %(code)s has its result; the document is in your "
                                  "wallet.")),
    "withdraw": identity.Notice("Ho so {code} da duoc rut.",
                                N_("Dossier %(code)s was withdrawn.")),
    "reroute": identity.Notice(
        "Ho so {code} duoc chuyen den co quan moi sau khi sap xep don vi hanh chinh.",
        N_("Dossier %(code)s was moved to a new agency after the reorganisation of "
           "administrative units.")),
}


def _notify(session: Session, dossier: Dossier, action: str) -> None:
    """The applicant is told of every change of a submitted dossier: in the portal's
    notifications, and by SMS to the phone the register holds."""
    notice = NOTICES.get(action)
    if notice:
        due = dossier.due_on.strftime("%d/%m/%Y") if dossier.due_on else ""
        phone = dossier.data.get("applicant_phone")
        identity.tell(session, dossier.applicant_pid, str(phone) if phone else None,
                      notice.filled(code=dossier.receipt_code, due=due))


def _require_party(session: Session, actor: Actor, dossier: Dossier, party: Party) -> None:
    if party == Party.APPLICANT:
        _require_applicant(actor, dossier)
        return
    if party == Party.SYSTEM:
        raise Forbidden("only the system delivers results")
    permission = Permission.DOSSIER_DECIDE if party == Party.DECIDER else \
        Permission.DOSSIER_PROCESS
    actor.require(permission)
    if not actor.may_see(dossier.province_code, dossier.ward_code):
        raise Forbidden(f"this dossier is outside your scope ({actor.scope})")
    if party == Party.DECIDER and actor.role != Role.ADMIN:
        found = procedure_of(session, dossier)
        if actor.role is None or agency_of(session, found).deciding_role != actor.role.value:
            raise Forbidden("your agency does not decide this procedure")


def dossier_for(session: Session, actor: Actor, receipt_code: str, *,
                lock: bool = False) -> Dossier:
    """The dossier, if the actor is its applicant or an official whose scope covers it; others
    get the same answer as for a dossier that does not exist."""
    found = repository.dossier(session, receipt_code, lock=lock)
    if found is None:
        raise NotFound("no such dossier")
    if actor.kind == "citizen":
        _require_applicant(actor, found)
    elif not actor.may_see(found.province_code, found.ward_code):
        raise NotFound("no such dossier")
    return found


def transition(session: Session, actor: Actor, receipt_code: str, action: str,
               reason: str = "", detail: dict[str, Any] | None = None) -> Dossier:
    """Take one action of the state machine, or refuse: unknown action, wrong state, wrong
    party, outside scope, missing reason. Approval's effects live in flows.py."""
    dossier = dossier_for(session, actor, receipt_code, lock=True)
    _check_transition(dossier, action)
    rule = TRANSITIONS[action]
    _require_party(session, actor, dossier, rule.party)
    cleaned = stated_reason(reason, max_length=500, required=rule.needs_reason)
    if action == "approve":
        _require_data_to_decide_on(session, dossier)
    if action in ("receive", "start") and dossier.assigned_to is None:
        dossier.assigned_to = str(actor)
    if action == "approve" and unchecked_scans(session, dossier):
        raise Conflict(UNCHECKED_SCANS)
    if action in ("approve", "refuse"):
        dossier.decided_at, dossier.decision_reason = now(), cleaned
    _move(session, actor, dossier, action, cleaned, detail)
    return dossier


def _require_data_to_decide_on(session: Session, dossier: Dossier) -> None:
    """An approval decides on what the dossier states: one whose form holds no value at all
    (its data panel is empty) would be approved blind."""
    fields = procedure_of(session, dossier).fields
    if fields and all(dossier.data.get(spec.name) in (None, "") for spec in fields):
        raise Conflict(N_("This dossier holds no data to decide on: ask the applicant for a "
                          "supplement, or refuse it with a reason."))


# --- a supplement: documents, and the typed fields the official names to correct ------------

def request_supplement(session: Session, actor: Actor, receipt_code: str, reason: str,
                       fields: list[str]) -> Dossier:
    """Ask the applicant for more, naming the typed fields to correct (none: documents only).
    Only what the applicant typed can be named: the register's and the wallet's values are
    corrected at their source."""
    dossier = dossier_for(session, actor, receipt_code)
    typed = {spec.name for spec in procedure_of(session, dossier).fields
             if spec.source == "applicant"}
    if not set(fields) <= typed:
        raise Invalid("fields", N_("only the fields the applicant typed can be corrected"))
    return transition(session, actor, receipt_code, "request_supplement", reason,
                      {"fields": list(dict.fromkeys(fields))})


def fields_to_correct(session: Session, dossier: Dossier) -> list[catalogue.FieldSpec]:
    """The fields named by the latest supplement request, in the form's order."""
    asked = [e for e in repository.events(session, dossier.id)
             if e.action == "request_supplement"]
    named = set(asked[-1].detail.get("fields", [])) if asked and asked[-1].detail else set()
    return [spec for spec in procedure_of(session, dossier).fields if spec.name in named]


def supplement(session: Session, actor: Actor, receipt_code: str,
               values: dict[str, Any]) -> Dossier:
    """Send the supplement: each field asked for is checked as at submission (all refusals
    at once, nothing kept while one stands), then the dossier goes back to the official with
    what changed in its history."""
    dossier = dossier_for(session, actor, receipt_code, lock=True)
    _check_transition(dossier, "supplement")
    _require_applicant(actor, dossier)
    corrected: dict[str, Any] = {}
    errors: list[FieldError] = []
    for spec in fields_to_correct(session, dossier):
        try:
            corrected[spec.name] = checked_value(
                session, spec, typed_text(spec.name, str(values.get(spec.name, ""))[:MAX_TEXT]))
        except Invalid as refusal:
            errors.extend(refusal.errors)
    if errors:
        raise Invalid.of_fields(errors)
    changes = {name: {"from": dossier.data.get(name), "to": value}
               for name, value in corrected.items() if dossier.data.get(name) != value}
    dossier.data = {**dossier.data, **corrected}
    return transition(session, actor, receipt_code, "supplement",
                      detail={"corrected": changes} if changes else None)


def deliver(session: Session, dossier: Dossier, detail: dict[str, Any]) -> None:
    """The system's last step, once the result is signed and issued (flows.py)."""
    _check_transition(dossier, "deliver")
    _move(session, audit.SYSTEM, dossier, "deliver", detail=detail)


def lapse_dossiers_of_deceased(session: Session, died: registry.PersonDied) -> int:
    """The applicant's drafts and open dossiers are refused, saying why (subscribed to
    `registry.PersonDied`). What they filed for someone else (a birth, a death) ends too: the
    family files again in their own name. A replay finds nothing left open."""
    reason = f"applicant deceased on {died.died_on.isoformat()}"
    lapsing = [d for d in repository.dossiers_of(session, died.personal_id_number)
               if State(d.state) in TRANSITIONS["lapse"].sources]
    for dossier in lapsing:
        dossier.decided_at, dossier.decision_reason = now(), reason
        _move(session, audit.SYSTEM, dossier, "lapse", reason)
    return len(lapsing)


def history(session: Session, dossier: Dossier) -> list[DossierEvent]:
    return repository.events(session, dossier.id)


def is_overdue(dossier: Dossier, today: date | None = None) -> bool:
    return (dossier.due_on is not None and State(dossier.state) in OPEN
            and dossier.due_on < (today or date.today()))


def my_dossiers(session: Session, applicant_pid: str) -> list[Dossier]:
    return repository.dossiers_of(session, applicant_pid)


# --- the officials' inbox -------------------------------------------------------------------

class Queue(enum.StrEnum):
    """The work queues of the inbox; each counted whatever the official has filtered."""

    NEW = "new"  # submitted, waiting to be received
    IN_PROGRESS = "in_progress"
    OVERDUE = "overdue"  # open and past its due date
    SUPPLEMENT = "supplement"  # waiting for the applicant's supplement
    MINE = "mine"  # open and assigned to the official
    ALL = "all"  # open and approved, waiting for delivery


QUEUE_STATES = {
    Queue.NEW: frozenset({State.SUBMITTED}),
    Queue.IN_PROGRESS: frozenset({State.RECEIVED, State.IN_PROCESSING, State.SUPPLEMENTED}),
    Queue.OVERDUE: OPEN,
    Queue.SUPPLEMENT: frozenset({State.SUPPLEMENT_REQUESTED}),
    Queue.MINE: OPEN,
    Queue.ALL: OPEN | {State.APPROVED},
}
INBOX_PAGE_SIZE = 50
PURPOSE_INBOX = coded("services.inbox")


@dataclass(frozen=True)
class InboxRequest:
    """What the official asks the inbox for: a queue, or one state, then a search."""

    queue: Queue = Queue.ALL
    state: State | None = None  # instead of the queue's states
    search: str = ""  # part of a receipt code, an ID number or a name, diacritics or not
    sort: str = "due"  # repository.SORTS
    page: int = 1


@dataclass(frozen=True)
class InboxPage:
    dossiers: list[Dossier]
    applicant_names: dict[str, str]  # ID number -> name, for the applicants shown
    counts: dict[Queue, int]  # each queue's size, whatever the request
    total: int  # dossiers matching the request, across every page
    page: int
    pages: int


def _inbox_scope(session: Session, actor: Actor) -> repository.InboxScope:
    """A clerk at a one-stop shop receives for every agency; a decider sees their agency's."""
    actor.require(Permission.DOSSIER_PROCESS)
    return repository.InboxScope([a.id for a in repository.agencies(session) if handles(actor, a)],
                                 actor.scope.province_code, actor.scope.ward_code)


def _queue_filter(actor: Actor, queue: Queue, today: date) -> repository.InboxFilter:
    return repository.InboxFilter(
        [s.value for s in QUEUE_STATES[queue]],
        due_before=today if queue == Queue.OVERDUE else None,
        assigned_to=str(actor) if queue == Queue.MINE else None)


def _queue_counts(session: Session, actor: Actor, scope: repository.InboxScope,
                  today: date) -> dict[Queue, int]:
    """How many dossiers wait in each queue of the official's scope."""
    by_state = repository.states_counted(session, scope)
    counts = {queue: sum(by_state.get(s.value, 0) for s in QUEUE_STATES[queue])
              for queue in (Queue.NEW, Queue.IN_PROGRESS, Queue.SUPPLEMENT, Queue.ALL)}
    for queue in (Queue.OVERDUE, Queue.MINE):
        counts[queue] = repository.inbox_total(
            session, scope, _queue_filter(actor, queue, today))
    return counts


def inbox_page(session: Session, actor: Actor, request: InboxRequest,
               today: date | None = None) -> InboxPage:
    """One page of the official's inbox, with every queue's count and the applicants' names
    (read from the register, each an audited read)."""
    scope, today = _inbox_scope(session, actor), today or date.today()
    wanted = _queue_filter(actor, request.queue, today)
    if request.state is not None:
        wanted = dataclasses.replace(wanted, states=[request.state.value])
    search = typed_text("search", request.search.strip()[:MAX_TEXT])
    if search:
        wanted = dataclasses.replace(wanted, search=search,
                                     named=registry.numbers_named(search))
    total = repository.inbox_total(session, scope, wanted)
    pages = max(1, -(-total // INBOX_PAGE_SIZE))
    page = min(max(1, request.page), pages)
    sort = request.sort if request.sort in repository.SORTS else "due"
    dossiers = repository.inbox_page(session, scope, wanted, sort,
                                     (page - 1) * INBOX_PAGE_SIZE, INBOX_PAGE_SIZE)
    names = registry.names_in_scope(session, actor, sorted({d.applicant_pid for d in dossiers}),
                                    PURPOSE_INBOX) if dossiers else {}
    return InboxPage(dossiers, names, _queue_counts(session, actor, scope, today), total, page,
                     pages)


def inbox(session: Session, actor: Actor, states: list[str] | None = None,
          limit: int = 200, *, mine: bool = False) -> list[Dossier]:
    """Dossiers within the official's scope, for procedures their agency handles, oldest due
    first; with `mine`, only those assigned to the official."""
    scope = _inbox_scope(session, actor)
    wanted = states or [s.value for s in QUEUE_STATES[Queue.ALL]]
    return repository.inbox_page(session, scope, repository.InboxFilter(
        wanted, assigned_to=str(actor) if mine else None), "due", 0, limit)


# --- restructuring --------------------------------------------------------------------------

# The dossiers re-routing moves: every one not yet closed, drafts included.
REROUTED_STATES = [s.value for s in OPEN] + [State.DRAFT.value, State.APPROVED.value]


def reroute_after_merger(session: Session, actor: Actor, mapping: dict[str, tuple[str, str]],
                         reason: str, limit: int | None = None) -> int:
    """Open dossiers addressed to abolished wards move to the ward (and province) that absorbed
    them, each move recorded in the dossier's history; returns how many moved (at most
    `limit`: a moved dossier leaves the old ward, so calling again moves the next ones)."""
    actor.require(Permission.CATALOGUE_MANAGE)
    moved = 0
    for dossier in repository.open_dossiers_in_wards(session, list(mapping), REROUTED_STATES,
                                                     limit):
        old = (dossier.province_code, dossier.ward_code)
        dossier.province_code, dossier.ward_code = mapping[dossier.ward_code]
        _notify(session, dossier, "reroute")
        _record(session, actor, dossier, "reroute", dossier.state,
                stated_reason(reason, max_length=500),
                {"from_unit": list(old), "to_unit": [dossier.province_code, dossier.ward_code]})
        moved += 1
    return moved


def start_group(session: Session, actor: Actor, applicant_pid: str,
                group_code: str) -> list[Dossier]:
    """One draft per procedure of an interlinked group, under one group receipt: the citizen
    fills one form, each agency gets its own dossier."""
    drafts = [start_draft(session, actor, applicant_pid, member.code)
              for member in group_procedures(session, group_code)]
    group = DossierGroup(receipt_code=_receipt_code(session, drafts[0].province_code),
                         group_code=group_code, created_at=now())
    session.add(group)
    session.flush()
    for draft in drafts:
        draft.group_id = group.id
    return drafts


# --- the console's view of a dossier --------------------------------------------------------

def official_actions(session: Session, actor: Actor, dossier: Dossier) -> list[str]:
    """The actions this official may take now, for the console's buttons: the state machine's
    officials' and deciders' actions, less those `transition` would refuse them."""
    found = []
    for rule in TRANSITIONS.values():
        if rule.party not in (Party.OFFICIAL, Party.DECIDER) or \
                State(dossier.state) not in rule.sources:
            continue
        try:
            _require_party(session, actor, dossier, rule.party)
        except Forbidden:
            continue
        found.append(rule.action)
    return found


def read_dossier(session: Session, actor: Actor, receipt_code: str,
                 purpose: str = "process the dossier") -> Dossier:
    """An official opens a dossier: its data is the applicant's, so the read is audited."""
    dossier = dossier_for(session, actor, receipt_code)
    audit.record(session, actor, "services.dossier.read", subject_type="person",
                 subject_id=dossier.applicant_pid, purpose=purpose,
                 detail={"dossier": dossier.receipt_code})
    return dossier


def read_attachment(session: Session, actor: Actor, receipt_code: str,
                    attachment_id: int) -> Attachment:
    """One uploaded file, for an official whose scope covers the dossier; audited."""
    dossier = dossier_for(session, actor, receipt_code)
    found = repository.attachment(session, dossier.id, attachment_id)
    if found is None:
        raise NotFound("no such attachment")
    audit.record(session, actor, "services.attachment.read", subject_type="person",
                 subject_id=dossier.applicant_pid, purpose="examine the dossier's documents",
                 detail={"dossier": dossier.receipt_code, "attachment": found.id,
                         "document": found.document_code, "sha256": found.sha256})
    return found


# --- interlinked groups, for the citizen's portal -------------------------------------------

@dataclass(frozen=True)
class GroupOfDossiers:
    group: DossierGroup
    dossiers: list[Dossier]


def group_for(session: Session, actor: Actor, receipt_code: str, *,
              lock: bool = False) -> GroupOfDossiers:
    """A group and its dossiers, if every one is the actor's to see; else not found."""
    group = repository.dossier_group(session, receipt_code)
    if group is None:
        raise NotFound("no such dossier")
    dossiers = repository.group_dossiers(session, group.id, lock=lock)
    for dossier in dossiers:
        _require_applicant(actor, dossier)
    return GroupOfDossiers(group, dossiers)


def group_of(session: Session, dossier: Dossier) -> DossierGroup | None:
    return session.get(DossierGroup, dossier.group_id) if dossier.group_id else None


def under_receipt(session: Session, actor: Actor, receipt_code: str, *,
                  lock: bool = False) -> tuple[list[Dossier], DossierGroup | None]:
    """What a receipt code names: one dossier with its group if it is in one, or a whole
    group's dossiers with the group."""
    try:
        found = dossier_for(session, actor, receipt_code, lock=lock)
    except NotFound:
        group = group_for(session, actor, receipt_code, lock=lock)
        return group.dossiers, group.group
    return [found], group_of(session, found)


# --- for the citizen's portal ---------------------------------------------------------------

PURPOSE_HOME_PROVINCE = coded("services.home_province")


def home_province(session: Session, actor: Actor, applicant_pid: str) -> str:
    """The province whose catalogue the citizen sees first: where their dossiers are routed."""
    person = registry.get_person(session, actor, applicant_pid, PURPOSE_HOME_PROVINCE)
    return person.permanent_province_code


def group_procedures(session: Session, group_code: str) -> list[Procedure]:
    members = repository.group_procedures(session, group_code)
    if not members:
        raise NotFound(f"no group of procedures '{group_code}'")
    return members


def procedure_of(session: Session, dossier: Dossier) -> Procedure:
    found = session.get(Procedure, dossier.procedure_id)
    assert found is not None  # a foreign key
    return found


def attachments(session: Session, dossier: Dossier) -> list[Attachment]:
    return repository.attachments(session, dossier.id)


def all_procedures(session: Session) -> list[Procedure]:
    """The active catalogue, for a counter clerk choosing what to file."""
    return [found for found in repository.procedures(session) if found.active]


# --- the catalogue at national fees, and re-routing checked against the register's units ---

def national_catalogue(session: Session) -> list[Published]:
    """Every active procedure at its national fees (a province may set its own)."""
    agencies = {a.id: a for a in repository.agencies(session)}
    return [Published(found, agencies[found.agency_id], found.fee, found.online_fee)
            for found in repository.procedures(session) if found.active]


def reroute_to_current_units(session: Session, actor: Actor,
                             mapping: dict[str, tuple[str, str]], reason: str) -> int:
    """reroute_after_merger, refusing (all at once) a target that is not a current ward of the
    province named with it: a dossier is never moved to an abolished or mistyped unit."""
    actor.require(Permission.CATALOGUE_MANAGE)
    errors = []
    for old_ward, (province_code, ward_code) in sorted(mapping.items()):
        place = registry.ward(session, ward_code)
        if place is None or place.province_code != province_code:
            errors.append(FieldError(old_ward, "not a current ward of the province given"))
    if errors:
        raise Invalid.of_fields(errors)
    return reroute_after_merger(session, actor, mapping, reason)


def legacy_successors(session: Session, legacy_ward_codes: list[str]) -> dict[str, tuple[str,
                                                                                         str]]:
    """Abolished pre-2025 ward -> (province, ward) that absorbed it, from the register's real
    old->new unit data; a code that is still a current ward, unknown, or without a ward-level
    successor is refused, every one at once."""
    reference = load_reference_data(session)
    mapping: dict[str, tuple[str, str]] = {}
    errors = []
    for code in legacy_ward_codes:
        successor = reference.legacy_ward.get(code)
        if code in reference.ward_province:
            errors.append(FieldError(code, "this ward still exists; nothing to re-route"))
        elif successor is None:
            errors.append(FieldError(code, "no pre-2025 ward with this code has a successor"))
        else:
            mapping[code] = (reference.ward_province[successor], successor)
    if errors:
        raise Invalid.of_fields(errors)
    return mapping


def reroute_from_legacy_units(session: Session, actor: Actor, legacy_ward_codes: list[str],
                              reason: str) -> int:
    """Open dossiers still addressed to abolished pre-2025 wards move to the real new ward and
    province (the register's mapping of the 2025 reform); returns how many moved."""
    actor.require(Permission.CATALOGUE_MANAGE)
    return reroute_to_current_units(session, actor,
                                    legacy_successors(session, legacy_ward_codes), reason)


# --- assigning a dossier to a named official ------------------------------------------------

def handles(official: Actor, agency: Agency) -> bool:
    """Whether the official's role works this agency's dossiers: a one-stop clerk and an admin
    every agency's, a decider their own agency's."""
    if official.role in (Role.ADMIN, Role.SERVICE_CLERK):
        return True
    return official.role is not None and agency.deciding_role == official.role.value


def may_assign(actor: Actor, dossier: Dossier) -> bool:
    """Whether to offer the console's assignment form (assign checks everything again)."""
    return actor.may(Permission.DOSSIER_PROCESS) and State(dossier.state) in OPEN and \
        actor.may_see(dossier.province_code, dossier.ward_code)


def assign(session: Session, actor: Actor, receipt_code: str, username: str) -> Dossier:
    """Hand an open dossier to a colleague: an active official whose role processes this
    procedure and whose scope covers the dossier. Not a state change: recorded in the history
    (and the audit) as an `assign` event."""
    actor.require(Permission.DOSSIER_PROCESS)
    dossier = dossier_for(session, actor, receipt_code, lock=True)
    if State(dossier.state) not in OPEN:
        raise Conflict(N_("Only a dossier being processed can be assigned."))
    assignee = officials.active_official(session, username.strip())
    if assignee is None:
        raise Invalid("assignee", N_("No active official has this username."))
    why_not = _why_not_assignable(assignee, agency_of(session, procedure_of(session, dossier)),
                                  dossier)
    if why_not:
        raise Invalid("assignee", why_not)
    if dossier.assigned_to == str(assignee):
        raise Invalid("assignee", N_("The dossier is already assigned to this official."))
    previous, dossier.assigned_to = dossier.assigned_to, str(assignee)
    _record(session, actor, dossier, "assign", dossier.state,
            detail={"assignee": str(assignee), "previous": previous})
    return dossier


def _why_not_assignable(official: Actor, agency: Agency, dossier: Dossier) -> str | None:
    if not official.may(Permission.DOSSIER_PROCESS) or not handles(official, agency):
        return N_("This official's role does not process this procedure.")
    if not official.may_see(dossier.province_code, dossier.ward_code):
        return N_("This official's scope does not cover the dossier.")
    return None


@dataclass(frozen=True)
class Colleague:
    username: str
    full_name: str


def colleagues_for(session: Session, actor: Actor, dossier: Dossier) -> list[Colleague]:
    """The active officials the dossier can be handed to (those assign would accept), for the
    console to offer by name rather than a username typed from memory."""
    if not may_assign(actor, dossier):
        return []
    agency = agency_of(session, procedure_of(session, dossier))
    return [Colleague(account.username, account.full_name)
            for account in officials.active_officials(session)
            if _why_not_assignable(officials.actor_of(account), agency, dossier) is None
            and str(officials.actor_of(account)) != dossier.assigned_to]
