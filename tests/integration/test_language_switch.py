"""The language links of a page answered to a form lead somewhere a browser can load: the
form's own page (a link to the POST's address would answer 405)."""

from __future__ import annotations

import re

from tests.support.web import Site

LINKS = re.compile(r'<a href="([^"]+)" lang="(vi|en)"')


def language_links(html: str) -> dict[str, str]:
    return {code: href.replace("&amp;", "&") for href, code in LINKS.findall(html)}


def test_after_a_refused_sign_in_the_language_links_lead_back_to_the_sign_in_page(
        site: Site) -> None:
    response = site.client.post(
        "/account/login", follow_redirects=False,
        headers={"Referer": "http://testserver/account/login?next=%2Fwallet"},
        data={"personal_id_number": "001090000000", "password": "not the password",
              "csrf_token": site.csrf("/account/login")})
    assert response.status_code in (400, 401, 422, 429)
    links = language_links(response.text)
    assert links["en"] == "/account/login?next=%2Fwallet&lang=en"

    english = site.client.get(links["en"])
    assert english.status_code == 200
    assert '<html lang="en">' in english.text


def test_without_a_same_site_referrer_the_links_lead_home(site: Site) -> None:
    response = site.client.post(
        "/account/login", follow_redirects=False,
        headers={"Referer": "https://elsewhere.example/account/login"},
        data={"personal_id_number": "001090000000", "password": "not the password",
              "csrf_token": site.csrf("/account/login")})
    assert language_links(response.text)["vi"] == "/?lang=vi"


def test_a_page_loaded_with_get_keeps_its_address_and_query(site: Site) -> None:
    page = site.client.get("/services?q=khai%20sinh&lang=vi").text
    assert language_links(page)["en"] == "/services?q=khai+sinh&lang=en"
