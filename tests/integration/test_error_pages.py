"""A browser gets an error as a page in the site's layout and its language, with a way back;
a program gets RFC 9457 problem+json; an unreachable database is a 503 to retry, never a 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit.authz import Role, Scope
from tests.support.web import Site

BROWSER = {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
PAGES = [  # (method, path, status, Vietnamese heading, English heading)
    ("GET", "/no/such/page", 404, "Không tìm thấy trang", "Page not found"),
    ("DELETE", "/services", 405, "Không thể dùng trang này theo cách này",
     "This page cannot be used this way"),
]


@pytest.mark.parametrize(("method", "path", "status", "vietnamese", "english"), PAGES)
def test_a_browser_gets_the_error_as_a_page_in_its_language(
        site: Site, method: str, path: str, status: int, vietnamese: str, english: str) -> None:
    for lang, heading in (("vi", vietnamese), ("en", english)):
        response = site.client.request(method, f"{path}?lang={lang}", headers=BROWSER)
        assert response.status_code == status
        assert response.headers["content-type"].startswith("text/html")
        assert f'<html lang="{lang}">' in response.text
        assert heading in response.text
        assert 'class="site-header"' in response.text  # the site's own layout
        assert 'href="/"' in response.text  # a way back


def test_a_program_gets_the_same_errors_as_problem_json(site: Site) -> None:
    for method, path, status, *_ in PAGES:
        response = site.client.request(method, path, headers={"accept": "application/json"})
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == status


def test_an_api_path_is_answered_as_a_problem_even_to_a_browser(site: Site) -> None:
    response = site.client.get("/api/v1/no-such-thing", headers=BROWSER)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_forbidden_console_page_is_shown_in_the_console_layout(site: Site) -> None:
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    response = site.client.post("/console/accounts/001090000001/approve?lang=en",
                                headers=BROWSER, data={"reason": "x"})  # no CSRF token
    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert "Officials&#39; console" in response.text or "Officials' console" in response.text
    assert 'href="/console"' in response.text  # back to the official's own work


def test_the_console_front_door_sends_each_role_to_its_work(site: Site) -> None:
    site.sign_in_as(Role.SUPPORT_AGENT, Scope.province("01"))
    landing = site.client.get("/console", follow_redirects=False)
    assert (landing.status_code, landing.headers["location"]) == (303, "/console/support")


def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path: Path) -> None:
    # A PostgreSQL URL where nothing listens: every request that needs the database fails.
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:9/none",
                              data_dir=tmp_path / "data", log_json=False, log_level="CRITICAL",
                              db_connect_retry_s=0))  # the answer is checked, not the retries
    client = TestClient(app, raise_server_exceptions=False)
    client.cookies.set("civicstack_session", "x" * 43)  # loading the session needs the database
    for accept, media_type in ((BROWSER["accept"], "text/html"),
                               ("application/json", "application/problem+json")):
        response = client.get("/account?lang=en", headers={"accept": accept})
        assert response.status_code == 503
        assert response.headers["retry-after"] == "30"
        assert response.headers["content-type"].startswith(media_type)
    api = client.get("/api/v1/registry/persons/001090000001", headers={
        "authorization": "Bearer csk_x"})
    assert api.status_code == 503
