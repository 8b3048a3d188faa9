"""`civicstack travel ...`: reference data and devices from the shell (credentials printed once
and working on the API, refused input reported), the demo seed, and the purge job."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner, Result

from civicstack.cli import app
from civicstack.kit.cli_support import cli_transaction
from civicstack.travel import demo
from civicstack.travel.models import Booking, Flight, Touchpoint
from tests.support.travel import API, auth, booking, manual_check, register_flight, upload
from tests.support.web import make_site

runner = CliRunner()
TOKEN = re.compile(r"^(cs[at]_\S+)$", re.MULTILINE)


def civicstack(*arguments: str) -> Result:
    return runner.invoke(app, list(arguments))


def printed_token(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = TOKEN.search(result.output)
    assert found, result.output
    return found.group(1)


def test_the_shell_adds_airports_airlines_and_devices_whose_credentials_work(
        data_dir: Path, database_url: str) -> None:
    assert civicstack("travel", "add-airport", "HAN", "Nội Bài", "--province", "01") \
        .exit_code == 0
    assert civicstack("travel", "add-airport", "SGN", "Tân Sơn Nhất", "--province", "79") \
        .exit_code == 0
    refused = civicstack("travel", "add-airport", "HAN1", "Nowhere", "--province", "01")
    assert refused.exit_code == 1
    assert "three letters" in refused.output
    airline = printed_token(civicstack("travel", "add-airline", "VN", "Vietnam Airlines"))
    kiosk = printed_token(civicstack("travel", "add-touchpoint", "HAN kiosk", "--kind",
                                     "check_in_kiosk", "--airport", "HAN"))
    no_gate = civicstack("travel", "add-touchpoint", "HAN gate", "--kind", "boarding_gate",
                         "--airport", "HAN")
    assert no_gate.exit_code == 1
    assert "needs the gate" in no_gate.output
    site = make_site(database_url, data_dir)
    flight_id = register_flight(site, airline)
    upload(site, airline, flight_id, booking("AN0001", "001090000001"))
    assert manual_check(site, kiosk, "AN0001").json()["reason"] == "manual_check"

    assert civicstack("travel", "revoke-touchpoint", "HAN kiosk").exit_code == 0
    assert manual_check(site, kiosk, "AN0001").status_code == 401
    renewed = printed_token(civicstack("travel", "airline-key", "VN"))
    assert site.client.get(f"{API}/flights/{flight_id}", headers=auth(airline)).status_code \
        == 401
    assert site.client.get(f"{API}/flights/{flight_id}", headers=auth(renewed)).status_code \
        == 200


def test_purge_deletes_only_flights_past_the_delay(data_dir: Path, database_url: str) -> None:
    civicstack("travel", "add-airport", "HAN", "Nội Bài", "--province", "01")
    civicstack("travel", "add-airport", "SGN", "Tân Sơn Nhất", "--province", "79")
    airline = printed_token(civicstack("travel", "add-airline", "VN", "Vietnam Airlines"))
    site = make_site(database_url, data_dir)
    left = register_flight(site, airline, number="VN1",
                           leaves=datetime.now(UTC) - timedelta(hours=2))
    upload(site, airline, left, booking("OLD001", "001090000001"))
    upload(site, airline, register_flight(site, airline, number="VN2"),
           booking("NEW001", "001090000001"))
    kept = civicstack("travel", "purge")  # 24 hours by default: nothing yet
    assert "purged 0 flights, 0 bookings" in kept.output
    purged = civicstack("travel", "purge", "--hours", "1")
    assert purged.exit_code == 0, purged.output
    assert "purged 1 flights, 1 bookings" in purged.output
    with cli_transaction() as session:
        assert session.scalars(select(Flight.number)).all() == ["VN2"]
        assert session.scalars(select(Booking.record_locator)).all() == ["NEW001"]


def test_the_demo_seeds_once_and_leaves_its_credentials_to_the_operator(data_dir: Path) -> None:
    seeded = civicstack("travel", "demo", "--passenger", "001090000001=Nguyễn Văn An")
    assert seeded.exit_code == 0, seeded.output
    credentials = json.loads((data_dir / demo.CREDENTIALS_FILE).read_text())
    assert set(credentials) == {"airline VN"} | {device.name for device in demo.DEVICES}
    assert (data_dir / demo.CREDENTIALS_FILE).stat().st_mode & 0o077 == 0
    assert "already present" in civicstack("travel", "demo").output
    with cli_transaction() as session:
        assert len(session.scalars(select(Touchpoint)).all()) == len(demo.DEVICES)
        assert session.scalars(select(Booking.record_locator)).all() == ["DEMO00"]
