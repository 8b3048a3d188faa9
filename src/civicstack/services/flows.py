"""What a decision sets in motion across domains: approval changes the population register,
issues the result into the wallet, signs the result PDF in the agency's name and delivers.
One flow, in the caller's transaction: if any step is refused, nothing of it stays."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.audit_purposes import coded
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Conflict
from civicstack.registry import service as registry
from civicstack.registry.models import Person, Sex
from civicstack.services import service
from civicstack.services.models import Agency, Dossier, Procedure
from civicstack.services.signing import ResultDocument, ResultSigner, render_result
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite

PURPOSE_EFFECTS = coded("services.decision_effects")
NO_CRIMINAL_RECORD = "Không có án tích"
LICENCE_DAYS = 3652  # ten years
# The register write each effect is, and the permission that write needs.
REGISTER_PERMISSIONS = {"birth": Permission.REGISTRY_CIVIL_STATUS,
                        "death": Permission.REGISTRY_CIVIL_STATUS,
                        "marriage": Permission.REGISTRY_CIVIL_STATUS,
                        "residence": Permission.REGISTRY_RESIDENCE}


def refuse(session: Session, actor: Actor, receipt_code: str, reason: str) -> Dossier:
    """A refusal changes nothing outside the dossier: a plain transition with its reason."""
    return service.transition(session, actor, receipt_code, "refuse", reason)


def approve(session: Session, site: WalletSite, signer: ResultSigner, actor: Actor,
            receipt_code: str, reason: str) -> Dossier:
    """Approve, then: the register's change, the wallet document, the signed PDF, delivery."""
    dossier = service.transition(session, actor, receipt_code, "approve", reason)
    found = session.get(Procedure, dossier.procedure_id)
    assert found is not None  # a foreign key
    agency = service.agency_of(session, found)
    applicant = registry.get_person(session, actor, dossier.applicant_pid, PURPOSE_EFFECTS)
    if applicant.status != "alive":
        raise Conflict("the applicant has died since submitting; refuse the dossier with a "
                       "reason instead")
    if found.register_effect:
        EFFECTS[found.register_effect](session, _register_actor(actor, agency,
                                                                found.register_effect),
                                       dossier, applicant)
    if found.result_document_type:
        _issue_result(session, site, actor, dossier, found.result_document_type, applicant)
    pdf = render_result(_result_document(session, actor, dossier, found, agency, applicant))
    dossier.result_pdf = signer.sign(agency.code, agency.name, pdf)
    service.deliver(session, dossier, {
        "credential": dossier.result_credential_id, "person": dossier.result_person_pid,
        "pdf_sha256": hashlib.sha256(dossier.result_pdf).hexdigest()})
    return dossier


def _register_actor(actor: Actor, agency: Agency, effect: str) -> Actor:
    """The deciding official writes the register when their role may. The ward People's
    Committee's approvers decide births, deaths and marriages, but the role table gives civil
    status writes to the one-stop clerks who key in paper records; the approver's decision is
    the authority here, so the agency's system writes it, within the official's scope, and the
    audit names the agency."""
    if actor.may(REGISTER_PERMISSIONS[effect]):
        return actor
    return Actor("system", f"services:{agency.code}", actor.scope)


# --- the register's changes -----------------------------------------------------------------

def _date(session: Session, dossier: Dossier, name: str) -> date:
    return date.fromisoformat(service.approved_value(session, dossier, name))


def _birth(session: Session, actor: Actor, dossier: Dossier, applicant: Person) -> None:
    """The child gets a new ID number; the applicant is the mother or father by their sex,
    and the other parent (if named) the other."""
    sex = Sex(service.approved_value(session, dossier, "child_sex"))
    other = str(dossier.data.get("other_parent_pid") or "").strip() or None
    parents = (dossier.applicant_pid, other)
    mother, father = parents if applicant.sex == Sex.FEMALE.value else parents[::-1]
    place = registry.ward(session, dossier.ward_code)
    child = registry.record_birth(session, actor, registry.Birth(
        service.approved_value(session, dossier, "child_full_name"),
        _date(session, dossier, "child_date_of_birth"), sex,
        dossier.ward_code, mother_pid=mother, father_pid=father,
        place_of_birth=f"{place.ward_name}, {place.province_name}" if place else ""))
    dossier.result_person_pid = child.personal_id_number


def _death(session: Session, actor: Actor, dossier: Dossier, applicant: Person) -> None:
    registry.record_death(session, actor,
                          service.approved_value(session, dossier, "deceased_pid"),
                          _date(session, dossier, "date_of_death"),
                          str(dossier.data.get("cause") or ""))


def _residence(session: Session, actor: Actor, dossier: Dossier, applicant: Person) -> None:
    registry.record_residence_change(session, actor, registry.ResidenceChange(
        dossier.applicant_pid, "permanent",
        service.approved_value(session, dossier, "new_ward_code"),
        service.approved_value(session, dossier, "new_address_line"), date.today()))


def _marriage(session: Session, actor: Actor, dossier: Dossier, applicant: Person) -> None:
    registry.record_marriage(session, actor, dossier.applicant_pid,
                             service.approved_value(session, dossier, "spouse_pid"), date.today())


EFFECTS: dict[str, Callable[[Session, Actor, Dossier, Person], None]] = {
    "birth": _birth, "death": _death, "residence": _residence, "marriage": _marriage}


# --- the wallet document --------------------------------------------------------------------

# Documents a procedure renews: the new card replaces the one the applicant held.
RENEWED = frozenset({"driving_licence", "health_insurance"})


def _issue_result(session: Session, site: WalletSite, actor: Actor, dossier: Dossier,
                  code: str, applicant: Person) -> None:
    """A register document is made from the register just changed (for a birth: the child's
    own); an agency's document from the dossier's data, in the agency's name."""
    subject = dossier.result_person_pid or dossier.applicant_pid
    if wallet.document_type(session, code).source == "register":
        issued = wallet.issue_from_register(session, site, subject, code)
    else:
        claims = AGENCY_CLAIMS[code](session, site, dossier, applicant)
        issued = wallet.issue_credential(session, site, actor, code, subject, claims,
                                         replaces_held=code in RENEWED)
    dossier.result_credential_id = issued.credential.public_id


def _person_claims(person: Person) -> dict[str, Any]:
    return {"personal_id_number": person.personal_id_number, "full_name": person.full_name,
            "date_of_birth": person.date_of_birth.isoformat()}


def _held(session: Session, site: WalletSite, pid: str, code: str) -> dict[str, Any]:
    """The claims of the applicant's valid document of this kind, which a renewal carries on."""
    for card in wallet.cards(session, site, pid):
        if card.document.code == code and card.credential.status == "valid":
            return dict(card.claims)
    raise Conflict("the applicant's wallet holds no valid document of this kind to renew")


def _judicial_record(session: Session, site: WalletSite, dossier: Dossier,
                     applicant: Person) -> dict[str, Any]:
    # The demo has no criminal records register: every certificate reads "no conviction".
    return {**_person_claims(applicant), "certificate_number": dossier.receipt_code,
            "criminal_record": NO_CRIMINAL_RECORD, "issued_on": date.today().isoformat()}


def _driving_licence(session: Session, site: WalletSite, dossier: Dossier,
                     applicant: Person) -> dict[str, Any]:
    today = date.today()
    return {**_held(session, site, applicant.personal_id_number, "driving_licence"),
            **_person_claims(applicant), "issued_on": today.isoformat(),
            "valid_to": (today + timedelta(days=LICENCE_DAYS)).isoformat()}


def _health_insurance(session: Session, site: WalletSite, dossier: Dossier,
                      applicant: Person) -> dict[str, Any]:
    return {**_held(session, site, applicant.personal_id_number, "health_insurance"),
            **_person_claims(applicant)}


def _tax_code(session: Session, site: WalletSite, dossier: Dossier,
              applicant: Person) -> dict[str, Any]:
    # Since 1 July 2025 an individual's tax code is their personal ID number.
    place = registry.ward(session, dossier.ward_code)
    return {**_person_claims(applicant), "tax_code": applicant.personal_id_number,
            "tax_office": f"Thuế cơ sở {place.province_name}" if place else "Thuế cơ sở"}


def _vehicle_registration(session: Session, site: WalletSite, dossier: Dossier,
                          applicant: Person) -> dict[str, Any]:
    # A demo plate: the province code and a number drawn from the receipt code.
    serial = int(hashlib.sha256(dossier.receipt_code.encode()).hexdigest(), 16) % 100_000
    return {**_person_claims(applicant), "plate": f"{dossier.province_code}A-{serial:05d}",
            "make_model": service.approved_value(session, dossier, "make_model"),
            "colour": str(dossier.data.get("colour") or "").strip() or "Chưa khai báo",
            "registered_on": date.today().isoformat()}


AGENCY_CLAIMS: dict[str, Callable[[Session, WalletSite, Dossier, Person], dict[str, Any]]] = {
    "judicial_record": _judicial_record, "driving_licence": _driving_licence,
    "health_insurance": _health_insurance, "tax_code": _tax_code,
    "vehicle_registration": _vehicle_registration}


# --- the PDF --------------------------------------------------------------------------------

def _result_document(session: Session, actor: Actor, dossier: Dossier, found: Procedure,
                     agency: Agency, applicant: Person) -> ResultDocument:
    """What the citizen typed (labelled as in the form) and what the decision produced."""
    typed = [(spec.label, str(dossier.data[spec.name])) for spec in found.fields
             if spec.source == "applicant" and dossier.data.get(spec.name)]
    produced = []
    if dossier.result_person_pid:
        produced.append(("Số định danh cá nhân được cấp", dossier.result_person_pid))
    if found.result_document_type and dossier.result_credential_id:
        document = wallet.document_type(session, found.result_document_type)
        produced.append(("Giấy tờ trong ví", f"{document.name} ({dossier.result_credential_id})"))
    place = registry.ward(session, dossier.ward_code)
    return ResultDocument(
        agency_name=agency.name,
        place=f"{place.ward_name}, {place.province_name}" if place else dossier.ward_code,
        procedure_name=found.name, receipt_code=dossier.receipt_code,
        applicant_name=applicant.full_name, applicant_pid=applicant.personal_id_number,
        decision_reason=dossier.decision_reason, key_data=typed + produced,
        decided_on=date.today(), official=actor.name)
