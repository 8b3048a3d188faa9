"""`civicstack travel ...`: airports, airlines and their keys, urban sites, touchpoint devices
and their credentials, the purge after departure, and the demo's travel data."""

from __future__ import annotations

import csv
from pathlib import Path

import typer

from civicstack.config import get_settings
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    reports_domain_errors,
    secret_store,
)
from civicstack.travel import demo, service, touchpoints, urban

travel_app = typer.Typer(help="Travel: airports, airlines, touchpoints, urban sites, purge.",
                         no_args_is_help=True)


def _pepper() -> str:
    return secret_store().secret("apikey-pepper")


@travel_app.command("add-airport")
@reports_domain_errors
def add_airport(code: str, name: str,
                province: str = typer.Option(..., help="Province code, e.g. 01.")) -> None:
    with cli_transaction() as session:
        service.add_airport(session, CLI_ACTOR, code, name, province)
    typer.echo(f"airport {code.upper()} added")


@travel_app.command("add-airline")
@reports_domain_errors
def add_airline(code: str, name: str) -> None:
    """Add an airline; its client credential is printed once."""
    with cli_transaction() as session:
        _, token = service.add_airline(session, CLI_ACTOR, _pepper(), code, name)
    typer.echo(f"airline {code.upper()} added; its credential (shown once):\n{token}")


@travel_app.command("airline-key")
@reports_domain_errors
def airline_key(code: str) -> None:
    """Replace the airline's credential; the old one stops working now."""
    with cli_transaction() as session:
        token = service.renew_airline_key(session, CLI_ACTOR, _pepper(), code)
    typer.echo(f"new credential of {code.upper()} (shown once):\n{token}")


@travel_app.command("add-site")
@reports_domain_errors
def add_site(code: str, name: str,
             operator: str = typer.Option(...),
             kind: str = typer.Option(..., help="rail_station, railway_station, parking_lot"),
             province: str = typer.Option(..., help="Province code, e.g. 01."),
             base_fare: int = typer.Option(0, help="VND per trip or session."),
             hourly_fee: int = typer.Option(0, help="VND per started hour.")) -> None:
    """Add an urban rail station, a railway station or a parking lot."""
    with cli_transaction() as session:
        urban.add_site(session, CLI_ACTOR, urban.SiteIn(code, name, operator, kind, province,
                                                        base_fare, hourly_fee))
    typer.echo(f"site {code.upper()} added")


@travel_app.command("add-touchpoint")
@reports_domain_errors
def add_touchpoint(
    name: str,
    kind: str = typer.Option(..., help="check_in_kiosk, security_gate, boarding_gate, "
                                       "rail_gate, parking_gate"),
    airport: str | None = typer.Option(None, help="Airport code, for airport devices."),
    site: str | None = typer.Option(None, help="Site code, for rail and parking gates."),
    gate: str | None = typer.Option(None, help="The gate a boarding gate serves."),
    direction: str | None = typer.Option(None, help="entry or exit, for urban gates."),
) -> None:
    """Register a device; its credential is printed once."""
    with cli_transaction() as session:
        _, token = touchpoints.register(session, CLI_ACTOR, _pepper(), touchpoints.TouchpointIn(
            name, kind, airport, site, gate, direction))
    typer.echo(f"touchpoint '{name}' registered; its credential (shown once):\n{token}")


@travel_app.command("revoke-touchpoint")
@reports_domain_errors
def revoke_touchpoint(name: str) -> None:
    with cli_transaction() as session:
        touchpoints.revoke(session, CLI_ACTOR, name)
    typer.echo(f"touchpoint '{name}' revoked")


@travel_app.command("purge")
def purge(hours: int | None = typer.Option(
        None, min=0, help="Hours after departure; default CIVICSTACK_TRAVEL_PURGE_HOURS."),
          trip_days: int | None = typer.Option(
        None, min=1, help="Days rail trips and parking sessions are kept; default "
                          "CIVICSTACK_TRAVEL_TRIP_DAYS.")) -> None:
    """Delete flights, bookings and face copies past the delay after departure, and rail and
    parking history past its own (kept as anonymous daily counts)."""
    settings = get_settings()
    delay = settings.travel_purge_hours if hours is None else hours
    days = settings.travel_trip_days if trip_days is None else trip_days
    with cli_transaction() as session:
        report = service.purge(session, delay)
        history = urban.purge_history(session, service.now(), delay, days)
    typer.echo(f"purged {report.flights} flights, {report.bookings} bookings, "
               f"{report.tokens} flight face copies, {report.pass_tokens} expired pass copies; "
               f"{history.trips} trips and sessions, {history.passes} passes, "
               f"{history.gate_events} gate decisions made anonymous")


@travel_app.command("demo")
@reports_domain_errors
def seed_demo(passenger: list[str] = typer.Option(
        [], help="PID=Full name of a demo passenger on VN213 (repeatable)."),
              passengers_csv: Path | None = typer.Option(
        None, help="More passengers: a CSV with personal_id_number and full_name columns "
                   "(e.g. the demo-faces.csv `biometrics demo` writes).")) -> None:
    """Seed the demo's airports, flights, devices and urban sites (once)."""
    passengers = [demo.Passenger(*entry.split("=", 1)) for entry in passenger if "=" in entry]
    if passengers_csv is not None and passengers_csv.exists():
        with passengers_csv.open(encoding="utf-8", newline="") as handle:
            passengers += [demo.Passenger(row["personal_id_number"], row["full_name"])
                           for row in csv.DictReader(handle)]
    with cli_transaction() as session:
        issued = demo.seed(session, CLI_ACTOR, _pepper(), get_settings().data_dir, passengers)
    if issued is None:
        typer.echo("travel demo data already present")
        return
    typer.echo(f"travel demo seeded; credentials in "
               f"{get_settings().data_dir / demo.CREDENTIALS_FILE}")
