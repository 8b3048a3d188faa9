"""A small relying party, "Demo Bank", served beside the portal by `make demo` so a newcomer
sees single sign-on work end to end. It is an ordinary OAuth client built on Authlib: PKCE,
state and nonce, the code exchanged over HTTP at the token endpoint, the ID token verified
against the published JWKS, claims read from userinfo, and RP-initiated logout.

It keeps its own cookie: the portal starts a fresh session at every sign-in, which must not
wipe the bank's pending state.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from civicstack.config import Settings
from civicstack.kit.appservices import AppServices
from civicstack.kit.audit import Actor
from civicstack.kit.web import render
from civicstack.oidc import clients

MOUNT = "/demo/bank"
CONFIG_FILE = "demo-bank-client.json"
SESSION_KEY = "demo-bank-key"  # signs the bank's own session cookie
SCOPE = "openid profile address"
HTTP_TIMEOUT = 10


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
    registered = clients.register_client(session, actor, pepper, clients.NewClient(
        name="Ngân hàng Demo (Demo Bank)", redirect_uris=(f"{issuer}{MOUNT}/callback",),
        scopes=("openid", "profile", "address"),
        post_logout_redirect_uris=(f"{issuer}{MOUNT}/",)))
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


def _with_routes(bank: FastAPI, settings: Settings, session_secret: str) -> ASGIApp:
    data_dir = settings.data_dir
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
            "configured": config() is not None, "customer": request.session.get("customer"),
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
            request.session["customer"] = _sign_in(found, client(found), pending,
                                                   str(request.url))
        # A refusal at the token endpoint raises Authlib's integrations' OAuthError: an
        # AuthlibBaseError, not an OAuth2Error.
        except (AuthlibBaseError, JoseError, ValueError, requests.RequestException) as exc:
            request.session["error"] = str(exc)[:300]
        return RedirectResponse(f"{MOUNT}/", status_code=303)

    @bank.post("/logout")
    def logout(request: Request) -> Response:
        found, customer = config(), request.session.pop("customer", None)
        if found is None or customer is None:
            return RedirectResponse(f"{MOUNT}/", status_code=303)
        query = urlencode({"id_token_hint": customer["id_token"],
                           "post_logout_redirect_uri": f"{found.issuer}{MOUNT}/",
                           "state": secrets.token_urlsafe(8)})
        return RedirectResponse(f"{found.issuer}/oidc/logout?{query}", status_code=303)

    async def in_its_own_scope(scope: Scope, receive: Receive, send: Send) -> None:
        # A Starlette mount shares the portal's scope dict: without this copy the bank's
        # session would replace the portal's in scope["session"], and the portal's middleware
        # would then write the bank's data into the citizen's portal cookie, signing them out.
        await bank(dict(scope), receive, send)

    return in_its_own_scope


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
    return {"name": info.get("name"), "birthdate": info.get("birthdate"),
            "address": (info.get("address") or {}).get("formatted"), "sub": claims["sub"],
            "acr": claims.get("acr"), "id_token": token["id_token"]}
