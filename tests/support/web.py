"""A real app over the test's database, with a browser-like client and operator keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit import apikeys
from civicstack.kit.db import transaction

CSRF_PATTERN = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    app: FastAPI
    client: TestClient

    def key(self, name: str, scopes: tuple[str, ...] = ("registry:read",),
            provinces: tuple[str, ...] = ()) -> str:
        with transaction(self.app.state.session_factory) as session:
            issued = apikeys.create_key(session, self.app.state.pepper, name, list(scopes),
                                        list(provinces))
        return issued.token

    def csrf(self, path: str = "/console/login") -> str:
        match = CSRF_PATTERN.search(self.client.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, token: str) -> None:
        response = self.client.post("/console/login", follow_redirects=False,
                                    data={"token": token, "csrf_token": self.csrf()})
        assert response.status_code == 303, response.text


def make_site(database_url: str, data_dir: Path) -> Site:
    app = create_app(Settings(database_url=database_url, data_dir=data_dir, log_json=False,
                              log_level="WARNING"))
    return Site(app, TestClient(app))
