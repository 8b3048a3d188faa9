"""Queries the provider's rules share."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, select, update
from sqlalchemy.orm import Session

from civicstack.oidc.models import Consent, IssuedToken
from civicstack.oidc.protocol import now


def live_consent(session: Session, account_id: int, client_id: str) -> Consent | None:
    return session.execute(select(Consent).where(
        Consent.account_id == account_id, Consent.client_id == client_id,
        Consent.withdrawn_at.is_(None))).scalar_one_or_none()


def has_consent(session: Session, account_id: int, client_id: str, scope: str) -> bool:
    """Whether the citizen's standing consent covers every scope asked for."""
    consent = live_consent(session, account_id, client_id)
    return consent is not None and set(scope.split()) <= set(consent.scope.split())


def revoke_tokens(session: Session, *where: ColumnElement[bool]) -> int:
    """Revoke every live token matching `where`; how many were live."""
    result = session.execute(update(IssuedToken).where(
        IssuedToken.revoked_at.is_(None), *where).values(revoked_at=now()))
    return int(cast(CursorResult[Any], result).rowcount)
