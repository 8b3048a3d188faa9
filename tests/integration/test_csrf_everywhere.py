"""Every unsafe request to a browser page is refused without the session's CSRF token. The
routes are enumerated from the app itself, so a page added later is covered without a word."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute, iter_route_contexts

from civicstack.kit.authz import Role
from tests.support.web import Site

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints for programs, not browsers: each authenticates its caller itself, and another
# site cannot make a browser send their credentials (a client secret, a wallet's proof, a
# device key). OAuth and OpenID4VC define them; none reads the session cookie.
PROGRAM_ENDPOINTS = {
    "/oidc/token", "/oidc/revoke", "/oidc/introspect", "/oidc/par", "/oidc/userinfo",
    "/wallet/oid4vp/response", "/wallet/oid4vci/token", "/wallet/oid4vci/credential",
    "/wallet/oid4vci/nonce",
}


def browser_routes(site: Site) -> list[tuple[str, str]]:
    routes = []
    for route in iter_route_contexts(site.app.routes):
        if not isinstance(route.original_route, APIRoute) or route.include_in_schema:
            continue
        if route.path in PROGRAM_ENDPOINTS:
            continue
        routes.extend((method, str(route.path)) for method in sorted((route.methods or set())
                                                                      & UNSAFE))
    return routes


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_unsafe_browser_route_refuses_a_request_without_the_token(site: Site) -> None:
    site.sign_in_as(Role.ADMIN)  # signed in, so only the missing token can explain a refusal
    routes = browser_routes(site)
    assert len(routes) > 80
    allowed = []
    for method, path in routes:
        response = site.client.request(method, concrete(path), data={"x": "1"},
                                       follow_redirects=False)
        if response.status_code != 403:
            allowed.append(f"{method} {path}: {response.status_code}")
    assert allowed == [], "\n".join(allowed)


def test_a_wrong_token_is_refused_like_a_missing_one(site: Site) -> None:
    site.sign_in_as(Role.ADMIN)
    response = site.client.post("/console/officials", data={"csrf_token": "forged"})
    assert response.status_code == 403
