"""Loading an administrator's own procedure catalogue (`civicstack services import FILE.json`):
the same shape as the demo seed (catalogue.AgencySeed / ProcedureSeed), every bad entry
reported at once and nothing written unless all are good; re-importing updates by code."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission, Role
from civicstack.kit.errors import FieldError, Invalid
from civicstack.kit.i18n import N_
from civicstack.services import catalogue, repository
from civicstack.services.models import Agency, Offering, Procedure
from civicstack.services.service import REQUIRED

MUST_BE_TEXT = N_("must be text")
MUST_BE_COUNT = N_("must be a whole number, zero or more")
MUST_BE_LIST = N_("must be a list of objects")
LEVELS = ("ministry", "province", "ward")
ONLINE_LEVELS = ("full", "partial")
EFFECTS = ("birth", "death", "residence", "marriage")


@dataclass(frozen=True)
class ImportResult:
    agencies_added: int
    agencies_updated: int
    procedures_added: int
    procedures_updated: int
    offerings_added: int


class _Checker:
    """Collects every problem of one entry under its path, e.g. procedures[3].fee."""

    def __init__(self, errors: list[FieldError], path: str, entry: Any) -> None:
        self.errors, self.path = errors, path
        self.entry = entry if isinstance(entry, dict) else {}
        if not isinstance(entry, dict):
            errors.append(FieldError(path, "must be a JSON object"))

    def fail(self, key: str, reason: str) -> None:
        self.errors.append(FieldError(f"{self.path}.{key}", reason))

    def text(self, key: str, limit: int, required: bool = True) -> str | None:
        value = self.entry.get(key)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, MUST_BE_TEXT if value is not None else REQUIRED)
            return None
        if len(value) > limit:
            self.fail(key, f"at most {limit} characters")
        return value.strip()

    def count(self, key: str, default: int | None = None) -> int:
        value = self.entry.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(key, MUST_BE_COUNT)
            return 0
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None = None,
               required: bool = True) -> str | None:
        value = self.entry.get(key, default)
        if value is None and not required:
            return None
        if value not in choices:
            self.fail(key, f"must be one of: {', '.join(choices)}")
        return str(value)

    def flag(self, key: str) -> bool:
        """Absent means yes; a value given counts by its truth (false, 0, "" and null: no)."""
        return bool(self.entry.get(key, True))

    def objects(self, key: str) -> list[dict[str, Any]]:
        value = self.entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(key, MUST_BE_LIST)
            return []
        return value


def _agency(errors: list[FieldError], index: int, entry: Any) -> catalogue.AgencySeed | None:
    before = len(errors)
    check = _Checker(errors, f"agencies[{index}]", entry)
    if len(errors) > before:
        return None
    seed = catalogue.AgencySeed(
        code=check.text("code", 40) or "", name=check.text("name", 200) or "",
        name_en=check.text("name_en", 200) or "", level=check.choice("level", LEVELS) or "",
        ministry=check.text("ministry", 200) or "",
        deciding_role=check.choice("deciding_role", tuple(r.value for r in Role)) or "")
    return None if len(errors) > before else seed


def _check_field(check: _Checker, index: int, entry: dict[str, Any]) -> catalogue.FieldSpec:
    inner = _Checker(check.errors, f"{check.path}.fields[{index}]", entry)
    source = inner.text("source", 80) or ""
    if source != "applicant" and not source.startswith(("register:", "wallet:")):
        inner.fail("source", N_("must be register:<field>, wallet:<document>.<claim> or "
                                 "applicant"))
    return catalogue.FieldSpec(inner.text("name", 40) or "", inner.text("label", 200) or "",
                               inner.text("label_en", 200) or "", source,
                               inner.choice("type", catalogue.FIELD_TYPES, "string") or "string",
                               inner.flag("required"))


def _check_document(check: _Checker, index: int,
                    entry: dict[str, Any]) -> catalogue.DocumentSpec:
    inner = _Checker(check.errors, f"{check.path}.documents[{index}]", entry)
    return catalogue.DocumentSpec(
        inner.text("code", 40) or "", inner.text("label", 200) or "",
        inner.text("label_en", 200) or "",
        inner.text("wallet_document_type", 40, required=False), inner.flag("required"),
        max_bytes=inner.count("max_bytes", catalogue.MAX_UPLOAD_BYTES))


def _procedure(errors: list[FieldError], index: int, entry: Any, agencies: set[str],
               provinces: set[str]) -> catalogue.ProcedureSeed | None:
    before = len(errors)
    check = _Checker(errors, f"procedures[{index}]", entry)
    if len(errors) > before:
        return None
    agency = check.text("agency", 40)
    if agency and agency not in agencies:
        check.fail("agency", N_("unknown agency: add it under \"agencies\" or load it first"))
    offered = check.entry.get("provinces")
    if offered is not None and (not isinstance(offered, list)
                                or not set(offered) <= provinces):
        check.fail("provinces", N_("must be a list of current province codes, or null for "
                                   "all"))
    seed = catalogue.ProcedureSeed(
        code=check.text("code", 40) or "", name=check.text("name", 300) or "",
        name_en=check.text("name_en", 300) or "", agency=agency or "",
        legal_basis=check.text("legal_basis", 500) or "", fee=check.count("fee"),
        online_fee=check.count("online_fee"), processing_days=check.count("processing_days"),
        fields=[_check_field(check, i, f) for i, f in enumerate(check.objects("fields"))],
        documents=[_check_document(check, i, d)
                   for i, d in enumerate(check.objects("documents"))],
        online_level=check.choice("online_level", ONLINE_LEVELS, "full") or "full",
        result_document_type=check.text("result_document_type", 40, required=False),
        register_effect=check.choice("register_effect", EFFECTS, required=False),
        group_code=check.text("group_code", 40, required=False),
        provinces=tuple(offered) if isinstance(offered, list) else None)
    return None if len(errors) > before else seed


def parse(session: Session, document: Any,
          province_codes: list[str]) -> tuple[list[catalogue.AgencySeed],
                                              list[catalogue.ProcedureSeed]]:
    """A bare list of procedures, or {"agencies": [...], "procedures": [...]}."""
    if isinstance(document, list):
        document = {"procedures": document}
    if not isinstance(document, dict) or not isinstance(document.get("procedures"), list) \
            or not isinstance(document.get("agencies", []), list):
        raise Invalid("catalogue", "expected a list of procedures, or an object with "
                                   "\"agencies\" and \"procedures\" lists")
    errors: list[FieldError] = []
    agencies = [_agency(errors, i, e) for i, e in enumerate(document.get("agencies", []))]
    known = {a.code for a in repository.agencies(session)} | {a.code for a in agencies if a}
    procedures = [_procedure(errors, i, e, known, set(province_codes))
                  for i, e in enumerate(document["procedures"])]
    codes = [e.get("code") if isinstance(e, dict) else None for e in document["procedures"]]
    errors += [FieldError(f"procedures[{i}].code", "appears twice in the file")
               for i, code in enumerate(codes) if code and codes.index(code) < i]
    if errors:
        raise Invalid.of_fields(errors)
    return [a for a in agencies if a], [p for p in procedures if p]


def _update(row: Any, values: dict[str, Any]) -> bool:
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    for key in changed:
        setattr(row, key, values[key])
    return bool(changed)


def import_catalogue(session: Session, actor: Actor, document: Any,
                     province_codes: list[str]) -> ImportResult:
    """Add or update agencies and procedures by code and publish each procedure in its
    provinces (all, when it names none); an offering already there keeps its local fees."""
    actor.require(Permission.CATALOGUE_MANAGE)
    agencies, procedures = parse(session, document, province_codes)
    counts = dict.fromkeys((f.name for f in fields(ImportResult)), 0)
    for seed in agencies:
        found = repository.agency(session, seed.code)
        if found is None:
            session.add(Agency(**asdict(seed)))
            counts["agencies_added"] += 1
        elif _update(found, asdict(seed)):
            counts["agencies_updated"] += 1
    session.flush()
    for item in procedures:
        agency = repository.agency(session, item.agency)
        assert agency is not None  # checked by parse
        # A shallow copy: the field and document specs stay dataclasses (models.SpecList).
        values = {f.name: getattr(item, f.name) for f in fields(item)
                  if f.name not in ("agency", "provinces")}
        values.update(agency_id=agency.id, active=True)
        procedure = repository.procedure(session, item.code)
        if procedure is None:
            procedure = Procedure(**values)
            session.add(procedure)
            session.flush()
            counts["procedures_added"] += 1
        elif _update(procedure, values):
            counts["procedures_updated"] += 1
        for province in item.provinces or province_codes:
            if repository.offering(session, procedure.id, province) is None:
                session.add(Offering(procedure_id=procedure.id, province_code=province))
                counts["offerings_added"] += 1
    session.flush()
    return ImportResult(**counts)
