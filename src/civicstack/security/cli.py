"""`civicstack security ...`: verify the logs' hash chains and list open alerts, for cron and
operators (the running server also verifies periodically and evaluates alerts each minute)."""

from __future__ import annotations

import typer

from civicstack.config import get_settings
from civicstack.kit.cli_support import cli_transaction, fail
from civicstack.kit.db import as_utc
from civicstack.kit.transparency import publishing_from
from civicstack.security import service

security_app = typer.Typer(help="Security monitoring: hash-chain verification and alerts.",
                           no_args_is_help=True)


@security_app.command("verify-chains")
def verify_chains() -> None:
    """Check the audit log and the exchange's message log against their witnessed checkpoints,
    and record the result; exit 1 if either is broken."""
    with cli_transaction() as session:
        checks = service.verify_chains(session, publishing_from(get_settings()), service.now())
    broken = [check for check in checks if not check.intact]
    for check in checks:
        state = "intact" if check.intact else f"BROKEN at {check.first_bad_seq}: {check.reason}"
        typer.echo(f"{check.log}: {state} ({check.entries_checked} entries checked, "
                   f"{check.duration_ms} ms)")
    if broken:
        raise fail(f"{len(broken)} log(s) broken")


@security_app.command("alerts")
def alerts() -> None:
    """List the open security alerts; exit 1 while any is open."""
    with cli_transaction() as session:
        lines = [f"{alert.kind}: {alert.observed} (threshold {alert.threshold}), raised "
                 f"{as_utc(alert.raised_at):%Y-%m-%d %H:%M} UTC"
                 for alert in service.open_alerts(session)]
    for line in lines:
        typer.echo(line)
    if lines:
        raise fail(f"{len(lines)} security alert(s) open")
    typer.echo("no security alert open")
