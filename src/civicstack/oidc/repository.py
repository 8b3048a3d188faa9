"""Every query the OpenID Connect provider makes of its own tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import delete_in_batches
from civicstack.oidc.models import (
    AuthorizationCode,
    Consent,
    IssuedToken,
    OidcClient,
    PushedAuthorization,
)
from civicstack.oidc.protocol import now

# --- relying parties ------------------------------------------------------------------------

def all_clients(session: Session) -> list[OidcClient]:
    return list(session.execute(select(OidcClient).order_by(OidcClient.id)).scalars())


def client(session: Session, client_id: str) -> OidcClient | None:
    """The relying party, disabled or not."""
    return session.execute(select(OidcClient).where(
        OidcClient.client_id == client_id)).scalar_one_or_none()


def active_client(session: Session, client_id: str) -> OidcClient | None:
    return session.execute(select(OidcClient).where(
        OidcClient.client_id == client_id, OidcClient.disabled_at.is_(None))
    ).scalar_one_or_none()


# --- pushed authorization requests ----------------------------------------------------------

def pushed_request(session: Session, handle_digest: str) -> PushedAuthorization | None:
    return session.execute(select(PushedAuthorization).where(
        PushedAuthorization.handle_digest == handle_digest)).scalar_one_or_none()


def mark_pushed_request_used(session: Session, pushed_id: int) -> None:
    session.execute(update(PushedAuthorization).where(
        PushedAuthorization.id == pushed_id).values(used_at=now()))


# --- consents -------------------------------------------------------------------------------

def live_consent(session: Session, account_id: int, client_id: str) -> Consent | None:
    return session.execute(select(Consent).where(
        Consent.account_id == account_id, Consent.client_id == client_id,
        Consent.withdrawn_at.is_(None))).scalar_one_or_none()


def has_consent(session: Session, account_id: int, client_id: str, scope: str) -> bool:
    """Whether the citizen's standing consent covers every scope asked for."""
    consent = live_consent(session, account_id, client_id)
    return consent is not None and set(scope.split()) <= set(consent.scope.split())


def live_consents_with_client_names(session: Session,
                                    account_id: int) -> list[tuple[Consent, str]]:
    """The citizen's standing consents, newest first, each with its relying party's name."""
    rows = session.execute(
        select(Consent, OidcClient.name).join(OidcClient,
                                              OidcClient.client_id == Consent.client_id)
        .where(Consent.account_id == account_id, Consent.withdrawn_at.is_(None))
        .order_by(Consent.granted_at.desc())).all()
    return [(consent, name) for consent, name in rows]


# --- codes and tokens -----------------------------------------------------------------------

def locked_authorization_code(session: Session, code_digest: str) -> AuthorizationCode | None:
    """Locked, so two concurrent exchanges of one code cannot both see it unused."""
    return session.execute(select(AuthorizationCode).where(
        AuthorizationCode.code_digest == code_digest).with_for_update()
    ).scalar_one_or_none()


def issued_token(session: Session, token_digest: str) -> IssuedToken | None:
    return session.execute(select(IssuedToken).where(
        IssuedToken.token_digest == token_digest)).scalar_one_or_none()


def locked_refresh_token(session: Session, token_digest: str) -> IssuedToken | None:
    """Locked, so two concurrent rotations of one refresh token cannot both see it unspent."""
    return session.execute(select(IssuedToken).where(
        IssuedToken.token_digest == token_digest, IssuedToken.kind == "refresh")
        .with_for_update()).scalar_one_or_none()


def insert_issued_tokens(session: Session, rows: list[dict[str, Any]]) -> None:
    # One executemany, not the ORM's insert-and-fetch-id per token: nothing reads them back.
    session.execute(insert(IssuedToken), rows)


def mark_code_used(session: Session, code_id: int) -> None:
    _stamp(session, AuthorizationCode, code_id, used_at=now())


def mark_refresh_token_rotated(session: Session, token_id: int) -> None:
    _stamp(session, IssuedToken, token_id, rotated_at=now())


def _stamp(session: Session, table: type[AuthorizationCode] | type[IssuedToken], row_id: int,
           **moment: datetime) -> None:
    """Mark a code or refresh token spent with one UPDATE now, not through the unit of work:
    nothing reads the row again, and the request then commits without a flush (a measurable
    part of a token grant, docs/benchmarks.md)."""
    session.execute(update(table).where(table.id == row_id).values(**moment)
                    .execution_options(synchronize_session=False))


def revoke_token_family(session: Session, family: str) -> int:
    """Revoke every live token of one sign-in; how many were live."""
    return _revoke_live_tokens(session, IssuedToken.family == family)


def revoke_tokens_held_for(session: Session, account_id: int, client_id: str) -> int:
    """Revoke every live token a relying party holds for one citizen; how many were live."""
    return _revoke_live_tokens(session, IssuedToken.account_id == account_id,
                               IssuedToken.client_id == client_id)


def _revoke_live_tokens(session: Session, *where: ColumnElement[bool]) -> int:
    result = session.execute(update(IssuedToken).where(
        IssuedToken.revoked_at.is_(None), *where).values(revoked_at=now()))
    return int(cast(CursorResult[Any], result).rowcount)


def purge_expired(factory: sessionmaker[Session], before: datetime) -> int:
    """Delete pushed requests, codes and tokens that expired before `before`, in batches: an
    expired one is refused whether its row is there or not."""
    return sum(delete_in_batches(factory, model.id, model.expires_at < before)
               for model in (PushedAuthorization, AuthorizationCode, IssuedToken))
