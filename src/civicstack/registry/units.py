"""Administrative units of the 2025 two-tier reform and the mapping from the old units.

Current units (34 provinces, 3,321 wards) come from `vietnam-provinces`, the authority for codes
and names. The old 63-province / district / commune units and which new ward absorbed each come
from `vietnamadminunits` data files (read directly: its converter geocodes over the network when
a street is given, and nothing here may touch the network).
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from vietnam_provinces import Province as VnProvince
from vietnam_provinces import Ward as VnWard

from civicstack.kit.text import fold
from civicstack.registry.models import LegacyProvince, LegacyWardMapping, Province, Ward


def _package_folder(name: str) -> Path:
    """Where a package's files lie, without importing it: importing vietnamadminunits loads
    its address parser (a second of CPU), which an import's parser process would pay for
    nothing; only a legacy free-text address needs it, and imports it then."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError(f"{name} is not installed", name=name)
    return Path(spec.origin).resolve().parent


LEGACY_DATA_DIR = _package_folder("vietnamadminunits") / "data"


def _code(value: object) -> int:
    return int(str(getattr(value, "value", value)))  # codes are IntEnum members


def current_provinces() -> list[dict[str, str]]:
    return [
        {"code": f"{_code(p.code):02d}", "name": p.name,
         "division_type": str(p.division_type.value), "codename": p.codename}
        for p in VnProvince.iter_all()
    ]


def current_wards() -> list[dict[str, str]]:
    return [
        {"code": f"{_code(w.code):05d}", "name": w.name,
         "division_type": str(w.division_type.value),
         "province_code": f"{_code(w.province_code):02d}"}
        for w in VnWard.iter_all()
    ]


@dataclass(frozen=True)
class LegacyRow:
    province_code: str
    province_name: str
    district_code: str
    district_name: str
    ward_code: str
    ward_name: str
    key: str
    province_key: str


def _legacy_rows(connection: sqlite3.Connection) -> Iterator[LegacyRow]:
    query = ("SELECT provinceCode, province, districtCode, district, wardCode, ward, "
             "provinceKey, districtKey, wardKey FROM admin_units_legacy WHERE wardCode IS NOT NULL")
    for pc, pn, dc, dn, wc, wn, pk, dk, wk in connection.execute(query):
        yield LegacyRow(pc, pn, dc, dn, wc, wn, f"{pk}_{dk}_{wk}", pk)


class _NewWardResolver:
    """Finds the vietnam-provinces code of a ward named by vietnamadminunits' keys."""

    def __init__(self, connection: sqlite3.Connection, wards: list[dict[str, str]]) -> None:
        by_code = {w["code"]: w for w in wards}
        by_name: dict[tuple[str, str], list[str]] = {}
        for w in wards:
            by_name.setdefault((w["province_code"], fold(w["name"])), []).append(w["code"])
        self.ward_code: dict[tuple[str, str], str] = {}
        self.province_code: dict[str, str] = {}
        rows = connection.execute(
            "SELECT provinceKey, wardKey, provinceCode, ward, wardCode FROM admin_units")
        for province_key, ward_key, province_code, ward_name, ward_code in rows:
            self.province_code[province_key] = province_code
            resolved = self._match(by_code, by_name, province_code, ward_name, ward_code)
            if resolved:
                self.ward_code[(province_key, ward_key)] = resolved

    @staticmethod
    def _match(by_code: dict[str, dict[str, str]], by_name: dict[tuple[str, str], list[str]],
               province_code: str, ward_name: str, ward_code: str) -> str | None:
        same = by_code.get(ward_code)
        if same and same["province_code"] == province_code:
            return ward_code
        named = by_name.get((province_code, fold(ward_name)), [])
        return named[0] if len(named) == 1 else None


def legacy_mappings(
    wards: list[dict[str, str]],
) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    """(legacy provinces, legacy ward mappings) joined onto current codes."""
    converter = json.loads((LEGACY_DATA_DIR / "converter_2025.json").read_text())
    old_to_new_province = {old: new for new, olds in converter["DICT_PROVINCE"].items()
                           for old in olds}
    undivided = {old: (new_p, new_w)
                 for new_p, mapping in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items()
                 for new_w, olds in mapping.items() for old in olds}
    with sqlite3.connect(LEGACY_DATA_DIR / "dataset.db") as connection:
        resolver = _NewWardResolver(connection, wards)
        provinces: dict[str, dict[str, str]] = {}
        mappings: list[dict[str, object]] = []
        for row in _legacy_rows(connection):
            new_province_key = old_to_new_province[row.province_key]
            new_province = resolver.province_code[new_province_key]
            provinces[row.province_code] = {"code": row.province_code, "name": row.province_name,
                                            "new_province_code": new_province}
            new_ward_key, divided = _new_ward_key(converter, undivided, new_province_key, row.key)
            mappings.append({
                "legacy_ward_code": row.ward_code, "legacy_ward_name": row.ward_name,
                "legacy_district_code": row.district_code,
                "legacy_district_name": row.district_name,
                "legacy_province_code": row.province_code,
                "new_ward_code": resolver.ward_code.get((new_province_key, new_ward_key or "")),
                "new_province_code": new_province, "divided": divided,
            })
    return sorted(provinces.values(), key=lambda p: p["code"]), mappings


def _new_ward_key(converter: dict[str, dict[str, dict[str, object]]],
                  undivided: dict[str, tuple[str, str]], new_province_key: str,
                  old_key: str) -> tuple[str | None, bool]:
    if old_key in undivided:
        return undivided[old_key][1], False
    # A commune split between several new wards: take the one the reform names as default.
    pieces = converter["DICT_PROVINCE_WARD_DIVIDED"].get(new_province_key, {}).get(old_key, [])
    default = next((p["newWardKey"] for p in pieces if p["isDefaultNewWard"]), None)  # type: ignore[attr-defined]
    return default, bool(pieces)


@dataclass(frozen=True)
class UnitCounts:
    provinces: int
    wards: int
    legacy_provinces: int
    legacy_wards: int
    legacy_wards_unmapped: int


def sync_reference_units(session: Session) -> UnitCounts:
    """Insert whatever units are missing; idempotent, so every `db upgrade` may call it."""
    wards = current_wards()
    legacy_provinces, legacy_wards = legacy_mappings(wards)
    _insert_missing(session, Province, "code", current_provinces())
    _insert_missing(session, Ward, "code", wards)
    _insert_missing(session, LegacyProvince, "code", legacy_provinces)
    _insert_missing(session, LegacyWardMapping, "legacy_ward_code", legacy_wards)
    return unit_counts(session)


def _insert_missing(session: Session, model: type, key: str,
                    rows: Sequence[Mapping[str, object]]) -> None:
    column = getattr(model, key)
    present = set(session.execute(select(column)).scalars())
    missing = [row for row in rows if row[key] not in present]
    for start in range(0, len(missing), 2000):
        session.execute(insert(model), missing[start:start + 2000])


def unit_counts(session: Session) -> UnitCounts:
    def count(model: type) -> int:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())

    unmapped = session.execute(
        select(func.count()).select_from(LegacyWardMapping)
        .where(LegacyWardMapping.new_ward_code.is_(None))
    ).scalar_one()
    return UnitCounts(count(Province), count(Ward), count(LegacyProvince),
                      count(LegacyWardMapping), int(unmapped))


@lru_cache(maxsize=1)
def legacy_province_codes() -> frozenset[str]:
    """The 63 pre-reform province codes that prefix personal ID numbers ("001" = Hà Nội)."""
    with sqlite3.connect(LEGACY_DATA_DIR / "dataset.db") as connection:
        return frozenset(r[0] for r in connection.execute(
            "SELECT DISTINCT provinceCode FROM admin_units_legacy"))


def parse_legacy_ward_code(address: str) -> str | None:
    """Old-format free text ('Phường Phúc Xá, Quận Ba Đình, Hà Nội') -> old ward code, offline."""
    return _parse_legacy_cached(" ".join(address.split()))


@lru_cache(maxsize=50_000)
def _parse_legacy_cached(address: str) -> str | None:
    from vietnamadminunits import ParseMode, parse_address

    try:
        unit = parse_address(address, mode=ParseMode.LEGACY, keep_street=False, level=3)
    except Exception:  # the parser raises bare exceptions on text it cannot read
        return None
    code = getattr(unit, "ward_code", None)
    return str(code) if code else None
