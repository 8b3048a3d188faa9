"""A small relying party, "Demo Bank", served beside the portal by `make demo` so a newcomer
sees single sign-on work end to end. It is an ordinary OAuth client built on Authlib: PKCE,
state and nonce, the code exchanged over HTTP at the token endpoint, the ID token verified
against the published JWKS, claims read from userinfo, RP-initiated logout, and
Back-Channel Logout: a logout token from the provider ends the bank's sessions for that `sid`.

It keeps its own cookie: the portal starts a fresh session at every sign-in, which must not
wipe the bank's pending state. Who is signed in lives on the bank's side (`BankSessions`), as
a real relying party keeps it, so a logout token posted server to server can end it.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from civicstack.config import Settings
from civicstack.kit.appservices import AppServices
from civicstack.kit.audit import Actor
from civicstack.kit.private_files import private_file
from civicstack.kit.web import render
from civicstack.oidc import clients

MOUNT = "/demo/bank"
CONFIG_FILE = "demo-bank-client.json"
SESSIONS_FILE = "demo-bank-sessions.sqlite3"
SESSION_KEY = "demo-bank-key"  # signs the bank's own session cookie
SCOPE = "openid profile address organisation"
HTTP_TIMEOUT = 10
LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"


@dataclass(frozen=True)
class BankConfig:
    issuer: str
    client_id: str
    client_secret: str

    @property
    def redirect_uri(self) -> str:
        return f"{self.issuer}{MOUNT}/callback"


def register_demo_bank(session: Session, actor: Actor, pepper: str, data_dir: Path,
                       issuer: str) -> Path:
    """Register the bank as a client once and keep its credentials in the data directory."""
    path = data_dir / CONFIG_FILE
    if path.exists():
        return path
    # A relying party has one registered name, shown to citizens in either language: the bank's
    # own (Vietnamese) name, as a real bank's is, not an English gloss left on Vietnamese pages.
    registered = clients.register_client(session, actor, pepper, clients.NewClient(
        name="Ngân hàng Demo", redirect_uris=(f"{issuer}{MOUNT}/callback",),
        scopes=("openid", "profile", "address", "organisation"),
        post_logout_redirect_uris=(f"{issuer}{MOUNT}/",),
        backchannel_logout_uri=f"{issuer}{MOUNT}/backchannel-logout",
        backchannel_logout_session_required=True))
    path.touch(mode=0o600)
    path.write_text(json.dumps({"issuer": issuer, "client_id": registered.client_id,
                                "client_secret": registered.client_secret}))
    return path


def demo_bank_of(services: AppServices) -> ASGIApp:
    """The bank as a sub-application of ours: a stand-in for a relying party's own server."""
    settings = services.settings
    bank = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    bank.state.services = services  # the shared page renderer reads the default language
    return _with_routes(bank, settings,
                        services.secrets.secret(SESSION_KEY))


class BankSessions:
    """The bank's signed-in customers, in its own small database (never the provider's): the
    cookie names a row; a logout token ends the rows of its `sid` (or, without one, its
    `sub`); and each logout token's `jti` is kept until it expires, so none is used twice."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(private_file(self.path), timeout=10)
        db.execute("CREATE TABLE IF NOT EXISTS signed_in (id TEXT PRIMARY KEY, sid TEXT, "
                   "sub TEXT NOT NULL, customer TEXT NOT NULL)")
        db.execute("CREATE TABLE IF NOT EXISTS spent_jti (jti TEXT PRIMARY KEY, "
                   "expires_at INTEGER NOT NULL)")
        return db

    def start(self, customer: dict[str, Any]) -> str:
        handle = secrets.token_urlsafe(24)
        with closing(self._open()) as db, db:
            db.execute("INSERT INTO signed_in VALUES (?, ?, ?, ?)",
                       (handle, customer.get("sid"), customer["sub"], json.dumps(customer)))
        return handle

    def customer(self, handle: str | None) -> dict[str, Any] | None:
        if not handle:
            return None
        with closing(self._open()) as db:
            row = db.execute("SELECT customer FROM signed_in WHERE id = ?", (handle,)).fetchone()
        return json.loads(row[0]) if row else None

    def end(self, handle: str) -> None:
        with closing(self._open()) as db, db:
            db.execute("DELETE FROM signed_in WHERE id = ?", (handle,))

    def end_for(self, sid: str | None, sub: str | None) -> int:
        """End the sessions the logout token names: its sid's (with its sub, if any), else
        every session of its sub."""
        with closing(self._open()) as db, db:
            if sid:
                ended = db.execute("DELETE FROM signed_in WHERE sid = ? AND (? IS NULL OR "
                                   "sub = ?)", (sid, sub, sub))
            else:
                ended = db.execute("DELETE FROM signed_in WHERE sub = ?", (sub,))
            return ended.rowcount

    def spend_jti(self, jti: str, expires_at: int) -> bool:
        """False when this jti was seen before (a replay)."""
        with closing(self._open()) as db, db:
            db.execute("DELETE FROM spent_jti WHERE expires_at < ?", (int(time.time()),))
            spent = db.execute("INSERT OR IGNORE INTO spent_jti VALUES (?, ?)",
                               (jti, expires_at))
            return spent.rowcount == 1


class LogoutTokenRefused(Exception):
    """Why the bank does not act on a logout token (answered 400, section 2.8)."""


def verified_logout_claims(found: BankConfig, token: str, keys: KeySet,
                           sessions: BankSessions) -> dict[str, Any]:
    """Back-Channel Logout 1.0 section 2.6, every step: the signature by a key of the
    provider's JWKS, the explicit type, iss, aud, iat (not in the future) and exp (Authlib's
    joserfc checks both), the logout event, no nonce, a sid or a sub, and a jti never seen
    before."""
    try:
        decoded = jwt.decode(token, keys, algorithms=["ES256", "RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": found.issuer},
                              aud={"essential": True, "value": found.client_id},
                              iat={"essential": True}, exp={"essential": True},
                              jti={"essential": True}).validate(decoded.claims)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise LogoutTokenRefused(f"not a valid token from the provider: {exc}") from None
    claims = dict(decoded.claims)
    if decoded.header.get("typ") != "logout+jwt":
        raise LogoutTokenRefused("not a logout token (typ)")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise LogoutTokenRefused("no back-channel logout event")
    if "nonce" in claims:
        raise LogoutTokenRefused("a logout token never carries a nonce")
    if not (claims.get("sid") or claims.get("sub")):
        raise LogoutTokenRefused("names neither a session (sid) nor a subject (sub)")
    if not sessions.spend_jti(str(claims["jti"]), int(claims["exp"])):
        raise LogoutTokenRefused("this logout token was already used")
    return claims


def _with_routes(bank: FastAPI, settings: Settings, session_secret: str) -> ASGIApp:
    data_dir = settings.data_dir
    sessions = BankSessions(data_dir / SESSIONS_FILE)
    bank.add_middleware(SessionMiddleware, secret_key=session_secret,
                        session_cookie="demo_bank", path=MOUNT, same_site="lax")

    def config() -> BankConfig | None:
        path = data_dir / CONFIG_FILE
        return BankConfig(**json.loads(path.read_text())) if path.exists() else None

    def client(found: BankConfig) -> OAuth2Session:
        return OAuth2Session(found.client_id, found.client_secret, scope=SCOPE,
                             redirect_uri=found.redirect_uri, code_challenge_method="S256",
                             token_endpoint=f"{found.issuer}/oidc/token")

    @bank.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        return render(request, "demo/bank.html", {
            "configured": config() is not None,
            "customer": sessions.customer(request.session.get("signed_in")),
            "cancelled": request.session.pop("cancelled", False),
            "error": request.session.pop("error", None)})

    @bank.get("/login")
    def login(request: Request) -> Response:
        found = config()
        if found is None:
            return RedirectResponse(f"{MOUNT}/", status_code=303)
        verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
        url, state = client(found).create_authorization_url(
            f"{found.issuer}/oidc/authorize", code_verifier=verifier, nonce=nonce)
        request.session["pending"] = {"state": state, "verifier": verifier, "nonce": nonce}
        return RedirectResponse(url, status_code=303)

    @bank.get("/callback")
    def callback(request: Request) -> Response:
        found, pending = config(), request.session.pop("pending", None)
        if found is None or pending is None:
            return RedirectResponse(f"{MOUNT}/", status_code=303)
        answer = request.query_params
        if "error" in answer:  # RFC 6749 4.1.2.1: no code came, so there is none to exchange
            request.session.update(_refusal(answer.get("error", ""),
                                            answer.get("error_description", ""),
                                            answer.get("state") == pending["state"]))
            return RedirectResponse(f"{MOUNT}/", status_code=303)
        try:
            request.session["signed_in"] = sessions.start(
                _sign_in(found, client(found), pending, str(request.url)))
        # A refusal at the token endpoint raises Authlib's integrations' OAuthError: an
        # AuthlibBaseError, not an OAuth2Error.
        except (AuthlibBaseError, JoseError, ValueError, requests.RequestException) as exc:
            request.session["error"] = str(exc)[:300]
        return RedirectResponse(f"{MOUNT}/", status_code=303)

    @bank.post("/logout")
    def logout(request: Request) -> Response:
        handle = request.session.pop("signed_in", None)
        found, customer = config(), sessions.customer(handle)
        if found is None or customer is None:
            return RedirectResponse(f"{MOUNT}/", status_code=303)
        sessions.end(handle)
        query = urlencode({"id_token_hint": customer["id_token"],
                           "post_logout_redirect_uri": f"{found.issuer}{MOUNT}/",
                           "state": secrets.token_urlsafe(8)})
        return RedirectResponse(f"{found.issuer}/oidc/logout?{query}", status_code=303)

    @bank.post("/backchannel-logout")
    def backchannel_logout(logout_token: Annotated[str, Form()] = "") -> Response:
        """The provider, server to server: this citizen's session there ended."""
        found = config()
        if found is None:
            return _logout_refusal("the bank is not registered with a provider")
        try:
            keys = KeySet.import_key_set(requests.get(f"{found.issuer}/oidc/jwks",
                                                      timeout=HTTP_TIMEOUT).json())
            claims = verified_logout_claims(found, logout_token, keys, sessions)
        except (LogoutTokenRefused, requests.RequestException, ValueError) as exc:
            return _logout_refusal(str(exc))
        sessions.end_for(claims.get("sid"), claims.get("sub"))
        return Response(status_code=200, headers={"Cache-Control": "no-store"})

    async def in_its_own_scope(scope: Scope, receive: Receive, send: Send) -> None:
        # A Starlette mount shares the portal's scope dict: without this copy the bank's
        # session would replace the portal's in scope["session"], and the portal's middleware
        # would then write the bank's data into the citizen's portal cookie, signing them out.
        await bank(dict(scope), receive, send)

    return in_its_own_scope


def _logout_refusal(reason: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "error_description": reason[:300]},
                        status_code=400, headers={"Cache-Control": "no-store"})


def _refusal(error: str, description: str, state_matches: bool) -> dict[str, Any]:
    """What the bank's page says when the provider answered with an error instead of a code.
    An answer without the state of the bank's own request may come from anyone's link, so
    its words are not repeated."""
    if not state_matches:
        return {"error": "the answer does not belong to the sign-in the bank started"}
    if error == "access_denied":  # the citizen pressed "Deny"
        return {"cancelled": True}
    return {"error": f"{error}: {description}"[:300]}


def _sign_in(found: BankConfig, rp: OAuth2Session, pending: dict[str, str],
             callback_url: str) -> dict[str, Any]:
    token = rp.fetch_token(authorization_response=callback_url, state=pending["state"],
                           code_verifier=pending["verifier"], timeout=HTTP_TIMEOUT)
    jwks = requests.get(f"{found.issuer}/oidc/jwks", timeout=HTTP_TIMEOUT).json()
    claims = jwt.decode(token["id_token"], KeySet.import_key_set(jwks),
                        algorithms=["ES256", "RS256"]).claims
    jwt.JWTClaimsRegistry(iss={"essential": True, "value": found.issuer},
                          aud={"essential": True, "value": found.client_id},
                          nonce={"essential": True, "value": pending["nonce"]},
                          exp={"essential": True}).validate(claims)
    info = rp.get(f"{found.issuer}/oidc/userinfo", timeout=HTTP_TIMEOUT).json()
    # The organisation comes from the signed ID token: what the bank acts on is what the
    # provider signed, not a later answer.
    return {"name": info.get("name"), "birthdate": info.get("birthdate"),
            "address": (info.get("address") or {}).get("formatted"), "sub": claims["sub"],
            "acr": claims.get("acr"), "sid": claims.get("sid"), "id_token": token["id_token"],
            "organisation": claims.get("organisation")}
