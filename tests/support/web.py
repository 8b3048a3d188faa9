"""A real app over the test's database, with a browser-like client, operator keys for the JSON
API, and officials (with their authenticator) for the console."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.identity.models import OfficialAccount
from civicstack.kit import apikeys
from civicstack.kit.appservices import AppServices, services_of
from civicstack.kit.authz import NATIONAL, Role, Scope
from civicstack.kit.db import transaction
from tests.support.eid import code_for
from tests.support.officials import OFFICIAL_PASSWORD, Official, make_official

CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    app: FastAPI
    client: TestClient

    @property
    def services(self) -> AppServices:
        return services_of(self.app)

    def key(self, name: str, role: Role = Role.AGENCY_APPROVER, scope: Scope = NATIONAL) -> str:
        with transaction(services_of(self.app).session_factory) as session:
            issued = apikeys.create_key(session, services_of(self.app).pepper, name, role, scope)
        return issued.token

    def new_official(self, role: Role = Role.AGENCY_APPROVER, scope: Scope = NATIONAL,
                     username: str | None = None, enrolled: bool = True) -> Official:
        return make_official(self.services.session_factory, self.services.totp_key,
                             role, scope, username, enrolled)

    def official_row(self, username: str) -> OfficialAccount:
        with transaction(services_of(self.app).session_factory) as session:
            official = session.query(OfficialAccount).filter_by(username=username).one()
            session.expunge(official)
            return official

    def csrf(self, path: str = "/console/login") -> str:
        match = CSRF_PATTERN.search(self.client.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def enter_password(self, username: str, password: str = OFFICIAL_PASSWORD) -> int:
        response = self.client.post("/console/login", follow_redirects=False, data={
            "username": username, "password": password, "csrf_token": self.csrf()})
        return response.status_code

    def enter_code(self, code: str) -> int:
        response = self.client.post("/console/login/code", follow_redirects=False, data={
            "code": code, "csrf_token": self.csrf("/console/login/code")})
        return response.status_code

    def sign_in(self, official: Official) -> None:
        assert self.enter_password(official.username, official.password) == 303
        assert self.enter_code(code_for(official.secret, 1)) == 303

    def sign_in_as(self, role: Role = Role.AGENCY_APPROVER, scope: Scope = NATIONAL) -> Official:
        """A new official with this role and scope, signed in to the console."""
        official = self.new_official(role, scope)
        self.sign_in(official)
        return official


def make_site(database_url: str, data_dir: Path) -> Site:
    app = create_app(Settings(database_url=database_url, data_dir=data_dir, log_json=False,
                              log_level="WARNING"))
    return Site(app, TestClient(app))
