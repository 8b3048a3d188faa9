"""The demo's travel data: three airports, an airline with two flights today from Hà Nội, a
check-in kiosk, a security gate and a boarding gate at Nội Bài, and Hà Nội's metro and a
parking lot with their gates. Credentials are written once to the data directory (0600) so
the demo can sign the kiosk page in."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.calendar import VIETNAM
from civicstack.kit.private_files import private_folder
from civicstack.travel import repository, service, touchpoints, urban

AIRPORTS = (("HAN", "Nội Bài International Airport", "01"),
            ("SGN", "Tân Sơn Nhất International Airport", "79"),
            ("DAD", "Đà Nẵng International Airport", "48"))
SITES = (
    urban.SiteIn("HN-METRO-L2A-CL", "Cát Linh station", "Hanoi Metro", "rail_station", "01",
                 8000, 0),
    urban.SiteIn("HN-METRO-L2A-YN", "Yên Nghĩa station", "Hanoi Metro", "rail_station", "01",
                 8000, 0),
    urban.SiteIn("HN-PARK-HK", "Hoàn Kiếm parking", "Hà Nội Parking", "parking_lot", "01",
                 0, 25000),
)
DEVICES = (
    touchpoints.TouchpointIn("HAN kiosk 1", "check_in_kiosk", airport="HAN"),
    touchpoints.TouchpointIn("HAN security 1", "security_gate", airport="HAN"),
    touchpoints.TouchpointIn("HAN gate 12", "boarding_gate", airport="HAN", gate="12"),
    touchpoints.TouchpointIn("Cát Linh entry", "rail_gate", urban_site="HN-METRO-L2A-CL",
                             direction="entry"),
    touchpoints.TouchpointIn("Yên Nghĩa exit", "rail_gate", urban_site="HN-METRO-L2A-YN",
                             direction="exit"),
    touchpoints.TouchpointIn("Hoàn Kiếm parking in", "parking_gate", urban_site="HN-PARK-HK",
                             direction="entry"),
    touchpoints.TouchpointIn("Hoàn Kiếm parking out", "parking_gate", urban_site="HN-PARK-HK",
                             direction="exit"),
)
CREDENTIALS_FILE = "travel-demo-credentials.json"


@dataclass(frozen=True)
class Passenger:
    personal_id_number: str
    full_name: str


def seed(session: Session, actor: Actor, pepper: str, data_dir: Path,
         passengers: list[Passenger]) -> dict[str, str] | None:
    """Seed once; the credentials issued (None when already seeded)."""
    if repository.airport_by_code(session, "HAN") is not None:
        return None
    for code, name, province in AIRPORTS:
        service.add_airport(session, actor, code, name, province)
    for site in SITES:
        urban.add_site(session, actor, site)
    airline, airline_key = service.add_airline(session, actor, pepper, "VN", "Vietnam Airlines")
    issued = {"airline VN": airline_key}
    for device in DEVICES:
        issued[device.name] = touchpoints.register(session, actor, pepper, device)[1]
    today = service.local_today()
    late = max(datetime.now(VIETNAM) + timedelta(hours=3),
               datetime.combine(today, time(21, 30), VIETNAM))
    leaving = min(late, datetime.combine(today, time(23, 55), VIETNAM))
    flights = [service.register_flight(session, airline, service.FlightIn(
        number, today, "HAN", destination, leaving, gate))
        for number, destination, gate in (("VN213", "SGN", "12"), ("VN167", "DAD", "14"))]
    service.change_flight(session, airline, flights[0].id, service.FlightChange(
        boarding_open=True))
    if passengers:
        service.upload_manifest(session, airline, flights[0].id, [
            {"record_locator": f"DEMO{index:02d}", "personal_id_number": p.personal_id_number,
             "passenger_name": p.full_name, "seat": f"{10 + index}A",
             "checked_bags": index % 2}
            for index, p in enumerate(passengers)])
    _write_credentials(data_dir, issued)
    return issued


def _write_credentials(data_dir: Path, issued: dict[str, str]) -> None:
    path = data_dir / CREDENTIALS_FILE
    private_folder(data_dir)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(issued, handle, ensure_ascii=False, indent=2)
