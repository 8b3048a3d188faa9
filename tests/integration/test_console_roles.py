"""Issue 21: each official lands on their own work, the console's header lists only what their
role may use and marks the page shown, and a refusal leads back to their work."""

from __future__ import annotations

import re

import pytest

from civicstack.kit.authz import Role
from tests.support.web import Site

HEADER_LINKS = re.compile(r'<nav class="console-nav".*?</nav>', re.S)
LINK = re.compile(r'<a href="([^"]+)"( aria-current="page")?>')
HTML = {"Accept": "text/html"}
LANDINGS = {
    Role.ADMIN: "/console/officials",
    Role.POLICE: "/console/accounts",
    Role.SERVICE_CLERK: "/console/dossiers",
    Role.AGENCY_APPROVER: "/console/dossiers",
    Role.SUPPORT_AGENT: "/console/support",
    Role.PROGRAMME_OFFICER: "/console/monitoring",
    Role.TRAVEL_OFFICER: "/console/travel",
}


def header_links(page: str) -> list[tuple[str, bool]]:
    """The console header's links, each with whether it is marked as the page shown."""
    header = HEADER_LINKS.search(page)
    assert header, "the page has no console header"
    return [(href, bool(current)) for href, current in LINK.findall(header.group(0))]


@pytest.mark.parametrize("role", list(Role))
def test_sign_in_lands_on_the_roles_work_with_no_refused_link(site: Site, role: Role) -> None:
    site.sign_in_as(role)

    landing = site.client.get("/console", headers=HTML)

    assert landing.url.path == LANDINGS[role]
    assert landing.status_code == 200
    links = header_links(landing.text)
    assert [href for href, current in links if current] == [LANDINGS[role]]
    for href, _ in links:
        assert site.client.get(href, headers=HTML).status_code == 200, href


def test_the_programme_officers_refusal_is_the_consoles_page_leading_to_their_work(
        site: Site) -> None:
    site.sign_in_as(Role.PROGRAMME_OFFICER)

    refused = site.client.get("/console/registry?lang=en", headers=HTML)

    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "the Programme officer role may not read the population register" in refused.text
    assert ("/console/registry", False) not in header_links(refused.text)
    assert 'href="/console/monitoring">Back to your work in the console' in refused.text


def test_a_refused_action_leads_back_to_the_officials_work_not_to_the_register(
        site: Site) -> None:
    site.sign_in_as(Role.PROGRAMME_OFFICER)

    refused = site.client.get("/console/wallet/credentials?pid=001090000001&purpose=checking",
                              headers=HTML)

    assert refused.status_code == 403
    assert 'href="/console/monitoring">' in refused.text
    assert 'href="/console/registry"' not in refused.text
