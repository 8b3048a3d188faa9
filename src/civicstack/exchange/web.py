"""The public readiness ranking of ministries and provinces (no sign-in): a page with a chart
and a table, and the same figures as CSV. Every figure comes from ranking.py."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from civicstack.exchange import quality, ranking
from civicstack.kit.deps import ReadOnlyDb, html_router
from civicstack.kit.web import csv_download, render

router = html_router()


@router.get("/exchange/ranking", response_class=HTMLResponse)
def ranking_page(request: Request, session: ReadOnlyDb) -> Response:
    return render(request, "portal/exchange_ranking.html", {
        "ranked": ranking.ranking(session), "weights": ranking.WEIGHTS,
        "fresh_days": quality.FRESH_DAYS})


@router.get("/exchange/ranking.csv", response_class=Response)
def ranking_csv(session: ReadOnlyDb) -> Response:
    return csv_download(ranking.csv_rows(ranking.ranking(session)), "exchange-readiness.csv")
