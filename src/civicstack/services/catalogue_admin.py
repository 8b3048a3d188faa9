"""An administrator edits the procedure catalogue in the console (catalogue:manage): a
procedure's names, online level, legal basis, fees, processing time and whether it is active,
and the provinces that offer it with their local fees. Every refusal at once, next to its
field; every change audited. Deactivating a procedure hides it from the citizens' catalogue and
from new drafts, and withdrawing a province's offering refuses new drafts there only: the
dossiers already filed keep their procedure and go on."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import FieldError, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.registry import service as registry
from civicstack.services import repository
from civicstack.services.catalogue_import import MUST_BE_COUNT, ONLINE_LEVELS
from civicstack.services.models import Agency, Offering, Procedure
from civicstack.services.service import MAX_TEXT, REQUIRED

MAX_LEGAL_BASIS = 500  # the column's length
MAX_PROCESSING_DAYS = 365
MAX_FEE = 999_999_999  # VND; well inside the column's 32-bit integer
WHOLE_NUMBER = re.compile(r"\d{1,12}")
ONLINE_FEE_ABOVE_FEE = N_("The online fee may not exceed the fee at the counter.")
TOO_LONG = N_("Too long for this field.")
FEE_TOO_LARGE = N_("At most 999,999,999 dong.")
DAYS_OUT_OF_RANGE = N_("From 0 to 365 working days.")
PURPOSE = "manage the procedure catalogue"


@dataclass(frozen=True)
class CatalogueRow:
    procedure: Procedure
    agency: Agency
    provinces: int  # how many provinces offer it


def catalogue_rows(session: Session, actor: Actor, agency_code: str = "") -> list[CatalogueRow]:
    """Every procedure, active or not, with the number of provinces offering it; one agency's
    only when `agency_code` names one."""
    actor.require(Permission.CATALOGUE_MANAGE)
    agencies = {a.id: a for a in repository.agencies(session)}
    counts = repository.offering_counts(session)
    return [CatalogueRow(found, agencies[found.agency_id], counts.get(found.id, 0))
            for found in repository.procedures(session)
            if not agency_code or agencies[found.agency_id].code == agency_code]


@dataclass(frozen=True)
class AdminProcedure:
    procedure: Procedure
    agency: Agency
    offerings: dict[str, Offering]  # province code -> its offering


def procedure_for_admin(session: Session, actor: Actor, code: str) -> AdminProcedure:
    """A procedure as an administrator edits it: inactive ones too."""
    actor.require(Permission.CATALOGUE_MANAGE)
    found = repository.procedure(session, code)
    if found is None:
        raise NotFound(f"no procedure {code} in the catalogue")
    agency = session.get(Agency, found.agency_id)
    assert agency is not None  # a foreign key
    return AdminProcedure(found, agency, {offering.province_code: offering
                                          for offering in repository.offerings_of(session,
                                                                                   found.id)})


@dataclass(frozen=True)
class LocalFees:
    """A province's own fees as typed; empty: the national fee."""

    fee: str = ""
    online_fee: str = ""


@dataclass(frozen=True)
class ProcedureChanges:
    """The administrator's answers as typed in the form: numbers are checked here, so that a
    wrong one is refused beside its field like every other mistake."""

    name: str
    name_en: str
    online_level: str
    legal_basis: str
    fee: str
    online_fee: str
    processing_days: str
    active: bool
    offered: dict[str, LocalFees] = field(default_factory=dict)  # province code -> local fees


@dataclass(frozen=True)
class Checked:
    values: dict[str, Any]
    offered: dict[str, tuple[int | None, int | None]]


def _text(errors: list[FieldError], key: str, value: str, limit: int) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        errors.append(FieldError(key, REQUIRED))
    elif len(cleaned) > limit:
        errors.append(FieldError(key, TOO_LONG))
    return cleaned


def _whole(errors: list[FieldError], key: str, value: str, limit: int = MAX_FEE,
           too_large: str = FEE_TOO_LARGE, required: bool = True) -> int | None:
    cleaned = value.strip()
    if not cleaned and not required:
        return None
    if not WHOLE_NUMBER.fullmatch(cleaned):
        errors.append(FieldError(key, REQUIRED if not cleaned else MUST_BE_COUNT))
        return None
    if int(cleaned) > limit:
        errors.append(FieldError(key, too_large))
        return None
    return int(cleaned)


def _zero_fee_rule(errors: list[FieldError], key: str, fee: int | None,
                   online_fee: int | None) -> None:
    """Online submission never costs more than the counter (often nothing at all)."""
    if fee is not None and online_fee is not None and online_fee > fee:
        errors.append(FieldError(key, ONLINE_FEE_ABOVE_FEE))


def check_changes(session: Session, changes: ProcedureChanges) -> Checked:
    """Every mistake at once, each under its field (`fee_01` for Hà Nội's local fee)."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {
        "name": _text(errors, "name", changes.name, MAX_TEXT),
        "name_en": _text(errors, "name_en", changes.name_en, MAX_TEXT),
        "legal_basis": _text(errors, "legal_basis", changes.legal_basis, MAX_LEGAL_BASIS),
        "online_level": changes.online_level, "active": changes.active,
        "fee": _whole(errors, "fee", changes.fee),
        "online_fee": _whole(errors, "online_fee", changes.online_fee),
        "processing_days": _whole(errors, "processing_days", changes.processing_days,
                                  MAX_PROCESSING_DAYS, DAYS_OUT_OF_RANGE)}
    if changes.online_level not in ONLINE_LEVELS:
        errors.append(FieldError("online_level", N_("Choose fully or partly online.")))
    _zero_fee_rule(errors, "online_fee", values["fee"], values["online_fee"])
    provinces = {place.code for place in registry.provinces(session)}
    if not set(changes.offered) <= provinces:
        errors.append(FieldError("provinces", N_("Only current provinces can offer a "
                                                 "procedure.")))
    offered: dict[str, tuple[int | None, int | None]] = {}
    for code, local in sorted(changes.offered.items()):
        fee = _whole(errors, f"fee_{code}", local.fee, required=False)
        online_fee = _whole(errors, f"online_fee_{code}", local.online_fee, required=False)
        _zero_fee_rule(errors, f"online_fee_{code}", values["fee"] if fee is None else fee,
                       values["online_fee"] if online_fee is None else online_fee)
        offered[code] = (fee, online_fee)
    if errors:
        raise Invalid.of_fields(errors)
    return Checked(values, offered)


def update_procedure(session: Session, actor: Actor, code: str,
                     changes: ProcedureChanges) -> dict[str, Any]:
    """Save an administrator's edit of one procedure and its provinces; returns (and audits as
    `services.catalogue.update`) what changed, nothing when nothing did."""
    current = procedure_for_admin(session, actor, code)
    checked = check_changes(session, changes)
    found = current.procedure
    changed: dict[str, Any] = {}
    for key, value in checked.values.items():
        if getattr(found, key) != value:
            changed[key] = [getattr(found, key), value]
            setattr(found, key, value)
    changed.update(_publish(session, found, current.offerings, checked.offered))
    if changed:
        session.flush()
        audit.record(session, actor, "services.catalogue.update", subject_type="procedure",
                     subject_id=found.code, purpose=PURPOSE, detail=changed)
    return changed


def _publish(session: Session, found: Procedure, offerings: dict[str, Offering],
             wanted: dict[str, tuple[int | None, int | None]]) -> dict[str, Any]:
    """Bring the procedure's offerings to `wanted`; a withdrawn offering only stops new
    drafts (a dossier keeps its own routing and fee)."""
    added = sorted(set(wanted) - set(offerings))
    withdrawn = sorted(set(offerings) - set(wanted))
    local_fees: dict[str, list[list[int | None]]] = {}
    for code in added:
        session.add(Offering(procedure_id=found.id, province_code=code, fee=wanted[code][0],
                             online_fee=wanted[code][1]))
    for code in withdrawn:
        session.delete(offerings[code])
    for code, offering in offerings.items():
        if code in wanted and (offering.fee, offering.online_fee) != wanted[code]:
            local_fees[code] = [[offering.fee, offering.online_fee], list(wanted[code])]
            offering.fee, offering.online_fee = wanted[code]
    summary: dict[str, Any] = {"provinces_added": added, "provinces_withdrawn": withdrawn,
                               "local_fees": local_fees}
    return {key: value for key, value in summary.items() if value}
