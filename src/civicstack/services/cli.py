"""`civicstack services ...`: the procedure catalogue (demo seed, an administrator's import,
listing), re-routing dossiers after units merge, the statistics, payments reconciled with the
payment channel, and demo dossiers."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import typer

from civicstack.config import get_settings
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    demo_population,
    fail,
    reports_domain_errors,
)
from civicstack.kit.errors import FieldError, Invalid
from civicstack.registry import service as registry
from civicstack.services import catalogue_import, demo, reconciliation, service, statistics
from civicstack.services.site import treasury

services_app = typer.Typer(help="Online public services: catalogue, re-routing, statistics.",
                           no_args_is_help=True)
MAPPING_COLUMNS = ("old_ward_code", "new_province_code", "new_ward_code")


def _refused(exc: Invalid) -> typer.Exit:
    """Every reason on its own line, named by where it is in the input."""
    for error in exc.errors:
        typer.secho(f"  {error.field}: {error.reason}", fg=typer.colors.RED, err=True)
    return fail(f"refused: {len(exc.errors)} problem(s); nothing was changed")


@services_app.command("seed")
def seed() -> None:
    """Load the demo catalogue and publish it in every province (idempotent)."""
    with cli_transaction() as session:
        provinces = [p.code for p in registry.provinces(session)]
        added = service.seed_catalogue(session, provinces)
    typer.echo(f"catalogue published in {len(provinces)} provinces: {added} rows added")


@services_app.command("import")
@reports_domain_errors
def import_file(path: Path = typer.Argument(..., help="JSON: a list of procedures, or "
                                                     "{\"agencies\": [...], \"procedures\": "
                                                     "[...]} (docs/services.md)")) -> None:
    """Add or update procedures (and agencies) by code; all or nothing."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise fail(f"cannot read JSON from {path}: {exc}") from None
    try:
        with cli_transaction() as session:
            provinces = [p.code for p in registry.provinces(session)]
            result = catalogue_import.import_catalogue(session, CLI_ACTOR, document, provinces)
    except Invalid as exc:
        raise _refused(exc) from exc
    typer.echo(f"agencies: {result.agencies_added} added, {result.agencies_updated} updated; "
               f"procedures: {result.procedures_added} added, {result.procedures_updated} "
               f"updated; {result.offerings_added} province offerings added")


@services_app.command("list")
@reports_domain_errors
def list_procedures(province: str | None = typer.Option(
        None, help="Only what this province offers, with its fees (e.g. 01).")) -> None:
    """The catalogue: code, online level, fees (counter / online, VND), working days, name."""
    with cli_transaction() as session:
        chosen = statistics.filters(session, None, None, province)
        listed = service.catalogue_for(session, chosen.province_code) \
            if chosen.province_code else service.national_catalogue(session)
        for offered in listed:
            found = offered.procedure
            typer.echo(f"{found.code:12} {found.online_level:8} {offered.fee:>8} "
                       f"{offered.online_fee:>8} {found.processing_days:>3}d  {found.name}")
    typer.echo(f"{len(listed)} procedures")


def _mapping(path: Path) -> dict[str, tuple[str, str]]:
    errors: list[FieldError] = []
    mapping: dict[str, tuple[str, str]] = {}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != MAPPING_COLUMNS:
                raise Invalid("mapping", "the first row must be: old_ward_code,"
                                         "new_province_code,new_ward_code")
            for line, row in enumerate(reader, start=2):
                old, province, ward = ((row.get(c) or "").strip() for c in MAPPING_COLUMNS)
                if not (old and province and ward) or old in mapping:
                    errors.append(FieldError(f"line {line}", "three codes, and each old ward "
                                                             "once"))
                mapping[old] = (province, ward)
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid("mapping", f"cannot read {path}: {exc}") from None
    if errors:
        raise Invalid.of_fields(errors)
    return mapping


@services_app.command("reroute")
@reports_domain_errors
def reroute(mapping: Path = typer.Option(..., help="CSV: old_ward_code,new_province_code,"
                                                   "new_ward_code"),
            reason: str = typer.Option(..., help="Recorded in each dossier's history.")) -> None:
    """Move open dossiers of abolished wards to the wards that absorbed them."""
    try:
        wards = _mapping(mapping)
        with cli_transaction() as session:
            moved = service.reroute_to_current_units(session, CLI_ACTOR, wards, reason)
    except Invalid as exc:
        raise _refused(exc) from exc
    typer.echo(f"{moved} dossiers re-routed from {len(wards)} abolished wards")


@services_app.command("reroute-legacy")
@reports_domain_errors
def reroute_legacy(ward_codes: list[str] = typer.Argument(..., help="Pre-2025 ward codes."),
                   reason: str = typer.Option(..., help="Recorded in each dossier's history.")
                   ) -> None:
    """Move open dossiers of abolished pre-2025 wards where the 2025 reform put them (the
    register's real old->new unit mapping)."""
    try:
        with cli_transaction() as session:
            moved = service.reroute_from_legacy_units(session, CLI_ACTOR, ward_codes, reason)
    except Invalid as exc:
        raise _refused(exc) from exc
    typer.echo(f"{moved} dossiers re-routed from {len(ward_codes)} abolished wards")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f} %"


def _rates(title: str, rates: list[statistics.OnlineRate]) -> None:
    typer.echo(f"\n{title}")
    for rate in rates:
        mark = "ok" if rate.meets_target else "  "
        typer.echo(f"  {_percent(rate.rate):>9} {mark} {rate.online:>8} online "
                   f"{rate.assisted:>8} assisted  {rate.name}")


@services_app.command("stats")
@reports_domain_errors
def stats(period_from: str | None = typer.Option(None, "--from", help="YYYY-MM-DD"),
          period_to: str | None = typer.Option(None, "--to", help="YYYY-MM-DD, inclusive"),
          province: str | None = typer.Option(None, help="Current province code, e.g. 01.")
          ) -> None:
    """The public statistics: online rate against the 80 % target, on time, overdue."""
    with cli_transaction() as session:
        chosen = statistics.filters_from_text(session, period_from, period_to, province)
        found = statistics.figures(session, chosen)
    national = found.national
    typer.echo(f"online dossier rate: {_percent(national.rate)} ({national.online} online, "
               f"{national.assisted} assisted; target {_percent(found.target)})")
    typer.echo(f"procedures fully online: {_percent(found.fully_online_share)} "
               f"({found.procedures_fully_online} of {found.procedures})")
    typer.echo(f"dossiers under a personal ID number: {_percent(found.personal_id_share)}")
    typer.echo(f"decided on time: {_percent(found.on_time_rate)} ({found.decided_on_time} of "
               f"{found.decided}); overdue now: {found.overdue}")
    typer.echo("by state: " + ", ".join(f"{k} {v}" for k, v in sorted(found.by_state.items())))
    _rates("by ministry", found.by_ministry)
    _rates("by province", found.by_province)
    _rates("by procedure", found.by_procedure)


@services_app.command("stats-rebuild")
def stats_rebuild() -> None:
    """Count the statistics' tallies again from the dossiers (after a bulk load that went
    around the services; every change through them is counted as it happens)."""
    with cli_transaction() as session:
        statistics.rebuild(session)
    typer.echo("statistics recounted from the dossiers")


@services_app.command("reconcile-payments")
def reconcile_payments() -> None:
    """Bring the payments table into agreement with the payment channel's statement after a
    crash (the worker does it every five minutes): charges nobody recorded are recorded against
    their draft or given back, pending payments settled or failed. Exits 1 on a disagreement
    it cannot settle by itself."""
    with cli_transaction() as session:
        done = reconciliation.reconcile_payments(session, treasury(get_settings()),
                                                 service.now())
    for title, items in (("settled", done.settled), ("refunded", done.refunded),
                         ("failed", done.failed)):
        for item in items:
            typer.echo(f"{title:9} {item}")
    typer.echo(f"payments reconciled: {done}")
    if done.disagreements:
        raise fail("\n".join(f"disagreement: {item}" for item in done.disagreements))


@services_app.command("demo")
def demo_dossiers(population: Path | None = typer.Option(
        None, help="The demo population CSV (default: the newest one `demo seed` wrote)."),
                  dossiers: int = typer.Option(400, min=1, help="How many dossiers.")) -> None:
    """Synthetic dossiers of the demo population, so the statistics show real figures."""
    with cli_transaction() as session:
        added = demo.seed_dossiers(session, demo_population(population), dossiers)
    typer.echo(f"{added} demo dossiers added")
