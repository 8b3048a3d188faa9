"""The public statistics dashboard of online public services: filters, server-rendered SVG
charts (no script needed) and tables, with links to the same figures as JSON and CSV. Every
counting rule is in statistics.py; this module only lays the figures out."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.kit.deps import DbSession
from civicstack.kit.errors import Invalid
from civicstack.kit.i18n import N_
from civicstack.kit.web import field_errors, render, request_locale
from civicstack.registry import service as registry
from civicstack.services import statistics

router = APIRouter(include_in_schema=False)
PAGE = "/services/statistics"
API = "/api/v1/services/statistics"
BAR_AREA = 360  # SVG units of a chart's bar area; labels sit to its left
ROW = 28
STATE_LABELS = {"submitted": N_("Submitted"), "received": N_("Received"),
                "in_processing": N_("In processing"),
                "supplement_requested": N_("Supplement requested"),
                "supplemented": N_("Supplemented"), "approved": N_("Approved"),
                "refused": N_("Refused"), "result_delivered": N_("Result delivered"),
                "withdrawn": N_("Withdrawn")}


@dataclass(frozen=True)
class Bar:
    label: str
    rate: float | None
    width: float  # SVG units
    y: int
    meets_target: bool
    dossiers: int


@dataclass(frozen=True)
class BarChart:
    bars: list[Bar]
    height: int
    target_x: float  # from the start of the bar area
    area: int = BAR_AREA


def bar_chart(rates: list[statistics.OnlineRate], english: bool) -> BarChart:
    bars = [Bar(r.name_en if english else r.name, r.rate, BAR_AREA * (r.rate or 0), 8 + i * ROW,
                r.meets_target, r.dossiers) for i, r in enumerate(rates)]
    return BarChart(bars, 16 + len(bars) * ROW, BAR_AREA * statistics.TARGET)


@router.get(PAGE, response_class=HTMLResponse)
def dashboard(request: Request, session: DbSession) -> Response:
    """Anyone may read it: no sign-in."""
    params = request.query_params
    asked = {k: params.get(k, "") for k in ("from", "to", "province", "preset")}
    try:
        chosen = statistics.filters_from_text(session, asked["from"], asked["to"],
                                              asked["province"], asked["preset"] or None)
    except Invalid as refused:
        return render(request, "portal/services_stats.html", {
            "asked": asked, "errors": field_errors(refused), "figures": None,
            "provinces": registry.provinces(session)}, status_code=422)
    found = statistics.figures(session, chosen)
    query = urlencode({k: v for k, v in (
        ("from", chosen.period_from.isoformat() if chosen.period_from else ""),
        ("to", chosen.period_to.isoformat() if chosen.period_to else ""),
        ("province", chosen.province_code or "")) if v})
    english = request_locale(request) == "en"
    return render(request, "portal/services_stats.html", {
        "asked": {**asked, "from": chosen.period_from.isoformat() if chosen.period_from else "",
                  "to": chosen.period_to.isoformat() if chosen.period_to else ""},
        "errors": {}, "figures": found, "provinces": registry.provinces(session),
        "ministries": bar_chart(found.by_ministry, english),
        "by_province": bar_chart(found.by_province, english),
        "national": bar_chart([found.national], english), "state_labels": STATE_LABELS,
        "json_url": f"{API}?{query}" if query else API,
        "csv_url": f"{API}.csv?{query}" if query else f"{API}.csv"})

