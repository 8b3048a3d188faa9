"""Public, read-only JSON of online public services: the statistics (JSON and CSV, the same
figures as the dashboard) and the procedure catalogue. Every rule is in statistics.py and
service.py; bad parameters are 422 problems."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from civicstack.kit.deps import ReadOnlyDb
from civicstack.services import service, statistics

router = APIRouter(prefix="/services", tags=["services"])

From = Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD)")]
To = Annotated[date | None, Query(alias="to", description="Last day, inclusive (YYYY-MM-DD)")]
ProvinceFilter = Annotated[str | None, Query(alias="province", max_length=2,
                                             description="Current province code, e.g. 01")]


class OnlineRateOut(BaseModel):
    key: str
    name: str
    name_en: str
    online: int
    assisted: int
    dossiers: int
    online_rate: float | None = Field(description="online ÷ (online + assisted); null: none")
    meets_target: bool


class FiltersOut(BaseModel):
    from_: date | None = Field(alias="from")
    to: date | None
    province: str | None


class StatisticsOut(BaseModel):
    filters: FiltersOut
    target_online_rate: float
    national: OnlineRateOut
    by_ministry: list[OnlineRateOut]
    by_province: list[OnlineRateOut]
    by_procedure: list[OnlineRateOut]
    procedures: int
    procedures_fully_online: int
    fully_online_share: float | None
    dossiers_with_personal_id: int
    personal_id_share: float | None
    decided: int
    decided_on_time: int
    on_time_rate: float | None
    overdue_open: int
    by_state: dict[str, int]


def _rate(rate: statistics.OnlineRate) -> OnlineRateOut:
    return OnlineRateOut(key=rate.key, name=rate.name, name_en=rate.name_en, online=rate.online,
                         assisted=rate.assisted, dossiers=rate.dossiers, online_rate=rate.rate,
                         meets_target=rate.meets_target)


def statistics_out(found: statistics.Figures) -> StatisticsOut:
    chosen = found.filters
    return StatisticsOut(
        filters=FiltersOut(**{"from": chosen.period_from}, to=chosen.period_to,
                           province=chosen.province_code),
        target_online_rate=found.target, national=_rate(found.national),
        by_ministry=[_rate(r) for r in found.by_ministry],
        by_province=[_rate(r) for r in found.by_province],
        by_procedure=[_rate(r) for r in found.by_procedure],
        procedures=found.procedures, procedures_fully_online=found.procedures_fully_online,
        fully_online_share=found.fully_online_share,
        dossiers_with_personal_id=found.with_personal_id,
        personal_id_share=found.personal_id_share, decided=found.decided,
        decided_on_time=found.decided_on_time, on_time_rate=found.on_time_rate,
        overdue_open=found.overdue, by_state=found.by_state)


@router.get("/statistics", response_model=StatisticsOut, response_model_by_alias=True)
def statistics_json(session: ReadOnlyDb, period_from: From = None, period_to: To = None,
                    province: ProvinceFilter = None) -> StatisticsOut:
    """Online dossier rate (per ministry, province and procedure, against the 80 % target),
    fully online procedures, dossiers filed under a personal ID number, on-time rate, overdue
    and counts by state, over dossiers submitted in the period."""
    chosen = statistics.filters(session, period_from, period_to, province)
    return statistics_out(statistics.figures(session, chosen))


CSV_COLUMNS = ("level", "key", "name", "online", "assisted", "dossiers", "online_rate",
               "meets_target", "decided", "decided_on_time", "on_time_rate", "overdue_open")


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def csv_rows(found: statistics.Figures) -> list[list[Any]]:
    """One row per ministry, province and procedure, after the national one; the dashboard's
    timeliness (decided on time, overdue today) is counted for the whole selection, so only the
    national row carries it."""
    timeliness = [found.decided, found.decided_on_time, _share(found.on_time_rate),
                  found.overdue]
    levels = (("national", [found.national]), ("ministry", found.by_ministry),
              ("province", found.by_province), ("procedure", found.by_procedure))
    return [[level, r.key, r.name, r.online, r.assisted, r.dossiers, _share(r.rate),
             r.meets_target, *(timeliness if level == "national" else ["", "", "", ""])]
            for level, rates in levels for r in rates]


@router.get("/statistics.csv", response_class=Response)
def statistics_csv(session: ReadOnlyDb, period_from: From = None, period_to: To = None,
                   province: ProvinceFilter = None) -> Response:
    """The online rates as CSV (UTF-8 with a BOM, so spreadsheet programs read the accents)."""
    chosen = statistics.filters(session, period_from, period_to, province)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_rows(statistics.figures(session, chosen)))
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             'attachment; filename="services-statistics.csv"'})


# --- the catalogue --------------------------------------------------------------------------

class AgencyOut(BaseModel):
    code: str
    name: str
    name_en: str
    level: str
    ministry: str


class ProcedureOut(BaseModel):
    code: str
    name: str
    name_en: str
    agency: AgencyOut
    online_level: str
    legal_basis: str
    fee: int = Field(description="VND at the counter (the province's own, when it sets one)")
    online_fee: int = Field(description="VND online")
    processing_days: int = Field(description="Working days")
    group_code: str | None
    result_document_type: str | None
    fields: list[dict[str, Any]]
    documents: list[dict[str, Any]]


def _procedure(offered: service.Published) -> ProcedureOut:
    found, agency = offered.procedure, offered.agency
    return ProcedureOut(
        code=found.code, name=found.name, name_en=found.name_en,
        agency=AgencyOut(code=agency.code, name=agency.name, name_en=agency.name_en,
                         level=agency.level, ministry=agency.ministry),
        online_level=found.online_level, legal_basis=found.legal_basis, fee=offered.fee,
        online_fee=offered.online_fee, processing_days=found.processing_days,
        group_code=found.group_code, result_document_type=found.result_document_type,
        fields=[spec.to_dict() for spec in found.fields],
        documents=[spec.to_dict() for spec in found.documents])


@router.get("/procedures", response_model=list[ProcedureOut])
def procedures(session: ReadOnlyDb, province: ProvinceFilter = None) -> list[ProcedureOut]:
    """The catalogue: what a province offers with its fees, or every procedure at national
    fees."""
    chosen = statistics.filters(session, None, None, province)
    if chosen.province_code is None:
        return [_procedure(offered) for offered in service.national_catalogue(session)]
    return [_procedure(offered) for offered in service.catalogue_for(session,
                                                                     chosen.province_code)]


@router.get("/procedures/{code}", response_model=ProcedureOut)
def one_procedure(code: str, session: ReadOnlyDb,
                  province: ProvinceFilter = None) -> ProcedureOut:
    """One procedure: its required information and documents, fees and processing time."""
    chosen = statistics.filters(session, None, None, province)
    if chosen.province_code is None:
        found = service.procedure(session, code)
        return _procedure(service.Published(found, service.agency_of(session, found),
                                            found.fee, found.online_fee))
    return _procedure(service.published(session, code, chosen.province_code))
