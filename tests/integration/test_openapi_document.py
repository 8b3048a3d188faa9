"""The OpenAPI document states, for every route, who may call it and what it answers when it
refuses; /api/docs draws it with files the app serves itself."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from civicstack.app import create_app
from civicstack.config import Settings
from civicstack.kit.errors import PROBLEM_MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
# The operator API's operations that anyone may call: published figures and lists. A new /api
# route is not public by omission: it names its credential, or it is added here on purpose.
PUBLIC_API = {
    ("GET", "/api/v1/wallet/trust-bundle"),
    ("GET", "/api/v1/wallet/integrated-documents"),
    ("GET", "/api/v1/wallet/integrated-documents.csv"),
    ("GET", "/api/v1/services/statistics"),
    ("GET", "/api/v1/services/statistics.csv"),
    ("GET", "/api/v1/services/procedures"),
    ("GET", "/api/v1/services/procedures/{code}"),
}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    data_dir = tmp_path_factory.mktemp("openapi")  # the document needs no database
    return create_app(Settings(database_url=f"sqlite:///{data_dir / 'unused.db'}",
                               data_dir=data_dir, log_json=False, log_level="WARNING"))


@pytest.fixture(scope="module")
def document(app: FastAPI) -> dict[str, Any]:
    found: dict[str, Any] = TestClient(app).get("/api/openapi.json").json()
    return found


def operations(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(METHOD, path) of every route in the document, as the app routes them."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.include_in_schema:
            for method in sorted(context.methods or ()):
                yield method, str(context.path_format)


def test_every_route_states_its_security_and_its_problem_responses(
        app: FastAPI, document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    seen = list(operations(app))
    assert len(seen) >= 60
    for method, path in seen:
        operation = document["paths"][path][method.lower()]
        where = f"{method} {path}"
        assert "security" in operation, where
        named = {name for requirement in operation["security"] for name in requirement}
        assert named <= set(schemes), where
        if path.startswith("/api/"):
            assert bool(named) != ((method, path) in PUBLIC_API), where
        responses = operation["responses"]
        assert "503" in responses, where
        assert ("401" in responses) == bool(named), where
        takes_input = bool(operation.get("parameters")) or "requestBody" in operation
        assert ("422" in responses) == takes_input, where
        for status, response in responses.items():
            if int(status) >= 400:
                content = response["content"]
                assert content, (where, status)
                if path.startswith("/api/"):
                    assert content[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": PROBLEM_REF}, (
                        where, status)


def test_the_document_describes_the_problem_the_app_sends_not_fastapis_default(
        document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "HTTPValidationError" not in text
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}


def test_the_operator_key_is_a_bearer_scheme_the_authorize_button_can_fill(
        document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes["operatorKey"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "csk_<lookup id>_<secret>",
        "description": schemes["operatorKey"]["description"]}
    assert schemes["clientSecretBasic"]["scheme"] == "basic"
    assert {"airlineKey", "touchpointKey", "memberAssertion", "accessToken",
            "credentialAccessToken"} <= set(schemes)
    person = document["paths"]["/api/v1/registry/persons/{personal_id_number}"]["get"]
    assert person["security"] == [{"operatorKey": []}]
    token = document["paths"]["/oidc/token"]["post"]
    assert token["security"] == [{"clientSecretBasic": []}]
    assert token["responses"]["401"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OAuthRefusal"}


def test_api_docs_load_swagger_ui_from_this_site_with_the_pages_nonce(app: FastAPI) -> None:
    client = TestClient(app)
    page = client.get("/api/docs")
    assert page.status_code == 200
    nonce = re.search(r"'nonce-([^']+)'", page.headers["content-security-policy"])
    assert nonce
    sources = re.findall(r'<(?:script src|link rel="stylesheet" href)="([^"]+)"'
                         r' nonce="([^"]+)"', page.text)
    assert len(sources) == 3
    for source, tag_nonce in sources:
        assert source.startswith("/"), source  # this site, no CDN
        assert tag_nonce == nonce.group(1)
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert asset.headers["content-type"].split(";")[0] in {"text/javascript",
                                                                "application/javascript",
                                                                "text/css"}
        assert "set-cookie" not in asset.headers  # files anyone may fetch: no session


def test_swagger_ui_reads_openapi_3_1(app: FastAPI) -> None:
    """Swagger UI 4 shows 'Unable to render this definition' for FastAPI's 3.1 document."""
    bundle = TestClient(app).get("/api/docs/assets/swagger-ui-bundle.js").text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version
    assert int(version.group(1)) >= 5
    assert TestClient(app).get("/api/openapi.json").json()["openapi"].startswith("3.1")
