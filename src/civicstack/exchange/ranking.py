"""The readiness ranking of ministries and provinces: how ready and able each is to share data,
computed from the exchange's own records (the message log, agreement requests and data-quality
reports), never from self-assessment. docs/exchange.md explains the weights."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from civicstack.exchange import repository
from civicstack.exchange.models import QualityReport

RANKED_KINDS = ("ministry", "province")
# Points out of 100 for each part of the score; a part with no evidence scores nothing.
WEIGHTS = {"datasets": 15, "agreements": 15, "success": 20, "latency": 10,
           "completeness": 10, "validity": 20, "freshness": 10}
DATASETS_FOR_FULL_MARKS = 3
LATENCY_GOOD_MS, LATENCY_BAD_MS = 200, 2000  # p95 at or under: full marks; at or over: none


@dataclass
class Readiness:
    code: str
    name: str
    kind: str
    datasets_published: int = 0
    requests_granted: int = 0
    requests_refused: int = 0
    reads_answered: int = 0  # by its datasets, within an agreement
    reads_failed: int = 0  # within an agreement, yet unanswered
    latencies: list[int] = field(default_factory=list)
    records_checked: int = 0
    records_complete: int = 0
    records_valid: int = 0
    records_fresh: int = 0
    score: float = 0.0
    rank: int = 0

    @property
    def agreements_honoured(self) -> float | None:
        return _share(self.requests_granted, self.requests_granted + self.requests_refused)

    @property
    def success_rate(self) -> float | None:
        return _share(self.reads_answered, self.reads_answered + self.reads_failed)

    @property
    def latency_p50(self) -> float | None:
        return statistics.median(self.latencies) if self.latencies else None

    @property
    def latency_p95(self) -> float | None:
        if len(self.latencies) < 2:
            return self.latency_p50
        return statistics.quantiles(self.latencies, n=20, method="inclusive")[18]

    @property
    def completeness(self) -> float | None:
        return _share(self.records_complete, self.records_checked)

    @property
    def id_validity(self) -> float | None:
        return _share(self.records_valid, self.records_checked)

    @property
    def freshness(self) -> float | None:
        return _share(self.records_fresh, self.records_checked)

    def parts(self) -> dict[str, float]:
        """Each part of the score between 0 and 1 (0 without evidence)."""
        p95 = self.latency_p95
        latency = 0.0 if p95 is None else min(1.0, max(0.0, (LATENCY_BAD_MS - p95) / (
            LATENCY_BAD_MS - LATENCY_GOOD_MS)))
        return {"datasets": min(1.0, self.datasets_published / DATASETS_FOR_FULL_MARKS),
                "agreements": self.agreements_honoured or 0.0,
                "success": self.success_rate or 0.0, "latency": latency,
                "completeness": self.completeness or 0.0, "validity": self.id_validity or 0.0,
                "freshness": self.freshness or 0.0}


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def ranking(session: Session) -> list[Readiness]:
    """Every active ministry and province, best first (ties by code)."""
    ranked = {m.id: Readiness(m.code, m.name, m.kind) for m in repository.members(session)
              if m.kind in RANKED_KINDS and m.status == "active"}
    # The register's datasets are the population register system's, which is not ranked.
    provider_of: dict[str, int] = {}
    latest = repository.latest_reports(session)
    for dataset in repository.published_datasets(session):
        provider_of[dataset.code] = dataset.provider_id
        if dataset.provider_id in ranked:
            _add_quality(ranked[dataset.provider_id], latest.get(dataset.id))
    for provider_id, status, count in repository.request_decisions(session):
        if provider_id in ranked:
            ranked[provider_id].requests_granted += count * (status == "granted")
            ranked[provider_id].requests_refused += count * (status == "refused")
    for dataset_code, outcome, covered, count in repository.message_outcomes(session):
        found = ranked.get(provider_of.get(dataset_code, 0))
        if found is not None and covered:
            found.reads_answered += count * (outcome == "answered")
            found.reads_failed += count * (outcome != "answered")
    for dataset_code, latency in repository.answer_latencies(session):
        found = ranked.get(provider_of.get(dataset_code, 0))
        if found is not None:
            found.latencies.append(latency)
    for readiness in ranked.values():
        parts = readiness.parts()
        readiness.score = round(sum(WEIGHTS[name] * parts[name] for name in WEIGHTS), 1)
    order = sorted(ranked.values(), key=lambda r: (-r.score, r.code))
    for position, readiness in enumerate(order, 1):
        readiness.rank = position
    return order


def _add_quality(readiness: Readiness, report: QualityReport | None) -> None:
    readiness.datasets_published += 1
    if report is not None:
        readiness.records_checked += report.records
        readiness.records_complete += report.complete
        readiness.records_valid += report.valid_ids
        readiness.records_fresh += report.fresh


def csv_rows(order: list[Readiness]) -> list[list[Any]]:
    header: list[Any] = ["rank", "code", "name", "kind", "score", "datasets_published",
                         "agreements_honoured", "success_rate", "latency_p50_ms",
                         "latency_p95_ms", "completeness", "id_validity", "freshness"]
    return [header, *([r.rank, r.code, r.name, r.kind, r.score, r.datasets_published,
                       _rounded(r.agreements_honoured), _rounded(r.success_rate),
                       _rounded(r.latency_p50), _rounded(r.latency_p95),
                       _rounded(r.completeness), _rounded(r.id_validity),
                       _rounded(r.freshness)] for r in order)]


def _rounded(value: float | None) -> float | str:
    return "" if value is None else round(value, 3)
