"""Operational plumbing: health, readiness, metrics, request ids, OpenAPI, errors as problems."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from civicstack.app import create_app
from civicstack.config import Settings
from tests.support.web import Site


def test_health_and_readiness(site: Site) -> None:
    assert site.client.get("/healthz").json() == {"status": "ok"}
    assert site.client.get("/readyz").json() == {"status": "ready", "database": "ok"}


def test_readiness_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1:9/none",
                              data_dir=tmp_path, log_level="WARNING"))
    response = TestClient(app).get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_metrics_count_requests_by_route_template(site: Site) -> None:
    site.client.get("/healthz")
    site.client.get("/api/v1/registry/persons/001090000001?purpose=whatever")
    metrics = site.client.get("/metrics").text
    assert 'route="/healthz"' in metrics
    assert 'route="/api/v1/registry/persons/{personal_id_number}"' in metrics
    assert "001090000001" not in metrics  # no personal data in metric labels


def test_request_ids_are_echoed_or_generated(site: Site) -> None:
    echoed = site.client.get("/healthz", headers={"x-request-id": "trace-123"})
    generated = site.client.get("/healthz")
    assert echoed.headers["x-request-id"] == "trace-123"
    assert len(generated.headers["x-request-id"]) >= 16


def test_openapi_documents_the_register_api(site: Site) -> None:
    paths = site.client.get("/api/openapi.json").json()["paths"]
    assert "/api/v1/registry/persons/{personal_id_number}" in paths
    assert "/api/v1/registry/events/births" in paths
    assert site.client.get("/api/docs").status_code == 200


def test_unknown_routes_and_crashes_answer_problem_json(site: Site) -> None:
    missing = site.client.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"

    @site.app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    crashed = TestClient(site.app, raise_server_exceptions=False).get("/boom")
    assert crashed.status_code == 500
    assert crashed.headers["content-type"] == "application/problem+json"
    assert "secret internals" not in crashed.text
