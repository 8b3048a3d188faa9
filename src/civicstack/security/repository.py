"""Queries of the security domain's tables."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicstack.security.models import ChainCheck, SecurityAlert


def latest_checks(session: Session) -> dict[str, ChainCheck]:
    """The last verification of each log."""
    last = select(ChainCheck.log, func.max(ChainCheck.id).label("id")).group_by(
        ChainCheck.log).subquery()
    checks = session.scalars(select(ChainCheck).join(last, ChainCheck.id == last.c.id))
    return {check.log: check for check in checks}


def open_alerts(session: Session) -> dict[str, SecurityAlert]:
    alerts = session.scalars(select(SecurityAlert).where(SecurityAlert.cleared_at.is_(None))
                             .with_for_update())
    return {alert.kind: alert for alert in alerts}


def add_open_alert(session: Session, alert: SecurityAlert) -> bool:
    """Add `alert` unless one of its kind is open already (False); an instance raising it at
    the same moment waits on the unique index until the first one commits."""
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        return False
    return True


def recent_alerts(session: Session, since: datetime, limit: int) -> list[SecurityAlert]:
    return list(session.scalars(
        select(SecurityAlert).where((SecurityAlert.cleared_at.is_(None))
                                    | (SecurityAlert.raised_at >= since))
        .order_by(SecurityAlert.id.desc()).limit(limit)))
