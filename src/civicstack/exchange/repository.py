"""Every query of the exchange's tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.orm import Session

from civicstack.exchange.models import (
    AgreementRequest,
    ExchangeMember,
    ExchangeMessage,
    PublishedDataset,
    PublishedRecord,
    QualityIssue,
    QualityReport,
    SharingAgreement,
)


def member_by_code(session: Session, code: str) -> ExchangeMember | None:
    return session.scalar(select(ExchangeMember).where(ExchangeMember.code == code))


def members(session: Session) -> list[ExchangeMember]:
    return list(session.scalars(select(ExchangeMember).order_by(ExchangeMember.kind,
                                                                ExchangeMember.code)))


def agreements_for(session: Session, consumer_id: int, dataset: str) -> list[SharingAgreement]:
    return list(session.scalars(select(SharingAgreement).where(
        SharingAgreement.consumer_id == consumer_id, SharingAgreement.dataset == dataset)))


def agreements(session: Session) -> list[SharingAgreement]:
    return list(session.scalars(select(SharingAgreement).order_by(SharingAgreement.id.desc())))


def agreement_requests(session: Session, member_id: int | None = None,
                       status: str | None = None) -> list[AgreementRequest]:
    """Newest first; of one member (as consumer or provider) and in one status when given."""
    query = select(AgreementRequest).order_by(AgreementRequest.id.desc())
    if member_id is not None:
        query = query.where(or_(AgreementRequest.consumer_id == member_id,
                                AgreementRequest.provider_id == member_id))
    if status is not None:
        query = query.where(AgreementRequest.status == status)
    return list(session.scalars(query))


def dataset_by_code(session: Session, code: str) -> PublishedDataset | None:
    return session.scalar(select(PublishedDataset).where(PublishedDataset.code == code))


def published_codes(session: Session) -> list[str]:
    return list(session.scalars(select(PublishedDataset.code).order_by(PublishedDataset.code)))


def published_datasets(session: Session, provider_id: int | None = None) -> list[PublishedDataset]:
    query = select(PublishedDataset).order_by(PublishedDataset.code)
    if provider_id is not None:
        query = query.where(PublishedDataset.provider_id == provider_id)
    return list(session.scalars(query))


def records_of(session: Session, dataset_id: int, subject_id: str) -> list[PublishedRecord]:
    return list(session.scalars(select(PublishedRecord).where(
        PublishedRecord.dataset_id == dataset_id, PublishedRecord.subject_id == subject_id)
        .order_by(PublishedRecord.id)))


def all_records(session: Session, dataset_id: int,
                batch_size: int = 5000) -> Iterator[list[PublishedRecord]]:
    """The dataset's records in batches, so that a large one is checked in bounded memory."""
    after = 0
    while True:
        batch = list(session.scalars(select(PublishedRecord).where(
            PublishedRecord.dataset_id == dataset_id, PublishedRecord.id > after)
            .order_by(PublishedRecord.id).limit(batch_size)))
        if not batch:
            return
        yield batch
        after = batch[-1].id


def delete_records(session: Session, dataset_id: int) -> None:
    session.execute(delete(PublishedRecord).where(PublishedRecord.dataset_id == dataset_id))


def latest_reports(session: Session) -> dict[int, QualityReport]:
    """Dataset id -> its newest quality report."""
    newest = select(QualityReport.dataset_id, func.max(QualityReport.id).label("id")) \
        .group_by(QualityReport.dataset_id).subquery()
    found = session.scalars(select(QualityReport).join(newest, newest.c.id == QualityReport.id))
    return {r.dataset_id: r for r in found}


def quality_issues(session: Session, report_id: int) -> list[QualityIssue]:
    return list(session.scalars(select(QualityIssue).where(QualityIssue.report_id == report_id)
                                .order_by(QualityIssue.id)))


def message_outcomes(session: Session) -> list[tuple[str, str, bool, int]]:
    """(dataset, outcome, whether an agreement covered it, count) over the whole log."""
    covered = ExchangeMessage.agreement_id.is_not(None)
    rows = session.execute(select(ExchangeMessage.dataset, ExchangeMessage.outcome, covered,
                                  func.count()).group_by(ExchangeMessage.dataset,
                                                         ExchangeMessage.outcome, covered))
    return [(d, o, bool(c), n) for d, o, c, n in rows]


def answer_latencies(session: Session) -> list[tuple[str, int]]:
    """(dataset, latency in ms) of every answered message."""
    return [(d, ms) for d, ms in session.execute(
        select(ExchangeMessage.dataset, ExchangeMessage.latency_ms)
        .where(ExchangeMessage.outcome == "answered"))]


def request_decisions(session: Session) -> list[tuple[int, str, int]]:
    """(provider id, status, count) of agreement requests."""
    return [(p, s, n) for p, s, n in session.execute(
        select(AgreementRequest.provider_id, AgreementRequest.status, func.count())
        .group_by(AgreementRequest.provider_id, AgreementRequest.status))]


def _refused_outside_agreements(since: datetime) -> ColumnElement[bool]:
    """Requests refused for want of an agreement (not a miss within one) since `since`."""
    return (ExchangeMessage.outcome == "refused") & ExchangeMessage.agreement_id.is_(None) & \
        (ExchangeMessage.occurred_at >= since)


def refused_count(session: Session, since: datetime) -> int:
    return session.execute(select(func.count()).select_from(ExchangeMessage)
                           .where(_refused_outside_agreements(since))).scalar_one()


def latest_refused(session: Session, since: datetime, limit: int) -> list[ExchangeMessage]:
    return list(session.scalars(select(ExchangeMessage).where(_refused_outside_agreements(since))
                                .order_by(ExchangeMessage.seq.desc()).limit(limit)))
