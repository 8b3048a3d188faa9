"""Every query the OpenID Connect provider makes of its own tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import delete_in_batches
from civicstack.oidc.models import (
    AuthorizationCode,
    Consent,
    IssuedToken,
    LogoutDelivery,
    OidcClient,
    PushedAuthorization,
    RelyingPartySession,
)
from civicstack.oidc.protocol import now

# --- relying parties ------------------------------------------------------------------------

def all_clients(session: Session) -> list[OidcClient]:
    return list(session.execute(select(OidcClient).order_by(OidcClient.id)).scalars())


def client(session: Session, client_id: str) -> OidcClient | None:
    """The relying party, disabled or not."""
    return session.execute(select(OidcClient).where(
        OidcClient.client_id == client_id)).scalar_one_or_none()


# The token endpoint's statements are built once: building a statement and its cache key
# costs as much CPU as its round trip (~150 µs), several times in every grant.
ACTIVE_CLIENT = select(OidcClient).where(OidcClient.client_id == bindparam("client_id"),
                                         OidcClient.disabled_at.is_(None))


def active_client(session: Session, client_id: str) -> OidcClient | None:
    return session.execute(ACTIVE_CLIENT, {"client_id": client_id}).scalar_one_or_none()


# --- pushed authorization requests ----------------------------------------------------------

def pushed_request(session: Session, handle_digest: str) -> PushedAuthorization | None:
    return session.execute(select(PushedAuthorization).where(
        PushedAuthorization.handle_digest == handle_digest)).scalar_one_or_none()


def mark_pushed_request_used(session: Session, pushed_id: int) -> None:
    session.execute(update(PushedAuthorization).where(
        PushedAuthorization.id == pushed_id).values(used_at=now()))


# --- consents -------------------------------------------------------------------------------

LIVE_CONSENT = select(Consent).where(Consent.account_id == bindparam("account_id"),
                                     Consent.client_id == bindparam("client_id"),
                                     Consent.withdrawn_at.is_(None))


def live_consent(session: Session, account_id: int, client_id: str) -> Consent | None:
    return session.execute(LIVE_CONSENT, {"account_id": account_id, "client_id": client_id}
                           ).scalar_one_or_none()


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

LOCKED_CODE = select(AuthorizationCode).where(
    AuthorizationCode.code_digest == bindparam("code_digest")).with_for_update()


def locked_authorization_code(session: Session, code_digest: str) -> AuthorizationCode | None:
    """Locked, so two concurrent exchanges of one code cannot both see it unused."""
    return session.execute(LOCKED_CODE, {"code_digest": code_digest}).scalar_one_or_none()


def issued_token(session: Session, token_digest: str) -> IssuedToken | None:
    return session.execute(select(IssuedToken).where(
        IssuedToken.token_digest == token_digest)).scalar_one_or_none()


LOCKED_REFRESH_TOKEN = select(IssuedToken).where(
    IssuedToken.token_digest == bindparam("token_digest"), IssuedToken.kind == "refresh"
).with_for_update()


def locked_refresh_token(session: Session, token_digest: str) -> IssuedToken | None:
    """Locked, so two concurrent rotations of one refresh token cannot both see it unspent."""
    return session.execute(LOCKED_REFRESH_TOKEN, {"token_digest": token_digest}
                           ).scalar_one_or_none()


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


def revoke_tokens_of_sessions(session: Session, account_id: int, sids: tuple[str, ...]) -> int:
    """Revoke every live token issued through these sessions, to any party; how many."""
    return _revoke_live_tokens(session, IssuedToken.account_id == account_id,
                               IssuedToken.browser_session.in_(sids))


def _revoke_live_tokens(session: Session, *where: ColumnElement[bool]) -> int:
    result = session.execute(update(IssuedToken).where(
        IssuedToken.revoked_at.is_(None), *where).values(revoked_at=now()))
    return int(cast(CursorResult[Any], result).rowcount)


# --- relying parties' sessions and logout deliveries ------------------------------------------

def record_rp_session(session: Session, client_id: str, account_id: int, sid: str) -> None:
    """Remember that `client_id` signed the citizen in through session `sid`; once is enough
    (an upsert that does nothing when known, so two concurrent sign-ins cannot collide)."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(RelyingPartySession).values(
        client_id=client_id, account_id=account_id, sid=sid, signed_in_at=now())
        .on_conflict_do_nothing(index_elements=["client_id", "sid"]))


def frontchannel_clients(session: Session, sid: str) -> list[OidcClient]:
    """The active parties signed in through `sid` that asked to hear of its end in the
    browser (Front-Channel Logout)."""
    return list(session.execute(
        select(OidcClient).join(RelyingPartySession,
                                RelyingPartySession.client_id == OidcClient.client_id)
        .where(RelyingPartySession.sid == sid, OidcClient.disabled_at.is_(None),
               OidcClient.frontchannel_logout_uri.is_not(None))
        .order_by(OidcClient.id)).scalars())


def forget_rp_sessions(session: Session, account_id: int,
                       sids: tuple[str, ...]) -> list[tuple[str, str]]:
    """Remove the record of every party signed in through these sessions; (client_id, sid) of
    each removed. A concurrent removal of the same rows returns them to only one caller, so
    a party is told once."""
    return [(row.client_id, row.sid) for row in session.execute(
        delete(RelyingPartySession).where(RelyingPartySession.account_id == account_id,
                                          RelyingPartySession.sid.in_(sids))
        .returning(RelyingPartySession.client_id, RelyingPartySession.sid))]


def due_logout_deliveries(session: Session, moment: datetime, limit: int) -> list[LogoutDelivery]:
    return list(session.execute(select(LogoutDelivery).where(
        LogoutDelivery.delivered_at.is_(None), LogoutDelivery.abandoned_at.is_(None),
        LogoutDelivery.next_attempt_at <= moment)
        .order_by(LogoutDelivery.next_attempt_at).limit(limit)).scalars())


def claim_logout_delivery(session: Session, delivery_id: int, seen_attempts: int,
                          moment: datetime, lease_until: datetime) -> bool:
    """Take one attempt at a due delivery: count it and move its next attempt past the lease,
    unless another worker took this attempt first (compare-and-set on `attempts`)."""
    result = session.execute(update(LogoutDelivery).where(
        LogoutDelivery.id == delivery_id, LogoutDelivery.attempts == seen_attempts,
        LogoutDelivery.next_attempt_at <= moment, LogoutDelivery.delivered_at.is_(None),
        LogoutDelivery.abandoned_at.is_(None))
        .values(attempts=seen_attempts + 1, next_attempt_at=lease_until)
        .execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount) == 1


def logout_delivery(session: Session, delivery_id: int) -> LogoutDelivery:
    return session.execute(select(LogoutDelivery).where(
        LogoutDelivery.id == delivery_id)).scalar_one()


def purge_expired(factory: sessionmaker[Session], before: datetime) -> int:
    """Delete pushed requests, codes and tokens that expired before `before`, in batches: an
    expired one is refused whether its row is there or not."""
    return sum(delete_in_batches(factory, model.id, model.expires_at < before)
               for model in (PushedAuthorization, AuthorizationCode, IssuedToken))
