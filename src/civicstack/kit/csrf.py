"""CSRF tokens: what a browser's unsafe request must carry, and what a page's forms carry.

A visitor with a session (signed in, or midway through a sign-in) has a random token kept in
the session on the server. A visitor without one (at the sign-in, registration and recovery
forms) gets a signed double-submit token instead, so that showing those forms writes nothing
and submitting them reads nothing: the browser keeps a random seed in an HttpOnly cookie
(`__Host-` prefixed over HTTPS, so no other host can plant one; kit/websession.py sets it) and
the form carries HMAC(site key, seed). Another site can make the browser send the cookie, not
read the page's token, and a token is worth nothing with another browser's seed. Neither kind
stands in for the other: once a visitor has a session, only the session's token counts.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TypeGuard

from starlette.requests import Request

from civicstack.kit import keys
from civicstack.kit.appservices import services_of
from civicstack.kit.b64 import b64url_encode
from civicstack.kit.websession import BrowserSession

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
KEY = "csrf-form-key"
keys.declare_secret(KEY)


def form_token(request: Request) -> str:
    """The token this page's forms carry: the session's (made now if it has none), or the
    signed one of a visitor without a session."""
    session = request.session
    stored = session.get(FIELD)
    if stored:
        return str(stored)
    if _without_session(session):
        return _signed(request, session.form_seed_for_page())
    token = secrets.token_urlsafe(32)
    session[FIELD] = token
    return token


def accepts(request: Request, submitted: str) -> bool:
    """Whether `submitted` is the token this browser was given, compared in constant time."""
    session = request.session
    if _without_session(session):
        seed = session.form_seed
        expected = _signed(request, seed) if seed else ""
    else:
        expected = str(session.get(FIELD, ""))
    return bool(expected) and hmac.compare_digest(expected, submitted)


def _without_session(session: object) -> TypeGuard[BrowserSession]:
    """A visitor the server keeps nothing for: no live session was sent, nothing is stored yet
    (and the session store is reachable: a page rendered while loading failed keeps the old
    way, a token that is never stored)."""
    return (isinstance(session, BrowserSession) and session.store is not None
            and session.session_id is None and not session)


def _signed(request: Request, seed: str) -> str:
    key = services_of(request.app).secrets.secret(KEY).encode()
    return b64url_encode(hmac.new(key, seed.encode(), hashlib.sha256).digest())
