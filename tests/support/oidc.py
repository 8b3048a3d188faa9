"""A real provider over HTTP, citizens driving it like a browser, and relying parties built on
Authlib's own OAuth client (an independent implementation of the protocol)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import uvicorn
from authlib.integrations.requests_client import OAuth2Session
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy.orm import Session, sessionmaker

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.identity.photos import PHOTO_VAULT
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.throwaway_pg import free_port
from civicstack.oidc import clients
from civicstack.registry.models import Person
from tests.support.eid import PASSWORD, make_active_account

RP_REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the test reads the redirect
RP_LOGOUT = "http://127.0.0.1:9/signed-out"
POLICE = Actor("official", "hanoi-police", Scope.province("01"), Role.POLICE)
ADMIN = Actor("official", "sso-admin", NATIONAL, Role.ADMIN)  # registers relying parties
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')


@dataclass
class LiveProvider:
    base: str
    app: FastAPI
    data_dir: Path

    @property
    def factory(self) -> sessionmaker[Session]:
        found: sessionmaker[Session] = services_of(self.app).session_factory
        return found

    def url(self, name: str) -> str:
        return f"{self.base}/oidc/{name}"

    def register_client(self, **changes: Any) -> clients.RegisteredClient:
        values: dict[str, Any] = {
            "name": "Ngân hàng Demo", "redirect_uris": (RP_REDIRECT,),
            "scopes": ("openid", "profile", "address", "offline_access"),
            "post_logout_redirect_uris": (RP_LOGOUT,), **changes}
        with transaction(self.factory) as session:
            return clients.register_client(session, ADMIN, services_of(self.app).pepper,
                                           clients.NewClient(**values))

    def jwks(self) -> KeySet:
        return KeySet.import_key_set(httpx.get(self.url("jwks")).json())

    def verify_id_token(self, token: str, client_id: str) -> dict[str, Any]:
        decoded = jwt.decode(token, self.jwks(), algorithms=["ES256", "RS256"])
        jwt.JWTClaimsRegistry(iss={"essential": True, "value": self.base},
                              aud={"essential": True, "value": client_id},
                              exp={"essential": True}).validate(decoded.claims)
        return dict(decoded.claims)

    def active_account(self, person: Person) -> None:
        """Register, prove the phone and have an official approve, all through the services."""
        make_active_account(self.factory, services_of(self.app).pepper, person,
                            self.data_dir / "test-mailbox", POLICE,
                            services_of(self.app)[PHOTO_VAULT])


@contextmanager
def live_provider(database_url: str, data_dir: Path,
                  demo_relying_party: bool = False) -> Iterator[LiveProvider]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(Settings(database_url=database_url, data_dir=data_dir, public_url=base,
                              log_level="WARNING", demo_relying_party=demo_relying_party))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield LiveProvider(base, app, data_dir)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Citizen:
    """A browser: keeps cookies, submits forms with their CSRF token, follows redirects on the
    provider's own site and stops at the first one leaving it."""

    def __init__(self, provider: LiveProvider) -> None:
        self.provider = provider
        self.http = httpx.Client(base_url=provider.base, follow_redirects=False, timeout=30)

    def form_token(self, page: httpx.Response) -> str:
        found = CSRF.search(page.text)
        assert found, f"no form on {page.url}: {page.status_code} {page.text[:300]}"
        return found.group(1)

    def sign_in(self, person: Person, password: str = PASSWORD) -> httpx.Response:
        page = self.http.get("/account/login")
        return self.http.post("/account/login", data={
            "personal_id_number": person.personal_id_number, "password": password,
            "csrf_token": self.form_token(page)})

    def visit(self, url: str, person: Person | None = None) -> httpx.Response:
        """GET `url` and follow our redirects, signing in when the login page asks."""
        response = self.http.get(url)
        for _ in range(10):
            location = response.headers.get("location")
            if response.status_code not in (302, 303) or location is None:
                return response
            target = urljoin(str(response.url), location)
            if not target.startswith(self.provider.base):
                return response  # leaving for the relying party
            if urlsplit(target).path == "/account/login" and person is not None:
                response = self._sign_in_for(target, person)
                continue
            response = self.http.get(target)
        raise AssertionError("redirect loop")

    def _sign_in_for(self, login_url: str, person: Person) -> httpx.Response:
        page = self.http.get(login_url)
        next_value = parse_qs(urlsplit(login_url).query).get("next", [""])[0]
        return self.http.post(login_url, data={
            "personal_id_number": person.personal_id_number, "password": PASSWORD,
            "next": next_value, "csrf_token": self.form_token(page)})

    def consent(self, page: httpx.Response, decision: str = "allow",
                organisation: str = "") -> httpx.Response:
        """Answer the consent page; `organisation`: the tax code chosen to act for."""
        pending = PENDING.search(page.text)
        assert pending, f"not a consent page: {page.status_code} {page.text[:300]}"
        response = self.http.post("/oidc/consent", data={
            "pending": pending.group(1), "decision": decision, "organisation": organisation,
            "csrf_token": self.form_token(page)})
        return self.visit(response.headers["location"]) if \
            response.headers.get("location", "").startswith("/") else response


def relying_party(provider: LiveProvider, registered: clients.RegisteredClient,
                  scope: str = "openid profile address offline_access",
                  **options: Any) -> OAuth2Session:
    return OAuth2Session(registered.client_id, registered.client_secret, scope=scope,
                         redirect_uri=RP_REDIRECT, code_challenge_method="S256",
                         token_endpoint=provider.url("token"), **options)


def redirect_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code in (302, 303), f"{response.status_code}: {response.text[:300]}"
    location = response.headers["location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
