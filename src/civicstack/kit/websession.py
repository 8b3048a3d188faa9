"""Browser sessions kept on the server: the cookie carries only a random opaque id, and what a
session holds (who signed in, a pending sign-in, the CSRF token) lives in the database, so every
instance sees the same sessions, a restart keeps them, and ending one (sign-out, a lock) ends it
everywhere at once.

Only the id's SHA-256 is stored, so a copy of the table opens no session. A session ends after
`session_idle_minutes` without a request or `session_absolute_hours` after it began. Clearing a
session (sign-in, sign-out) gives it a new id; `rotate` does the same while keeping its content
(a step-up), so an id seen before a change of privilege is worth nothing after it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, DateTime, String, Text, delete, or_, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicstack.config import Settings
from civicstack.kit.db import Base, as_utc, delete_in_batches, transaction
from civicstack.kit.threads import on_worker_thread

COOKIE = "civicstack_session"
# The anonymous forms' seed (kit/csrf.py); over HTTPS `__Host-` prefixed: set by this host only.
FORM_SEED_COOKIE = "civicstack_form"
SECURE_FORM_SEED_COOKIE = f"__Host-{FORM_SEED_COOKIE}"
SEED_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")  # token_urlsafe(32); anything else is ignored
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute per session


class WebSession(Base):
    __tablename__ = "web_session"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class BrowserSession(dict[str, Any]):
    """`request.session`: a dict that knows whether it changed and whether to change its id."""

    def __init__(self, data: dict[str, Any], session_id: str | None,
                 store: SessionStore | None = None, unread_id: str | None = None) -> None:
        super().__init__(data)
        self.session_id = session_id
        self.store = store
        # The id the browser sent, on a path whose handler reads the session itself, in its own
        # transaction (`read_in`), until it has: never stored over, nor its cookie dropped.
        self.unread_id = unread_id
        self.changed = False
        self.renew_id = False
        self.form_seed: str | None = None  # the anonymous forms' seed the browser sent
        self.form_seed_is_new = False

    def __setitem__(self, key: str, value: Any) -> None:
        self.changed = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.changed = True
        super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        self.changed = self.changed or key in self
        return super().pop(key, *default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        self.changed = self.changed or key not in self
        return super().setdefault(key, default)

    def update(self, *args: Any, **values: Any) -> None:
        self.changed = True
        super().update(*args, **values)

    def clear(self) -> None:
        """Everything forgotten, and a new id if anything is stored again."""
        self.changed = self.renew_id = True
        super().clear()

    def rotate(self) -> None:
        """Keep the content under a new id (after a step-up)."""
        self.changed = self.renew_id = True

    def form_seed_for_page(self) -> str:
        """The anonymous forms' seed: the browser's, or a new one the response will set."""
        if self.form_seed is None:
            self.form_seed, self.form_seed_is_new = secrets.token_urlsafe(32), True
        return self.form_seed


def rotate(session: dict[str, Any]) -> None:
    """`request.session` under a new id: after any change of privilege."""
    if isinstance(session, BrowserSession):
        session.rotate()


def store_in(db: Session, session: dict[str, Any]) -> None:
    """Write `request.session` now, in the caller's transaction, rather than in one of its own
    when the response starts: a sign-in commits the account's session and the browser's at
    once (one transaction fewer on the portal's busiest request)."""
    if isinstance(session, BrowserSession) and session.store is not None and session.changed:
        session.session_id = session.store.save_in(db, session)
        session.changed = session.renew_id = False


def read_in(db: Session, session: dict[str, Any]) -> None:
    """Read `request.session` now, in the caller's transaction, on a path the middleware leaves
    to its handler (`Installer.session_read_by_handler`): every single sign-on passes the
    authorization endpoint, and reading the session there saves a thread hop and a
    transaction."""
    if isinstance(session, BrowserSession) and session.store is not None and session.unread_id:
        sent_id, session.unread_id = session.unread_id, None
        content = session.store.load_in(db, sent_id)
        if content is not None:
            dict.update(session, content)  # what was stored is no change
            session.session_id = sent_id


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    def __init__(self, factory: sessionmaker[Session], settings: Settings) -> None:
        self.factory = factory
        self.idle = timedelta(minutes=settings.session_idle_minutes)
        self.absolute = timedelta(hours=settings.session_absolute_hours)

    def load(self, session_id: str) -> dict[str, Any] | None:
        """The session's content, or None when it never existed, ended or expired."""
        with transaction(self.factory) as db:
            return self.load_in(db, session_id)

    def load_in(self, db: Session, session_id: str) -> dict[str, Any] | None:
        """`load` in the caller's transaction."""
        moment = datetime.now(UTC)
        row = db.get(WebSession, digest(session_id))
        if row is None:
            return None
        if self._expired(row, moment):
            db.delete(row)
            return None
        if moment - as_utc(row.last_seen_at) > TOUCH_EVERY:
            row.last_seen_at = moment
        content: dict[str, Any] = json.loads(row.data)
        return content

    def _expired(self, row: WebSession, moment: datetime) -> bool:
        return (moment - as_utc(row.last_seen_at) > self.idle
                or moment - as_utc(row.created_at) > self.absolute)

    def save(self, session: BrowserSession) -> str | None:
        """Store the session; the id the browser must keep, or None when it ended."""
        with transaction(self.factory) as db:
            return self.save_in(db, session)

    def save_in(self, db: Session, session: BrowserSession) -> str | None:
        """`save` in the caller's transaction."""
        old = session.session_id
        if not session:
            if old is not None:
                db.execute(delete(WebSession).where(WebSession.id_digest == digest(old)))
            return None
        if old is not None and session.renew_id:
            return self._renew(db, old, session) or self._insert(db, session)
        if old is not None:
            row = db.get(WebSession, digest(old))
            if row is not None:
                row.data = json.dumps(dict(session))
                return old
        return self._insert(db, session)

    def _renew(self, db: Session, old: str, session: BrowserSession) -> str | None:
        """The row under a new id, with the content and times of a new session, in one
        statement (a sign-in's); None when the old row is gone."""
        new_id, moment = secrets.token_urlsafe(32), datetime.now(UTC)
        renewed = db.execute(
            update(WebSession).where(WebSession.id_digest == digest(old)).values(
                id_digest=digest(new_id), data=json.dumps(dict(session)), created_at=moment,
                last_seen_at=moment).execution_options(synchronize_session=False))
        return new_id if cast(CursorResult[Any], renewed).rowcount == 1 else None

    def _insert(self, db: Session, session: BrowserSession) -> str:
        new_id = secrets.token_urlsafe(32)
        moment = datetime.now(UTC)
        db.add(WebSession(id_digest=digest(new_id), data=json.dumps(dict(session)),
                          created_at=moment, last_seen_at=moment))
        return new_id

def purge_expired(factory: sessionmaker[Session], settings: Settings) -> int:
    """Delete the sessions past their idle or absolute end, in batches (a worker job)."""
    moment = datetime.now(UTC)
    return delete_in_batches(
        factory, WebSession.id_digest,
        or_(WebSession.last_seen_at < moment - timedelta(minutes=settings.session_idle_minutes),
            WebSession.created_at < moment - timedelta(hours=settings.session_absolute_hours)))


class ServerSessionMiddleware:
    """Puts a `BrowserSession` in `scope["session"]` (what `request.session` reads) and stores it
    when the response starts. Paths under `sessionless` (files anyone may fetch) skip it: a
    page's stylesheet and scripts would otherwise cost a database read each. Paths in
    `read_by_handler` get the session unread: their handler reads it (`read_in`)."""

    def __init__(self, app: ASGIApp, store: SessionStore, secure: bool,
                 sessionless: tuple[str, ...] = (),
                 read_by_handler: Collection[str] = ()) -> None:
        self.app, self.store, self.secure = app, store, secure
        self.sessionless = sessionless
        self.read_by_handler = read_by_handler
        self.form_seed_cookie = SECURE_FORM_SEED_COOKIE if secure else FORM_SEED_COOKIE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"].startswith(
                self.sessionless):
            await self.app(scope, receive, send)
            return
        cookies = HTTPConnection(scope).cookies
        sent_id = cookies.get(COOKIE)
        scope["session"] = BrowserSession({}, None)  # what an error page sees if loading fails
        if scope["path"] in self.read_by_handler:
            session = BrowserSession({}, None, self.store, unread_id=sent_id)
        else:
            content = await on_worker_thread(lambda: self.store.load(sent_id)) if sent_id else None
            session = BrowserSession(content or {}, sent_id if content is not None else None,
                                     self.store)
        seed = cookies.get(self.form_seed_cookie, "")
        session.form_seed = seed if SEED_SHAPE.fullmatch(seed) else None
        scope["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._store(session, sent_id, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _store(self, session: BrowserSession, sent_id: str | None,
                     headers: MutableHeaders) -> None:
        """Store what changed (unless the handler did, `store_in`), and tell the browser the
        id to keep: a new one, or none when the session ended or the id sent was unknown; and
        the anonymous forms' seed when a page made one."""
        kept: str | None = session.unread_id  # its handler never read it: nothing changed
        if not kept:
            if session.changed:
                session.session_id = await on_worker_thread(lambda: self.store.save(session))
            kept = session.session_id
        lifetime = int(self.store.absolute.total_seconds())
        if kept is None:
            if sent_id:
                headers.append("Set-Cookie", self._cookie(COOKIE, "", 0))
        elif kept != sent_id:
            headers.append("Set-Cookie", self._cookie(COOKIE, kept, lifetime))
        if session.form_seed_is_new and session.form_seed:
            headers.append("Set-Cookie",
                           self._cookie(self.form_seed_cookie, session.form_seed, lifetime))

    def _cookie(self, name: str, value: str, max_age: int) -> str:
        # Lax, not strict: a relying party sends the citizen here by a top-level link, and
        # single sign-on needs the session on that navigation. Forms carry CSRF tokens.
        secure = "; Secure" if self.secure else ""
        return f"{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
