"""The travel officers' console (`/console/travel` was a 404; bag drops and manual checks were
the JSON API's only): a bag drop at the counter and a document checked by hand at a lane, with
the API's rules, errors beside their fields in the page's language, the officer kept to the
airports of their scope and other roles refused."""

from __future__ import annotations

from sqlalchemy import select

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.travel.models import Booking
from tests.integration.test_travel_api import airport, vn213  # noqa: F401  (fixtures)
from tests.support.travel import Airport, manual_check
from tests.support.web import Site

PAGE = "/console/travel"
HANOI = Scope.province("01")


def post(site: Site, path: str, **fields: str) -> tuple[int, str]:
    response = site.client.post(path, follow_redirects=False,
                                data={"csrf_token": site.csrf("/console/password"), **fields})
    return response.status_code, response.text


def bags_dropped(site: Site, locator: str) -> bool:
    with transaction(site.services.session_factory) as session:
        return session.scalars(select(Booking.bags_dropped_at).where(
            Booking.record_locator == locator)).one() is not None


def test_an_officer_drops_bags_then_checks_a_document_by_hand(
        site: Site, airport: Airport, vn213: int) -> None:  # noqa: F811  (the fixtures)
    site.sign_in_as(Role.TRAVEL_OFFICER, HANOI)
    page = site.client.get(PAGE + "?lang=vi")
    assert page.status_code == 200
    assert "Nội Bài (HAN)" in page.text
    assert "Tân Sơn Nhất" not in page.text  # another province's airport
    assert "HAN security · HAN" in page.text

    status, html = post(site, PAGE + "/bag-drops", airport="HAN", record_locator="bag002")
    assert status == 409  # not checked in yet: the API's rule, in Vietnamese
    assert 'class="error-summary"' in html
    assert "hành khách chưa làm thủ tục" in html
    assert not bags_dropped(site, "BAG002")

    assert manual_check(site, airport.devices["HAN kiosk"], "BAG002").json()["decision"] \
        == "pass"  # checked in at the kiosk
    status, html = post(site, PAGE + "/bag-drops", airport="HAN", record_locator="BAG002")
    assert status == 200
    assert 'id="bags-done"' in html
    assert bags_dropped(site, "BAG002")

    status, html = post(site, PAGE + "/manual-checks", lane="HAN security",
                        record_locator="BAG002", document_type="passport")
    assert status == 200
    assert 'data-decision="pass"' in html
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(AuditEntry.action).where(
            AuditEntry.action == "travel.manual_check")).all() == ["travel.manual_check"]


def test_errors_are_shown_next_to_their_fields(
        site: Site, airport: Airport, vn213: int) -> None:  # noqa: F811  (the fixtures)
    site.sign_in_as(Role.TRAVEL_OFFICER, HANOI)
    status, html = post(site, PAGE + "/manual-checks", lane="HAN security",
                        record_locator="AB", document_type="id_card")
    assert status == 422
    assert 'id="check-record_locator-error"' in html
    assert 'href="#check-record_locator"' in html
    assert 'value="AB"' in html
    status, html = post(site, PAGE + "/bag-drops", airport="SGN", record_locator="BAG002")
    assert status == 422  # an airport outside the officer's province
    assert 'id="bags-airport-error"' in html
    status, html = post(site, PAGE + "/manual-checks", lane="SGN kiosk",
                        record_locator="AN0001", document_type="id_card")
    assert status == 422
    assert 'id="check-lane-error"' in html


def test_other_roles_are_refused(
        site: Site, airport: Airport) -> None:  # noqa: F811  (the fixture)
    site.sign_in_as(Role.SERVICE_CLERK)
    assert site.client.get(PAGE).status_code == 403
    assert post(site, PAGE + "/bag-drops", airport="HAN", record_locator="BAG002")[0] == 403
