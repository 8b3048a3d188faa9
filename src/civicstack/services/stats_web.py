"""The public statistics dashboard of online public services: filters, server-rendered SVG
charts (no script needed) and tables, with links to the same figures as JSON and CSV. Every
counting rule is in statistics.py; this module only lays the figures out."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from civicstack.kit.charts import BarChart, rate_chart
from civicstack.kit.deps import ReadOnlyDb, html_router
from civicstack.kit.errors import Invalid
from civicstack.kit.i18n import N_
from civicstack.kit.web import field_errors, render, request_locale
from civicstack.registry import service as registry
from civicstack.services import statistics

router = html_router()
PAGE = "/services/statistics"
API = "/api/v1/services/statistics"
STATE_LABELS = {"submitted": N_("Submitted"), "received": N_("Received"),
                "in_processing": N_("In processing"),
                "supplement_requested": N_("Supplement requested"),
                "supplemented": N_("Supplemented"), "approved": N_("Approved"),
                "refused": N_("Refused"), "result_delivered": N_("Result delivered"),
                "withdrawn": N_("Withdrawn")}


def bar_chart(rates: list[statistics.OnlineRate], english: bool) -> BarChart:
    return rate_chart(((r.name_en if english else r.name, r.rate, r.meets_target)
                       for r in rates), statistics.TARGET)


@router.get(PAGE, response_class=HTMLResponse)
def dashboard(request: Request, session: ReadOnlyDb) -> Response:
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

