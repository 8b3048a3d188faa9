"""The portal's front page (issue 19): a visitor is told what the portal offers and led to
sign in, register, the services, the statistics and the document list, with no officials'
console on it; a citizen signing in lands on their home with their wallet, dossiers,
notifications, who used their data and help."""

from __future__ import annotations

import re
from pathlib import Path

from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.services import service
from civicstack.wallet.site import WALLET_SITE
from tests.support.eid import PASSWORD, make_active_account
from tests.support.services import citizen, parent_with_id_card, publish_everywhere
from tests.support.web import Site

VISITOR_LINKS = ["/account/login", "/account/register", "/services", "/services/statistics",
                 "/wallet/documents"]


def links_in_main(html: str) -> list[str]:
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return re.findall(r'href="([^"]+)"', main)


def test_a_visitor_is_led_to_sign_in_register_services_statistics_and_documents(
        site: Site) -> None:
    for lang, headline in (("vi", "Dịch vụ công trực tuyến"), ("en", "Public services online")):
        page = site.client.get(f"/?lang={lang}")
        assert page.status_code == 200
        assert headline in page.text
        links = links_in_main(page.text)
        assert all(link in links for link in VISITOR_LINKS), links
        assert "/console/login" not in links


def test_a_citizen_signing_in_lands_on_a_home_with_wallet_dossiers_notices_and_help(
        site: Site, tmp_path: Path) -> None:
    factory = site.services.session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        mai: Person = parent_with_id_card(session, site.services[WALLET_SITE])
        draft = service.start_draft(session, citizen(mai), mai.personal_id_number, "DVC-TP-01")
        receipt = draft.receipt_code
    make_active_account(factory, site.services.pepper, mai, tmp_path / "mailbox")

    signed_in = site.client.post("/account/login", follow_redirects=False, data={
        "personal_id_number": mai.personal_id_number, "password": PASSWORD,
        "csrf_token": site.csrf("/account/login")})
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/")

    home = site.client.get("/?lang=en").text
    assert "<h1>My home</h1>" in home
    assert "1 document in your wallet." in home
    assert re.search(rf'data-receipt="{receipt}"><a href="/dossiers/{receipt}">'
                     r"Judicial record certificate</a>", home)
    links = links_in_main(home)
    for link in ("/wallet", "/dossiers", "/account/notifications", "/account#uses", "/support"):
        assert link in links
    assert "/console/login" not in links
