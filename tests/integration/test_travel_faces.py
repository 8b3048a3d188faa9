"""Face boarding on real faces (tests/support/face_images.py: one folder is one person): the
citizen's opt-in in the portal and at a kiosk, a one-flight copy sealed to the boarding pass,
1:1 with a scanned pass and 1:N over today's opted-in passengers, every refusal (no match,
several faces, not opted in, not checked in, bags not dropped, gate closed, not enrolled), urban
trips opened and closed by face with their fare, and the purge after departure. Real app, both
databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import select

from civicstack.biometrics import service as biometrics
from civicstack.biometrics.site import BIOMETRICS
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.db import as_utc, transaction
from civicstack.registry.models import Person, Sex
from civicstack.travel import service, touchpoints, urban
from civicstack.travel.models import Booking, FaceToken, Flight, TouchpointEvent, UrbanJourney
from civicstack.travel.site import TRAVEL, booking_owner
from tests.integration.test_identity_web import citizen_sign_in
from tests.support.biometrics import enrolled, face_photo
from tests.support.eid import make_active_account
from tests.support.people import make_person
from tests.support.travel import (
    API,
    TRAVEL_ADMIN,
    Airport,
    auth,
    booking,
    frame,
    open_boarding,
    register_flight,
    seed_airports,
    upload,
)
from tests.support.web import CSRF_PATTERN, Site


@dataclass(frozen=True)
class Boarding:
    airport: Airport
    flight_id: int
    an: Person
    binh: Person

    def device(self, name: str) -> str:
        return self.airport.devices[name]


@pytest.fixture
def boarding(site: Site, an: Person) -> Boarding:
    """VN213 leaves Nội Bài in two hours from gate 12. An (no bags, AN0001) and Bình (one bag,
    BINH01) have enrolled faces from their ID cards; a third passenger (NOFACE) has none."""
    with transaction(site.services.session_factory) as session:
        binh = make_person(session, "Trần Thị Bình", date(1992, 3, 8), Sex.FEMALE,
                           phone="0987654321")
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    enrolled(site, binh.personal_id_number, "biden/1.jpg")
    airport = seed_airports(site)
    flight_id = register_flight(site, airport.vn_key)
    assert upload(site, airport.vn_key, flight_id, booking("AN0001", an.personal_id_number),
                  booking("BINH01", binh.personal_id_number, "Trần Thị Bình", "3C", bags=1),
                  booking("NOFACE", "001095000123", "Lê Văn Bảo", "14C")).status_code == 200
    return Boarding(airport, flight_id, an, binh)


def booking_row(site: Site, locator: str) -> Booking:
    with transaction(site.services.session_factory) as session:
        found = session.scalars(select(Booking).where(Booking.record_locator == locator)).one()
        session.expunge(found)
        return found


def opt_in(site: Site, person: Person, locator: str) -> None:
    """The citizen's opt-in, as the portal makes it."""
    with transaction(site.services.session_factory) as session:
        service.opt_in(session, site.services[TRAVEL], Actor(
            "citizen", person.personal_id_number), booking_row(site, locator).id, consent=True)


def token_of(site: Site, locator: str) -> FaceToken | None:
    with transaction(site.services.session_factory) as session:
        return session.scalars(select(FaceToken).where(
            FaceToken.booking_id == booking_row(site, locator).id)).one_or_none()


def form_token(site: Site, path: str) -> str:
    found = CSRF_PATTERN.search(site.client.get(path).text)
    assert found, f"no form on {path}"
    return found.group(1)


def test_a_citizen_turns_face_boarding_on_for_one_booking_and_off_again(
        site: Site, boarding: Boarding, tmp_path: Path) -> None:
    make_active_account(site.services.session_factory, site.services.pepper, boarding.an,
                        tmp_path / "mailbox")
    assert citizen_sign_in(site, boarding.an) == 303
    page = site.client.get("/travel")
    assert "VN213" in page.text
    assert "AN0001" in page.text
    assert "BINH01" not in page.text  # only the citizen's own bookings
    booking_id = booking_row(site, "AN0001").id

    refused = site.client.post(f"/travel/bookings/{booking_id}/face",
                               data={"csrf_token": form_token(site, "/travel")})
    assert refused.status_code == 422
    assert "đánh dấu ô để đồng ý lên máy bay" in refused.text  # Vietnamese by default
    assert token_of(site, "AN0001") is None

    agreed = site.client.post(f"/travel/bookings/{booking_id}/face", follow_redirects=False,
                              data={"csrf_token": form_token(site, "/travel"), "consent": "true"})
    assert agreed.status_code == 303
    assert "Face boarding on" in site.client.get("/travel?lang=en").text
    token = token_of(site, "AN0001")
    assert token is not None
    assert token.channel == "portal"
    sealer = site.services[TRAVEL]
    assert sealer.open(token.sealed_template, booking_owner(booking_id)).shape == (128,)
    with pytest.raises(InvalidTag):  # bound to its boarding pass: it opens for no other
        sealer.open(token.sealed_template, booking_owner(booking_id + 1))
    with transaction(site.services.session_factory) as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.subject_id == boarding.an.personal_id_number)).all()
    assert "biometrics.template.copy" in actions
    assert "travel.face.opt_in" in actions

    off = site.client.post(f"/travel/bookings/{booking_id}/face/delete", follow_redirects=False,
                           data={"csrf_token": form_token(site, "/travel")})
    assert off.status_code == 303
    assert token_of(site, "AN0001") is None


def test_withdrawing_consent_to_face_biometrics_deletes_every_journey_copy(
        site: Site, boarding: Boarding) -> None:
    opt_in(site, boarding.an, "AN0001")
    opt_in(site, boarding.binh, "BINH01")
    with transaction(site.services.session_factory) as session:  # at /account/face
        biometrics.withdraw_consent(session, site.services[BIOMETRICS],
                                    boarding.an.personal_id_number)
    assert token_of(site, "AN0001") is None
    assert token_of(site, "BINH01") is not None  # only the person's own copies


def test_a_passenger_without_bags_goes_from_kiosk_to_the_plane_by_face(
        site: Site, boarding: Boarding) -> None:
    opt_in(site, boarding.an, "AN0001")
    opt_in(site, boarding.binh, "BINH01")  # a second face in the gallery
    kiosk = frame(site, boarding.device("HAN kiosk"), "obama/2.jpg", "AN0001")
    assert (kiosk["decision"], kiosk["reason"], kiosk["seat"]) == ("pass", "checked_in", "12A")
    assert kiosk["distance"] < site.services[BIOMETRICS].threshold
    security = frame(site, boarding.device("HAN security"), "obama/3.jpg")  # 1:N, no pass
    assert (security["decision"], security["record_locator"]) == ("pass", "AN0001")
    closed = frame(site, boarding.device("HAN gate 12"), "obama/2.jpg")
    assert (closed["decision"], closed["reason"]) == ("fail", "gate_closed")
    assert closed["fallback"].startswith("Please go to the staffed lane")
    open_boarding(site, boarding.airport.vn_key, boarding.flight_id)
    boarded = frame(site, boarding.device("HAN gate 12"), "obama/2.jpg")
    assert (boarded["decision"], boarded["reason"]) == ("pass", "boarded")
    assert booking_row(site, "AN0001").boarded_at is not None
    with transaction(site.services.session_factory) as session:
        events = session.scalars(select(TouchpointEvent).order_by(TouchpointEvent.id)).all()
        decisions = session.scalars(select(AuditEntry.detail).where(
            AuditEntry.action == "travel.touchpoint.decision")).all()
    assert [(e.decision, e.reason) for e in events] == [
        ("pass", "checked_in"), ("pass", "cleared"), ("fail", "gate_closed"),
        ("pass", "boarded")]
    assert all(e.distance is not None and e.booking_id is not None for e in events)
    assert [d["mode"] for d in decisions] == ["1:1", "1:N", "1:N", "1:N"]


def test_faces_that_do_not_do_are_refused_with_their_reason(site: Site,
                                                            boarding: Boarding) -> None:
    opt_in(site, boarding.an, "AN0001")
    opt_in(site, boarding.binh, "BINH01")
    kiosk, security = boarding.device("HAN kiosk"), boarding.device("HAN security")
    assert frame(site, security, "obama/2.jpg")["reason"] == "not_checked_in"
    assert frame(site, kiosk, "biden/2.jpg", "AN0001")["reason"] == "no_match"
    assert frame(site, kiosk, "multi/two_people.jpg", "AN0001")["reason"] == "multiple_faces"
    assert frame(site, kiosk, "rose_leslie/1.jpg")["reason"] == "no_match"  # 1:N, not in it
    assert frame(site, kiosk, "obama/2.jpg", "NOFACE")["reason"] == "not_opted_in"
    assert frame(site, kiosk, "biden/2.jpg", "BINH01")["reason"] == "checked_in_drop_bags"
    bags = frame(site, security, "biden/2.jpg")
    assert (bags["decision"], bags["reason"]) == ("fail", "bags_not_dropped")
    unreadable = site.client.post(f"{API}/touchpoint/frames", headers=auth(kiosk),
                                  files={"image": ("f.jpg", b"not a photo", "image/jpeg")})
    assert unreadable.json()["reason"] == "unreadable"
    assert booking_row(site, "AN0001").checked_in_at is None


def test_the_kiosk_sends_a_passenger_with_bags_to_the_bag_drop_and_others_to_security(
        site: Site, boarding: Boarding) -> None:
    opt_in(site, boarding.an, "AN0001")
    opt_in(site, boarding.binh, "BINH01")
    kiosk, security = boarding.device("HAN kiosk"), boarding.device("HAN security")
    without_bags = frame(site, kiosk, "obama/2.jpg", "AN0001")
    assert (without_bags["decision"], without_bags["reason"], without_bags["message"]) == (
        "pass", "checked_in", "You are checked in. Go to security.")
    with_bags = frame(site, kiosk, "biden/2.jpg", "BINH01")
    assert (with_bags["decision"], with_bags["reason"]) == ("pass", "checked_in_drop_bags")
    drop_step = "bag-drop counter"
    assert drop_step in with_bags["message"]
    assert "then go to security" in with_bags["message"]
    refused = frame(site, security, "biden/2.jpg")
    assert (refused["decision"], refused["reason"]) == ("fail", "bags_not_dropped")
    assert drop_step in refused["message"]  # the gate names the step the kiosk gave
    assert frame(site, security, "obama/3.jpg")["decision"] == "pass"
    dropped = site.client.post(f"{API}/flights/{boarding.flight_id}/bookings/BINH01/bag-drop",
                               headers=auth(boarding.airport.vn_key))
    assert dropped.status_code == 200, dropped.text
    assert frame(site, security, "biden/2.jpg")["decision"] == "pass"


def test_bags_declared_at_the_kiosk_wait_for_the_drop_and_never_lower_the_manifest(
        site: Site, boarding: Boarding) -> None:
    opt_in(site, boarding.an, "AN0001")
    opt_in(site, boarding.binh, "BINH01")
    kiosk, security = boarding.device("HAN kiosk"), boarding.device("HAN security")
    declared = frame(site, kiosk, "obama/2.jpg", "AN0001", checked_bags=2)
    assert (declared["decision"], declared["reason"]) == ("pass", "checked_in_drop_bags")
    assert booking_row(site, "AN0001").checked_bags == 2
    assert frame(site, security, "obama/3.jpg")["reason"] == "bags_not_dropped"
    assert frame(site, kiosk, "biden/2.jpg", "BINH01")["reason"] == "checked_in_drop_bags"
    assert booking_row(site, "BINH01").checked_bags == 1  # declaring none keeps the airline's
    too_many = site.client.post(
        f"{API}/touchpoint/frames", headers=auth(kiosk), data={"checked_bags": "10"},
        files={"image": ("f.jpg", face_photo("obama/2.jpg"), "image/jpeg")})
    assert too_many.status_code == 422


def kiosk_post(site: Site, device: str, photo: str, locator: str, lang: str) -> str:
    """The kiosk page signed in as `device`, a frame with the booking code: the answer."""
    site.client.post("/kiosk/sign-out", data={"csrf_token": form_token(site, "/kiosk")})
    assert site.client.post("/kiosk/sign-in", follow_redirects=False, data={
        "csrf_token": form_token(site, "/kiosk"), "credential": device}).status_code == 303
    answer = site.client.post(f"/kiosk?lang={lang}", data={
        "csrf_token": form_token(site, "/kiosk"), "record_locator": locator},
        files={"image": ("f.jpg", face_photo(photo), "image/jpeg")})
    assert answer.status_code == 200, answer.text
    return answer.text


def test_the_kiosk_page_names_the_bag_drop_in_vietnamese_and_english(
        site: Site, boarding: Boarding) -> None:
    opt_in(site, boarding.an, "AN0001")
    opt_in(site, boarding.binh, "BINH01")
    kiosk, security = boarding.device("HAN kiosk"), boarding.device("HAN security")
    page = kiosk_post(site, kiosk, "biden/2.jpg", "BINH01", "vi")
    assert 'data-reason="checked_in_drop_bags"' in page
    assert "quầy gửi hành lý của hãng bay, sau đó đến khu kiểm tra an ninh" in page
    assert "Số kiện hành lý ký gửi cần gửi: 1" in page
    page = kiosk_post(site, kiosk, "biden/2.jpg", "BINH01", "en")
    assert "Drop your checked bags at your airline's bag-drop counter, then go to security." \
        in page
    page = kiosk_post(site, security, "biden/2.jpg", "BINH01", "en")
    assert 'data-reason="bags_not_dropped"' in page
    assert "bag-drop counter before security" in page
    page = kiosk_post(site, kiosk, "obama/2.jpg", "AN0001", "vi")
    assert 'data-reason="checked_in"' in page
    assert "Mời đến khu kiểm tra an ninh." in page
    assert "hành lý ký gửi cần gửi" not in page


def kiosk_opt_in(site: Site, device: str, photo: str, locator: str) -> dict[str, object]:
    response = site.client.post(f"{API}/touchpoint/opt-in", headers=auth(device),
                                files={"image": ("f.jpg", face_photo(photo), "image/jpeg")},
                                data={"record_locator": locator, "consent": "true"})
    assert response.status_code == 200, response.text
    decided: dict[str, object] = response.json()
    return decided


def test_a_kiosk_turns_face_boarding_on_only_for_the_face_of_the_pass(
        site: Site, boarding: Boarding) -> None:
    kiosk = boarding.device("HAN kiosk")
    impostor = kiosk_opt_in(site, kiosk, "obama/2.jpg", "BINH01")
    assert (impostor["decision"], impostor["reason"]) == ("fail", "no_match")
    assert token_of(site, "BINH01") is None
    assert kiosk_opt_in(site, kiosk, "obama/2.jpg", "NOFACE")["reason"] == "not_enrolled"
    without_consent = site.client.post(
        f"{API}/touchpoint/opt-in", headers=auth(kiosk), data={"record_locator": "BINH01"},
        files={"image": ("f.jpg", face_photo("biden/2.jpg"), "image/jpeg")})
    assert without_consent.status_code == 422
    signed = site.client.post("/kiosk/sign-in", follow_redirects=False, data={
        "csrf_token": form_token(site, "/kiosk"), "credential": kiosk})
    assert signed.status_code == 303
    agreed = site.client.post("/kiosk", data={
        "csrf_token": form_token(site, "/kiosk"), "record_locator": "BINH01", "consent": "true"},
        files={"image": ("f.jpg", face_photo("biden/2.jpg"), "image/jpeg")})
    assert 'data-reason="checked_in_drop_bags"' in agreed.text  # Bình has a bag
    token = token_of(site, "BINH01")
    assert token is not None
    assert token.channel == "kiosk"
    gate = boarding.device("HAN gate 12")
    refused_kiosk = site.client.post(f"{API}/touchpoint/opt-in", headers=auth(gate),
                                     data={"record_locator": "BINH01", "consent": "true"},
                                     files={"image": ("f.jpg", b"x", "image/jpeg")})
    assert refused_kiosk.status_code == 403


def test_the_purge_deletes_the_flight_its_bookings_and_face_copies_after_the_delay(
        site: Site, boarding: Boarding) -> None:
    opt_in(site, boarding.an, "AN0001")
    assert frame(site, boarding.device("HAN kiosk"), "obama/2.jpg", "AN0001")["decision"] \
        == "pass"
    factory = site.services.session_factory
    with transaction(factory) as session:
        leaves = as_utc(session.get_one(Flight, boarding.flight_id).scheduled_departure)
    hours = site.services[TRAVEL].purge_hours
    assert hours == 24
    with transaction(factory) as session:
        early = service.purge(session, hours, leaves + timedelta(hours=hours, minutes=-1))
    assert (early.flights, early.bookings, early.tokens) == (0, 0, 0)
    assert token_of(site, "AN0001") is not None
    with transaction(factory) as session:
        report = service.purge(session, hours, leaves + timedelta(hours=hours, minutes=1))
    assert (report.flights, report.bookings, report.tokens) == (1, 3, 1)
    with transaction(factory) as session:
        assert session.scalars(select(Booking)).all() == []
        assert session.scalars(select(FaceToken)).all() == []
        assert session.get(Flight, boarding.flight_id) is None
        event = session.scalars(select(TouchpointEvent)).one()
        assert (event.booking_id, event.distance, event.reason) == (None, None, "checked_in")


def test_face_entry_opens_a_metro_trip_and_a_parking_session_and_closes_them_with_the_fee(
        site: Site, an: Person, tmp_path: Path) -> None:
    enrolled(site, an.personal_id_number, "obama/1.jpg")
    factory, pepper = site.services.session_factory, site.services.pepper
    with transaction(factory) as session:
        for code, name in (("HN-L2A-CL", "Cát Linh"), ("HN-L2A-YN", "Yên Nghĩa")):
            urban.add_site(session, TRAVEL_ADMIN, urban.SiteIn(
                code, name, "Hanoi Metro", "rail_station", "01", 8000, 0))
        entry = touchpoints.register(session, TRAVEL_ADMIN, pepper, touchpoints.TouchpointIn(
            "Cát Linh in", "rail_gate", urban_site="HN-L2A-CL", direction="entry"))[1]
        leave = touchpoints.register(session, TRAVEL_ADMIN, pepper, touchpoints.TouchpointIn(
            "Yên Nghĩa out", "rail_gate", urban_site="HN-L2A-YN", direction="exit"))[1]
        urban.add_site(session, TRAVEL_ADMIN, urban.SiteIn(
            "HN-PARK-HK", "Hoàn Kiếm parking", "Hà Nội Parking", "parking_lot", "01", 0, 25000))
        park_in, park_out = (touchpoints.register(
            session, TRAVEL_ADMIN, pepper, touchpoints.TouchpointIn(
                f"Hoàn Kiếm {direction}", "parking_gate", urban_site="HN-PARK-HK",
                direction=direction))[1] for direction in ("entry", "exit"))
    make_active_account(factory, pepper, an, tmp_path / "mailbox")
    assert citizen_sign_in(site, an) == 303
    assert frame(site, entry, "obama/2.jpg")["reason"] == "no_pass"
    taken = site.client.post("/travel/passes", follow_redirects=False, data={
        "csrf_token": form_token(site, "/travel"), "operator": "Hanoi Metro|rail",
        "consent": "true"})
    assert taken.status_code == 303

    assert frame(site, entry, "obama/2.jpg")["reason"] == "journey_started"
    assert frame(site, entry, "obama/3.jpg")["reason"] == "journey_open"
    ended = frame(site, leave, "obama/2.jpg")
    assert (ended["decision"], ended["reason"], ended["fee"]) == ("pass", "journey_ended", 8000)
    assert frame(site, leave, "obama/3.jpg")["reason"] == "no_open_journey"
    assert frame(site, park_in, "obama/2.jpg")["reason"] == "no_pass"  # a rail pass only
    parking = site.client.post("/travel/passes", follow_redirects=False, data={
        "csrf_token": form_token(site, "/travel"), "operator": "Hà Nội Parking|parking",
        "consent": "true"})
    assert parking.status_code == 303
    assert frame(site, park_in, "obama/3.jpg")["reason"] == "journey_started"
    parked = frame(site, park_out, "obama/2.jpg")
    assert (parked["reason"], parked["fee"]) == ("journey_ended", 25000)  # one started hour
    with transaction(factory) as session:
        journeys = session.scalars(select(UrbanJourney).order_by(UrbanJourney.id)).all()
        assert [j.fee for j in journeys] == [8000, 25000]
    page = site.client.get("/travel").text
    assert "8,000 ₫" in page
    assert "25,000 ₫" in page
