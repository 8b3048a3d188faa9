"""Operational plumbing: health, readiness, metrics, request ids, OpenAPI, errors as problems."""

from __future__ import annotations

import re
import socket
import sys
from datetime import date
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit.db import transaction
from tests.support.api import BASE, PURPOSE, assert_problem, bearer
from tests.support.people import make_person
from tests.support.web import Site, make_site

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def http_requests(client: TestClient) -> dict[tuple[str, str, str], float]:
    """civicstack_http_requests_total by (method, route, status), as /metrics reports it."""
    scraped = client.get("/metrics")
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    counts: dict[tuple[str, str, str], float] = {}
    for family in text_string_to_metric_families(scraped.text):
        if family.name == "civicstack_http_requests":
            for sample in family.samples:
                if sample.name == "civicstack_http_requests_total":
                    labels = sample.labels
                    counts[labels["method"], labels["route"], labels["status"]] = sample.value
    return counts


def person_reads(client: TestClient) -> float:
    for family in text_string_to_metric_families(client.get("/metrics").text):
        for sample in family.samples:
            if (sample.name == "civicstack_registry_person_reads_total"
                    and sample.labels["action"] == "registry.person.read"):
                return sample.value
    return 0.0


# --- health and readiness ---------------------------------------------------------------

def test_health_and_readiness(site: Site) -> None:
    health = site.client.get("/healthz")
    ready = site.client.get("/readyz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "database": "ok"})


@pytest.mark.parametrize("unreachable", [
    "sqlite:///{tmp}/no/such/directory/civicstack.db",
    "postgresql://nobody@127.0.0.1:{port}/none",
], ids=["sqlite-in-missing-directory", "postgresql-closed-port"])
def test_readiness_is_503_when_the_database_is_unreachable(
        tmp_path: Path, unreachable: str) -> None:
    url = unreachable.format(tmp=tmp_path, port=closed_port())
    app = create_app(Settings(database_url=url, data_dir=tmp_path / "data",
                              log_level="WARNING", log_json=False,
                              db_connect_retry_s=0))  # the answer is checked, not the retries
    client = TestClient(app)

    ready = client.get("/readyz")

    problem = assert_problem(ready, 503)
    assert problem["database"] == "OperationalError"
    assert str(tmp_path) not in ready.text
    assert "nobody" not in ready.text  # the database URL is not given away
    assert client.get("/healthz").status_code == 200  # the process itself is alive


# --- metrics ----------------------------------------------------------------------------

def test_metrics_count_each_request_by_route_template(site: Site) -> None:
    before = http_requests(site.client)
    site.client.get("/healthz")
    site.client.get("/healthz")
    site.client.get(f"{BASE}/persons/001090000001", params={"purpose": PURPOSE})
    after = http_requests(site.client)

    def delta(key: tuple[str, str, str]) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert delta(("GET", "/healthz", "200")) == 2
    assert delta(("GET", f"{BASE}/persons/{{personal_id_number}}", "401")) == 1
    assert delta(("GET", "/metrics", "200")) == 1  # the first scrape
    assert not any("001090000001" in route for _, route, _ in after)  # no personal data


@pytest.mark.parametrize(("path", "label"), [
    ("/no/such/page", "unmatched"),
    ("/wp-admin/setup.php", "unmatched"),
    ("/static/css/no-such.css", "/static/{path}"),
    ("/static/deep/x/y/z/w", "/static/{path}"),
    # a parameter whose value equals a fixed segment of its own route
    (f"{BASE}/persons/registry", f"{BASE}/persons/{{personal_id_number}}"),
    (f"{BASE}/persons/persons/history", f"{BASE}/persons/{{personal_id_number}}/history"),
])
def test_metric_labels_are_route_templates_never_raw_paths(
        site: Site, path: str, label: str) -> None:
    """Scanners probing random paths must not create a series per path."""
    before = http_requests(site.client)
    site.client.get(path, params={"purpose": PURPOSE})
    after = http_requests(site.client)

    grown = {key for key, value in after.items()
             if value > before.get(key, 0.0) and key[1] != "/metrics"}
    assert {route for _, route, _ in grown} == {label}


def test_audited_reads_are_counted(site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        person = make_person(session, "Trần Thị Mai", date(1999, 9, 9))
    before = person_reads(site.client)
    response = site.client.get(f"{BASE}/persons/{person.personal_id_number}",
                               params={"purpose": PURPOSE}, headers=bearer(site.key("reader")))
    assert response.status_code == 200
    assert person_reads(site.client) == before + 1


# --- request ids ------------------------------------------------------------------------

def test_a_well_formed_request_id_is_echoed(site: Site) -> None:
    response = site.client.get("/healthz", headers={"x-request-id": "trace-123.abc_XYZ"})
    assert response.headers["x-request-id"] == "trace-123.abc_XYZ"


def test_a_request_id_is_generated_when_absent_and_differs_per_request(site: Site) -> None:
    first = site.client.get("/healthz").headers["x-request-id"]
    second = site.client.get("/healthz").headers["x-request-id"]
    assert GENERATED_ID.match(first)
    assert GENERATED_ID.match(second)
    assert first != second


@pytest.mark.parametrize("incoming", ["short", "x" * 65, "has spaces in it", "<script>x</script>",
                                      "id;rm -rf /", "ünïcødé-id"])
def test_a_malformed_request_id_is_replaced(site: Site, incoming: str) -> None:
    response = site.client.get("/healthz", headers={"x-request-id": incoming.encode()})
    assert response.status_code == 200
    assert GENERATED_ID.match(response.headers["x-request-id"])


def test_refusals_carry_the_request_id_too(site: Site) -> None:
    response = site.client.get(f"{BASE}/persons/001090000001", params={"purpose": PURPOSE},
                               headers={"x-request-id": "refused-req-1"})
    assert_problem(response, 401)
    assert response.headers["x-request-id"] == "refused-req-1"


# --- OpenAPI ----------------------------------------------------------------------------

def test_openapi_documents_the_register_api(site: Site) -> None:
    spec = site.client.get("/api/openapi.json")
    assert spec.status_code == 200
    paths = spec.json()["paths"]
    assert {path for path in paths if path.startswith(BASE)} == {
        f"{BASE}/persons", f"{BASE}/persons/{{personal_id_number}}",
        f"{BASE}/persons/{{personal_id_number}}/history",
        f"{BASE}/persons/{{personal_id_number}}/id-card-endings", f"{BASE}/events/births",
        f"{BASE}/events/marriages", f"{BASE}/events/divorces", f"{BASE}/events/deaths",
        f"{BASE}/events/residence-changes"}
    assert set(paths[f"{BASE}/persons"]) == {"get", "post"}
    parameters = {p["name"]: p for p in paths[f"{BASE}/persons/{{personal_id_number}}"]["get"][
        "parameters"]}
    assert parameters["purpose"]["required"] is True
    assert "/metrics" not in paths
    docs = site.client.get("/api/docs")
    assert docs.status_code == 200
    assert "/api/openapi.json" in docs.text


# --- errors -----------------------------------------------------------------------------

def test_an_unknown_route_is_a_404_problem(site: Site) -> None:
    problem = assert_problem(site.client.get("/no/such/page"), 404)
    assert problem["instance"] == "/no/such/page"
    assert problem["type"].endswith("/http-404")


def test_a_wrong_method_is_a_405_problem_that_names_the_allowed_ones(site: Site) -> None:
    response = site.client.delete("/healthz")
    assert_problem(response, 405)
    assert response.headers["allow"] == "GET"


def test_a_crash_is_a_500_problem_without_internals_but_logged_with_its_request_id(
        database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = make_site(database_url, tmp_path / "data")  # logging now writes to captured stderr
    try:
        _crash_and_check(site, capsys)
    finally:  # capsys's stream closes after this test; later log lines must not go there
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.__stderr__))


def _crash_and_check(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    @site.app.get("/boom")
    def boom() -> None:
        secret = "001090000001 belongs to Nguyễn Văn An"
        raise RuntimeError(f"secret internals: {secret}")

    client = TestClient(site.app, raise_server_exceptions=False)
    crashed = client.get("/boom", headers={"x-request-id": "crash-4711-abc"})

    problem = assert_problem(crashed, 500)
    assert problem["type"].endswith("/internal")
    for leak in ("secret internals", "001090000001", "Traceback", "RuntimeError", "boom()"):
        assert leak not in crashed.text
    assert crashed.headers["x-request-id"] == "crash-4711-abc"
    logged = capsys.readouterr().err
    assert "unhandled_error" in logged
    assert "crash-4711-abc" in logged
    assert "RuntimeError: secret internals" in logged  # the operator still gets the traceback
    assert client.get("/healthz").status_code == 200  # and the app keeps serving
