"""Citizens' signed-in devices: browser sessions, what each has proven (level 1 or 2), and
signing them out. Whenever sessions end (or lose the level they had proven), `SessionsEnded`
is announced, so whoever relied on them (relying parties, through OpenID Connect) stops too."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicstack.identity import repository
from civicstack.identity.accounts import now
from civicstack.identity.models import AccountStatus, CitizenAccount, CitizenSession
from civicstack.kit import audit, events
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.errors import NotFound

SESSION_IDLE_LIMIT = timedelta(hours=8)
# last_seen_at decides the idle limit and orders the devices page: a minute's precision is
# plenty, and saves an UPDATE on every signed-in request.
TOUCH_EVERY = timedelta(seconds=60)
PASSWORD_ONLY, PASSWORD_AND_TOTP = "pwd", "pwd otp"  # RFC 8176 amr values, space-separated
PASSWORD_AND_PASSKEY = "pwd hwk"  # noqa: S105 (hwk: proof of a hardware-secured key)


def start_session(session: Session, account: CitizenAccount, user_agent: str,
                  ip_address: str) -> str:
    """A new browser session at level 1: a password proves only that much, whatever the
    account's own level."""
    moment = now()
    token = secrets.token_urlsafe(32)
    session.add(CitizenSession(id=token, account_id=account.id, user_agent=user_agent[:300],
                               ip_address=ip_address[:64], created_at=moment,
                               last_seen_at=moment, level=1, amr=PASSWORD_ONLY,
                               authenticated_at=moment))
    return token


@dataclass(frozen=True)
class SessionsEnded:
    """Sessions of one citizen ended: signed out, signed out everywhere, the account locked
    or closed, its password reset, or (`LEVEL_LOWERED`) the level they had proven withdrawn.
    Announced in the transaction that ends them (kit/events.py)."""

    account_id: int
    personal_id_number: str
    session_ids: tuple[str, ...]  # each session's `provider_session_id`, never its secret
    reason: str


SIGNED_OUT, SIGNED_OUT_EVERYWHERE, LOCKED = "signed_out", "signed_out_everywhere", "locked"
PASSWORD_RESET, LEVEL_LOWERED = "password_reset", "level_lowered"
CLOSED = "account_closed"  # the holder died, or closed the account themself


def provider_session_id(token: str) -> str:
    """The session's public id (OpenID Connect's `sid`): stable for the session's life, unique
    to it, and revealing nothing of the secret the browser holds."""
    return hashlib.sha256(b"sid:" + token.encode()).hexdigest()[:32]


def _announce_ended(session: Session, account: CitizenAccount, tokens: list[str],
                    reason: str) -> None:
    if tokens:
        events.announce(session, SessionsEnded(
            account.id, account.personal_id_number,
            tuple(provider_session_id(token) for token in tokens), reason))


@dataclass(frozen=True)
class SignedIn:
    """A live browser session and what it has proven."""

    account: CitizenAccount
    session_id: str  # the CitizenSession id: a bearer secret, never shown
    level: int  # 1 after the password, 2 after the password and a TOTP code
    amr: tuple[str, ...]  # RFC 8176 methods: ("pwd",) or ("pwd", "otp")
    authenticated_at: datetime  # aware UTC; the last authentication step (OIDC auth_time)


def signed_in(session: Session, token: str) -> SignedIn | None:
    """The live session behind a browser's token, touching it; None once ended, idle too long,
    or the account is no longer active."""
    found = live_session(session, token)
    if found is None:
        return None
    browser, account = found
    return SignedIn(account=account, session_id=browser.id, level=browser.level,
                    amr=tuple(browser.amr.split()),
                    authenticated_at=as_utc(browser.authenticated_at or browser.created_at))


def live_session(session: Session, token: str,
                 ) -> tuple[CitizenSession, CitizenAccount] | None:
    """The browser session behind `token` and its account, touching it (see signed_in)."""
    found = repository.open_session_with_account(session, token)
    if found is None:
        return None
    browser, account = found
    if account.status != AccountStatus.ACTIVE.value or \
            as_utc(browser.last_seen_at) + SESSION_IDLE_LIMIT < now():
        return None
    moment = now()
    if moment - as_utc(browser.last_seen_at) > TOUCH_EVERY:  # not a write per request
        browser.last_seen_at = moment
    return browser, account


def live_sessions(session: Session, account: CitizenAccount) -> list[CitizenSession]:
    return repository.live_sessions_of(session, account.id, now() - SESSION_IDLE_LIMIT)


def session_handle(token: str) -> str:
    """What a page may show of a session: its id is a bearer secret, this is not."""
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def end_session(session: Session, account: CitizenAccount, handle: str) -> None:
    """Sign one device out; a citizen can end only their own sessions."""
    browser = next((s for s in live_sessions(session, account)
                    if hmac.compare_digest(session_handle(s.id), handle)), None)
    if browser is None:
        raise NotFound("no such signed-in device")
    browser.ended_at = now()
    audit.record(session, Actor("citizen", account.personal_id_number), "identity.session.end",
                 subject_type="person", subject_id=account.personal_id_number,
                 purpose="account security", detail={"device": browser.user_agent[:80]})
    _announce_ended(session, account, [browser.id], SIGNED_OUT)


def end_all_sessions(session: Session, account: CitizenAccount, reason: str) -> None:
    _announce_ended(session, account, repository.end_sessions_of(session, account.id, now()),
                    reason)


def sign_out_everywhere(session: Session, account: CitizenAccount) -> None:
    """The citizen ends every session of their account, this one included (a device lost, a
    password seen): each is refused at its next request, on every instance."""
    end_all_sessions(session, account, SIGNED_OUT_EVERYWHERE)
    audit.record(session, Actor("citizen", account.personal_id_number),
                 "identity.session.end_all", subject_type="person",
                 subject_id=account.personal_id_number, purpose="account security")


def lower_all_sessions(session: Session, account: CitizenAccount) -> None:
    """Every open session of the account falls back to what a password proves; what was
    signed in through a session at a higher level ends with that level."""
    lowered = repository.lower_open_sessions(session, account.id, 1, PASSWORD_ONLY)
    _announce_ended(session, account, lowered, LEVEL_LOWERED)


def raise_to_level_two(browser: CitizenSession, amr: str = PASSWORD_AND_TOTP) -> None:
    browser.level = 2
    browser.amr = amr
    browser.authenticated_at = now()
