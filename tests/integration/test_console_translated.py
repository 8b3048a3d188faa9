"""Issues 21 and 19: every console page, read in Vietnamese by an official of each role, and every
portal page, read by a visitor and by a signed-in citizen, holds no English sentence the
catalogue translates, and no English refusal.

The pages are the app's GET routes as it lists them (nothing to keep up to date by hand); each
role sees each console page, so the refusal pages are read too."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from civicstack.kit.authz import Role
from tests.integration.test_identity_web import approved_and_signed_in
from tests.support.people import Person
from tests.support.untranslated import english_left
from tests.support.web import Site

# The parts of the site that are not pages for people: the JSON API, the single sign-on and
# key endpoints, and the probes.
NOT_PAGES = ("/api/", "/oidc/", "/.well-known/", "/exchange/jwks", "/healthz", "/readyz",
             "/metrics")


def pages(site: Site) -> list[str]:
    return sorted({
        str(context.path) for context in iter_route_contexts(site.app.routes)
        if context.path and "{" not in context.path and "GET" in (context.methods or set())})


def console_pages(site: Site) -> list[str]:
    return [path for path in pages(site) if path.startswith("/console")
            and path not in ("/console/login", "/console/login/code")]


def portal_pages(site: Site) -> list[str]:
    return [path for path in pages(site)
            if not path.startswith(("/console", *NOT_PAGES))]


def english_on(site: Site, paths: list[str]) -> dict[str, list[str]]:
    """The English left on each page, read in Vietnamese (downloads, CSV or PDF, skipped)."""
    site.client.cookies.set("lang", "vi")
    untranslated: dict[str, list[str]] = {}
    for path in paths:
        response = site.client.get(path, headers={"Accept": "text/html"})
        if not response.headers["content-type"].startswith("text/html"):
            continue
        left = english_left(response.text)
        if left:
            untranslated[path] = left
    return untranslated


@pytest.mark.parametrize("role", list(Role))
def test_console_pages_in_vietnamese_keep_no_english_sentence(site: Site, role: Role) -> None:
    site.sign_in_as(role)
    assert english_on(site, console_pages(site)) == {}


def test_portal_pages_in_vietnamese_keep_no_english_sentence(site: Site, an: Person) -> None:
    assert english_on(site, portal_pages(site)) == {}  # a visitor's
    approved_and_signed_in(site, an)
    assert english_on(site, portal_pages(site)) == {}  # a citizen's
