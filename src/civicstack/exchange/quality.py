"""Data-quality checks of published datasets against the population register ("correct,
sufficient, clean, alive"): every record's ID number well formed, registered and of a living
person under the same name, its required fields filled, and recently updated. A report keeps
the counts and each mismatching record with its reasons, for the provider to clean up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicstack.exchange import datasets, repository
from civicstack.exchange.models import (
    ExchangeMember,
    PublishedDataset,
    PublishedRecord,
    QualityIssue,
    QualityReport,
)
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc
from civicstack.kit.errors import NotFound
from civicstack.registry import service as registry
from civicstack.registry.service import RegisterMatch

FRESH_DAYS = 180  # a record not confirmed by its provider for longer is stale
NAME_FIELD = "full_name"


def now() -> datetime:
    return datetime.now(UTC)


def check_dataset(session: Session, actor: Actor, code: str) -> QualityReport:
    """Check every record of one published dataset; the provider or an admin asks for it."""
    dataset = repository.dataset_by_code(session, code)
    if dataset is None:
        raise NotFound(f"no published dataset '{code}'")
    provider = session.get(ExchangeMember, dataset.provider_id)
    assert provider is not None  # a foreign key
    datasets.require_acting_for(actor, provider)
    moment = now()
    report = QualityReport(dataset_id=dataset.id, checked_at=moment, checked_by=str(actor),
                           records=0, complete=0, valid_ids=0, names_matching=0, fresh=0)
    session.add(report)
    session.flush()
    purpose = f"data-quality check of the {code} dataset"
    for batch in repository.all_records(session, dataset.id):
        names = [(r.subject_id, _name(dataset, r)) for r in batch]
        for record, match in zip(batch, registry.match_against_register(
                session, actor, names, purpose), strict=True):
            _count(session, report, dataset, record, match, moment)
    audit.record(session, actor, "exchange.quality.check", subject_type="exchange_member",
                 subject_id=provider.code, purpose=purpose,
                 detail={"report": report.id, "records": report.records,
                         "valid_ids": report.valid_ids})
    return report


def check_all(session: Session, actor: Actor,
              provider: str | None = None) -> list[tuple[str, QualityReport]]:
    """Every published dataset, or those of one provider: (dataset code, its new report)."""
    member_id = None
    if provider is not None:
        found = repository.member_by_code(session, provider)
        if found is None:
            raise NotFound(f"no exchange member '{provider}'")
        member_id = found.id
    return [(d.code, check_dataset(session, actor, d.code))
            for d in repository.published_datasets(session, member_id)]


def _name(dataset: PublishedDataset, record: PublishedRecord) -> str | None:
    if NAME_FIELD not in dataset.fields:
        return None
    return str(record.values.get(NAME_FIELD) or "")


def _count(session: Session, report: QualityReport, dataset: PublishedDataset,
           record: PublishedRecord, match: RegisterMatch, moment: datetime) -> None:
    reasons = _reasons(dataset, record, match, moment)
    report.records += 1
    report.complete += not any(r.startswith("missing") for r in reasons)
    report.valid_ids += match.registered and match.alive
    report.names_matching += match.name_matches is not False and match.registered
    report.fresh += moment - as_utc(record.updated_at) <= timedelta(days=FRESH_DAYS)
    if reasons:
        session.add(QualityIssue(report_id=report.id, subject_id=record.subject_id,
                                 reason="; ".join(reasons), values=record.values))


def _reasons(dataset: PublishedDataset, record: PublishedRecord, match: RegisterMatch,
             moment: datetime) -> list[str]:
    reasons = []
    missing = [f for f in dataset.required if record.values.get(f) in (None, "")]
    if missing:
        reasons.append(f"missing {', '.join(missing)}")
    if not match.well_formed:
        reasons.append("the ID number is malformed")
    elif not match.registered:
        reasons.append("the ID number is not in the population register")
    elif not match.alive:
        reasons.append("the person is recorded as deceased")
    if match.name_matches is False:
        reasons.append("the name differs from the register")
    age = (moment - as_utc(record.updated_at)).days
    if age > FRESH_DAYS:
        reasons.append(f"not updated for {age} days")
    return reasons


@dataclass(frozen=True)
class ReportView:
    report: QualityReport
    dataset: PublishedDataset
    issues: list[QualityIssue]


def report_of(session: Session, actor: Actor, report_id: int) -> ReportView:
    """A report with its mismatching records, for its provider or an admin."""
    report = session.get(QualityReport, report_id)
    if report is None:
        raise NotFound(f"no quality report {report_id}")
    return _view(session, actor, report)


def latest_report(session: Session, actor: Actor, code: str) -> ReportView:
    dataset = repository.dataset_by_code(session, code)
    report = repository.latest_reports(session).get(dataset.id) if dataset else None
    if report is None:
        raise NotFound(f"the dataset '{code}' has not been checked yet")
    return _view(session, actor, report)


def _view(session: Session, actor: Actor, report: QualityReport) -> ReportView:
    dataset = session.get(PublishedDataset, report.dataset_id)
    assert dataset is not None  # a foreign key
    provider = session.get(ExchangeMember, dataset.provider_id)
    assert provider is not None
    datasets.require_acting_for(actor, provider)
    return ReportView(report, dataset, repository.quality_issues(session, report.id))


def issue_rows(view: ReportView) -> list[list[Any]]:
    """The clean-up list as CSV rows: ID number, reasons, then the record as it was checked."""
    header: list[Any] = ["personal_id_number", "reason", *view.dataset.fields]
    return [header, *([i.subject_id, i.reason, *(i.values.get(f, "") for f in view.dataset.fields)]
                      for i in view.issues)]


@dataclass(frozen=True)
class DatasetQuality:
    dataset: PublishedDataset
    provider: str
    latest: QualityReport | None


def overview(session: Session, actor: Actor) -> list[DatasetQuality]:
    """Every published dataset with its newest report, for the console."""
    actor.require(Permission.EXCHANGE_MANAGE)
    codes = {m.id: m.code for m in repository.members(session)}
    latest = repository.latest_reports(session)
    return [DatasetQuality(d, codes[d.provider_id], latest.get(d.id))
            for d in repository.published_datasets(session)]
