"""Travel for tests of any domain: airports, airlines with their credentials, a flight leaving
Nội Bài soon with a manifest, touchpoint devices, all made through the real services; and the
calls an airline's system and a touchpoint make to the JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from httpx import Response

from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.calendar import VIETNAM
from civicstack.kit.db import transaction
from civicstack.travel import service, touchpoints
from tests.support.biometrics import face_photo
from tests.support.web import Site

TRAVEL_ADMIN = Actor("test", "travel-admin", NATIONAL, Role.ADMIN)
API = "/api/v1/travel"


@dataclass(frozen=True)
class Airport:
    """What the tests hold: the credentials the CLI would have printed."""

    vn_key: str
    qh_key: str
    devices: dict[str, str]  # touchpoint name -> credential


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seed_airports(site: Site) -> Airport:
    """HAN, SGN and DAD; Vietnam Airlines and Bamboo Airways; at Nội Bài a kiosk, a security
    gate and boarding gates 12 and 14; at Tân Sơn Nhất a kiosk."""
    factory, pepper = site.services.session_factory, site.services.pepper
    with transaction(factory) as session:
        for code, name, province in (("HAN", "Nội Bài", "01"), ("SGN", "Tân Sơn Nhất", "79"),
                                     ("DAD", "Đà Nẵng", "48")):
            service.add_airport(session, TRAVEL_ADMIN, code, name, province)
        _, vn_key = service.add_airline(session, TRAVEL_ADMIN, pepper, "VN", "Vietnam Airlines")
        _, qh_key = service.add_airline(session, TRAVEL_ADMIN, pepper, "QH", "Bamboo Airways")
        devices = {device.name: touchpoints.register(session, TRAVEL_ADMIN, pepper, device)[1]
                   for device in (
            touchpoints.TouchpointIn("HAN kiosk", "check_in_kiosk", airport="HAN"),
            touchpoints.TouchpointIn("HAN security", "security_gate", airport="HAN"),
            touchpoints.TouchpointIn("HAN gate 12", "boarding_gate", airport="HAN", gate="12"),
            touchpoints.TouchpointIn("HAN gate 14", "boarding_gate", airport="HAN", gate="14"),
            touchpoints.TouchpointIn("SGN kiosk", "check_in_kiosk", airport="SGN"))}
    return Airport(vn_key, qh_key, devices)


def soon(hours: float = 2) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def flight_body(number: str = "VN213", origin: str = "HAN", destination: str = "SGN",
                gate: str = "12", leaves: datetime | None = None) -> dict[str, Any]:
    leaves = (leaves or soon()).astimezone(VIETNAM)
    return {"number": number, "departure_date": leaves.date().isoformat(), "origin": origin,
            "destination": destination, "scheduled_departure": leaves.isoformat(), "gate": gate}


def booking(locator: str, personal_id_number: str, name: str = "Nguyễn Văn An",
            seat: str = "12A", bags: int = 0) -> dict[str, Any]:
    return {"record_locator": locator, "personal_id_number": personal_id_number,
            "passenger_name": name, "seat": seat, "checked_bags": bags}


def register_flight(site: Site, key: str, **values: Any) -> int:
    response = site.client.post(f"{API}/flights", headers=auth(key), json=flight_body(**values))
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def upload(site: Site, key: str, flight_id: int, *rows: dict[str, Any]) -> Response:
    return site.client.post(f"{API}/flights/{flight_id}/manifest", headers=auth(key),
                            json={"bookings": list(rows)})


def open_boarding(site: Site, key: str, flight_id: int, is_open: bool = True) -> None:
    response = site.client.patch(f"{API}/flights/{flight_id}", headers=auth(key),
                                 json={"boarding_open": is_open})
    assert response.status_code == 200, response.text


def frame(site: Site, device_key: str, photo: str, record_locator: str | None = None,
          checked_bags: int = 0) -> dict[str, Any]:
    """A touchpoint posts a camera frame (one of the shared face photos), with the bags a
    passenger declares at a kiosk; the decision."""
    data = {"record_locator": record_locator} if record_locator else {}
    response = site.client.post(
        f"{API}/touchpoint/frames", headers=auth(device_key),
        files={"image": ("frame.jpg", face_photo(photo), "image/jpeg")},
        data=data | {"checked_bags": str(checked_bags)})
    assert response.status_code == 200, response.text
    decision: dict[str, Any] = response.json()
    return decision


def manual_check(site: Site, device_key: str, locator: str,
                 document_type: str = "id_card") -> Response:
    return site.client.post(f"{API}/touchpoint/manual-checks", headers=auth(device_key),
                            json={"record_locator": locator, "document_type": document_type,
                                  "staff_name": "Lê Thu Hà"})

