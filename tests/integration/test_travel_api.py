"""Airlines' systems and touchpoints on the travel API, without faces: flights and manifests
(bad rows named), an airline kept off other airlines' flights, credentials refused when wrong
or revoked, bag drop, and the staffed lane's manual checks going through the journey's rules
(not checked in, bags not dropped, gate closed, wrong gate, wrong airport, unknown pass).
Through the real app, on both databases."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from civicstack.kit.audit import AuditEntry
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.travel import service, touchpoints
from civicstack.travel.models import Booking, TouchpointEvent
from tests.support.travel import (
    API,
    TRAVEL_ADMIN,
    Airport,
    auth,
    booking,
    flight_body,
    manual_check,
    open_boarding,
    register_flight,
    seed_airports,
    upload,
)
from tests.support.web import CSRF_PATTERN, Site


@pytest.fixture
def airport(site: Site) -> Airport:
    return seed_airports(site)


@pytest.fixture
def vn213(site: Site, airport: Airport, an: Person) -> int:
    """Vietnam Airlines' VN213 from Hà Nội to Sài Gòn in two hours, gate 12: An (no bags) on
    AN0001, a second passenger with two bags on BAG002."""
    flight_id = register_flight(site, airport.vn_key)
    response = upload(site, airport.vn_key, flight_id, booking("AN0001", an.personal_id_number),
                      booking("BAG002", "001095000123", "Lê Văn Bảo", "14C", bags=2))
    assert response.json() == {"added": 2, "updated": 0}
    return flight_id


def decided(site: Site, airport: Airport, device: str, locator: str) -> dict[str, Any]:
    response = manual_check(site, airport.devices[device], locator)
    assert response.status_code == 200, response.text
    decision: dict[str, Any] = response.json()
    return decision


def test_an_airline_registers_a_flight_and_uploads_its_manifest(site: Site, airport: Airport,
                                                                vn213: int) -> None:
    flight = site.client.get(f"{API}/flights/{vn213}", headers=auth(airport.vn_key)).json()
    assert flight["number"] == "VN213"
    assert flight["gate"] == "12"
    assert flight["boarding_open"] is False
    again = upload(site, airport.vn_key, vn213, booking("AN0001", "048085000555", seat="3C"),
                   booking("NEW003", "048085000777", "Phạm Thị Cúc", "4D"))
    assert again.status_code == 422  # AN0001's locator now names another passenger
    assert again.json()["errors"][0]["field"] == "bookings[0].personal_id_number"
    with transaction(site.services.session_factory) as session:
        assert session.scalar(select(Booking.seat).where(Booking.record_locator == "AN0001")) \
            == "12A"


def test_a_manifest_with_bad_rows_is_refused_row_by_row_and_nothing_is_written(
        site: Site, airport: Airport) -> None:
    flight_id = register_flight(site, airport.vn_key)
    response = upload(site, airport.vn_key, flight_id,
                      booking("GOOD01", "048085000001"),
                      booking("bad", "12345", seat="999"),
                      booking("GOOD01", "001090000002", bags=12),
                      "not an object")
    assert response.status_code == 422
    fields = [error["field"] for error in response.json()["errors"]]
    assert fields == ["bookings[1].record_locator", "bookings[1].personal_id_number",
                      "bookings[1].seat", "bookings[2].checked_bags", "bookings[3]"]
    with transaction(site.services.session_factory) as session:
        assert session.scalars(select(Booking)).all() == []


@pytest.mark.parametrize(("change", "field"), [
    ({"number": "QH213"}, "number"),  # another airline's code
    ({"origin": "XXX"}, "origin"),
    ({"destination": "HAN"}, "destination"),
    ({"gate": "gate 12!"}, "gate"),
])
def test_a_bad_flight_is_refused_with_the_field(site: Site, airport: Airport,
                                                change: dict[str, str], field: str) -> None:
    response = site.client.post(f"{API}/flights", headers=auth(airport.vn_key),
                                json={**flight_body(), **change})
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


def test_an_airline_cannot_read_or_touch_another_airlines_flight(site: Site, airport: Airport,
                                                                 vn213: int) -> None:
    other = auth(airport.qh_key)
    assert site.client.get(f"{API}/flights/{vn213}", headers=other).status_code == 403
    assert site.client.patch(f"{API}/flights/{vn213}", headers=other,
                             json={"boarding_open": True}).status_code == 403
    assert upload(site, airport.qh_key, vn213, booking("QH0001", "001090000009")).status_code \
        == 403
    assert site.client.post(f"{API}/flights/{vn213}/bookings/BAG002/bag-drop",
                            headers=other).status_code == 403
    flight = site.client.get(f"{API}/flights/{vn213}", headers=auth(airport.vn_key)).json()
    assert flight["boarding_open"] is False


def test_wrong_and_renewed_airline_credentials_are_refused(site: Site, airport: Airport) -> None:
    assert site.client.get(f"{API}/flights/1").status_code == 401
    assert site.client.get(f"{API}/flights/1", headers=auth("csa_nothing_here")).status_code \
        == 401
    assert site.client.get(f"{API}/flights/1", headers=auth(airport.devices["HAN kiosk"])) \
        .status_code == 401  # a touchpoint's credential is not an airline's
    with transaction(site.services.session_factory) as session:
        renewed = service.renew_airline_key(session, TRAVEL_ADMIN, site.services.pepper, "VN")
    assert site.client.post(f"{API}/flights", headers=auth(airport.vn_key),
                            json=flight_body()).status_code == 401
    assert site.client.post(f"{API}/flights", headers=auth(renewed),
                            json=flight_body()).status_code == 201


def test_a_revoked_touchpoint_is_refused(site: Site, airport: Airport, vn213: int) -> None:
    assert decided(site, airport, "HAN kiosk", "AN0001")["decision"] == "pass"
    with transaction(site.services.session_factory) as session:
        touchpoints.revoke(session, TRAVEL_ADMIN, "HAN kiosk")
    refused = manual_check(site, airport.devices["HAN kiosk"], "AN0001")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
    frame = site.client.post(f"{API}/touchpoint/frames", headers=auth(
        airport.devices["HAN kiosk"]), files={"image": ("f.jpg", b"x", "image/jpeg")})
    assert frame.status_code == 401


def test_staff_pass_a_passenger_without_face_through_the_whole_journey(
        site: Site, airport: Airport, vn213: int) -> None:
    assert decided(site, airport, "HAN security", "AN0001")["reason"] == "not_checked_in"
    assert decided(site, airport, "HAN kiosk", "AN0001") == {
        "decision": "pass", "reason": "manual_check", "message": "Document checked by staff.",
        "fallback": None, "record_locator": "AN0001", "seat": "12A", "distance": None,
        "fee": None}
    assert decided(site, airport, "HAN security", "AN0001")["decision"] == "pass"
    closed = decided(site, airport, "HAN gate 12", "AN0001")
    assert (closed["decision"], closed["reason"]) == ("fail", "gate_closed")
    assert closed["fallback"].startswith("Please go to the staffed lane")
    assert decided(site, airport, "HAN gate 14", "AN0001")["reason"] == "wrong_flight"
    open_boarding(site, airport.vn_key, vn213)
    assert decided(site, airport, "HAN gate 12", "AN0001")["decision"] == "pass"
    with transaction(site.services.session_factory) as session:
        boarded = session.scalars(select(Booking).where(Booking.record_locator == "AN0001")).one()
        assert boarded.boarded_at is not None
        events = session.scalars(select(TouchpointEvent).order_by(TouchpointEvent.id)).all()
        assert [(e.decision, e.reason, e.document_type) for e in events] == [
            ("fail", "not_checked_in", "id_card"), ("pass", "manual_check", "id_card"),
            ("pass", "manual_check", "id_card"), ("fail", "gate_closed", "id_card"),
            ("fail", "wrong_flight", "id_card"), ("pass", "manual_check", "id_card")]
        audited = session.scalars(select(AuditEntry.actor).where(
            AuditEntry.action == "travel.touchpoint.decision",
            AuditEntry.subject_id == boarded.personal_id_number)).all()
        assert len(audited) == 6


def test_checked_bags_hold_security_until_the_airline_records_the_drop(
        site: Site, airport: Airport, vn213: int) -> None:
    drop = f"{API}/flights/{vn213}/bookings/BAG002/bag-drop"
    assert site.client.post(drop, headers=auth(airport.vn_key)).status_code == 409
    assert decided(site, airport, "HAN kiosk", "BAG002")["decision"] == "pass"
    assert decided(site, airport, "HAN security", "BAG002")["reason"] == "bags_not_dropped"
    dropped = site.client.post(drop, headers=auth(airport.vn_key))
    assert dropped.json()["bags_dropped"] is True
    assert decided(site, airport, "HAN security", "BAG002")["decision"] == "pass"


def test_a_pass_from_another_airport_or_unknown_is_refused(site: Site, airport: Airport,
                                                           vn213: int) -> None:
    assert decided(site, airport, "SGN kiosk", "AN0001")["reason"] == "wrong_flight"
    assert decided(site, airport, "HAN kiosk", "ZZZ999")["reason"] == "unknown_booking"
    refused = manual_check(site, airport.devices["HAN kiosk"], "AN0001", "library_card")
    assert refused.status_code == 422


def test_a_cancelled_flight_closes_boarding_and_its_manifest(site: Site, airport: Airport,
                                                             vn213: int) -> None:
    open_boarding(site, airport.vn_key, vn213)
    cancelled = site.client.patch(f"{API}/flights/{vn213}", headers=auth(airport.vn_key),
                                  json={"status": "cancelled"}).json()
    assert (cancelled["status"], cancelled["boarding_open"]) == ("cancelled", False)
    assert decided(site, airport, "HAN kiosk", "AN0001")["reason"] == "flight_closed"
    assert upload(site, airport.vn_key, vn213, booking("LATE01", "001090000099")).status_code \
        == 409


def test_the_kiosk_page_signs_in_with_the_device_credential_until_it_is_revoked(
        site: Site, airport: Airport) -> None:
    def form_token(path: str) -> str:
        found = CSRF_PATTERN.search(site.client.get(path).text)
        assert found, f"no form on {path}"
        return found.group(1)

    wrong = site.client.post("/kiosk/sign-in", data={
        "csrf_token": form_token("/kiosk"), "credential": airport.vn_key})
    assert wrong.status_code == 401  # an airline's credential is no device's
    signed = site.client.post("/kiosk/sign-in", follow_redirects=False, data={
        "csrf_token": form_token("/kiosk"), "credential": airport.devices["HAN kiosk"]})
    assert signed.status_code == 303
    assert 'capture="user"' in site.client.get("/kiosk").text
    decided = site.client.post("/kiosk", data={"csrf_token": form_token("/kiosk"),
                                               "record_locator": "ZZZ999"},
                               files={"image": ("f.jpg", b"not a photo", "image/jpeg")})
    assert 'data-reason="unknown_booking"' in decided.text
    assert "làn có nhân viên" in decided.text  # Vietnamese by default
    with transaction(site.services.session_factory) as session:
        touchpoints.revoke(session, TRAVEL_ADMIN, "HAN kiosk")
    assert 'id="credential"' in site.client.get("/kiosk").text
