"""`civicstack support ...`: escalate late tickets, scan eID accounts for clean-up, manage
queues and routing rules, and seed the demo."""

from __future__ import annotations

from pathlib import Path

import typer

from civicstack.kit.authz import Permission
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    demo_population,
    reports_domain_errors,
)
from civicstack.support import cleanup, demo, routing, service

support_app = typer.Typer(help="Citizen support: escalation, account clean-up, routing.",
                          no_args_is_help=True)


@support_app.command("escalate")
def escalate() -> None:
    """Escalate every ticket that missed a target since the last run (safe to repeat)."""
    with cli_transaction() as session:
        done = service.escalate_late(session, CLI_ACTOR)
    for step in done:
        typer.echo(f"ticket {step.ticket_id}: {step.target.value} missed, level {step.level}")
    typer.echo(f"{len(done)} escalation(s)")


@support_app.command("cleanup-scan")
@reports_domain_errors
def cleanup_scan(inactive_months: int = typer.Option(
        cleanup.INACTIVE_MONTHS, help="No sign-in for this many months counts as inactive.")
) -> None:
    """Propose inactive and duplicated eID accounts for review (a death closes the account
    by itself: `civicstack support life-events-check`)."""
    with cli_transaction() as session:
        found = cleanup.scan(session, CLI_ACTOR, inactive_months)
    typer.echo(f"proposed: {found.inactive} inactive, {found.duplicate} duplicated")


@support_app.command("life-events-check")
@reports_domain_errors
def life_events_check() -> None:
    """Announce again the death of any holder whose eID account is still active (the job
    `life_events_check` does it every hour)."""
    with cli_transaction() as session:
        repaired = cleanup.repair_deaths_not_acted_on(session)
    for number in repaired:
        typer.echo(f"{number}: death announced again")
    typer.echo(f"{len(repaired)} death(s) not acted on")


@support_app.command("queue")
@reports_domain_errors
def save_queue(code: str, name: str = typer.Option(...),
               lead: str = typer.Option(..., help="Email of the queue's lead (escalations)."),
               auditors: bool = typer.Option(False, help="Worked by auditors (audit:read)."),
               province: str | None = typer.Option(None), ward: str | None = typer.Option(None),
               ) -> None:
    """Add or update a queue; without --province or --ward it is national."""
    permission = Permission.AUDIT_READ if auditors else Permission.SUPPORT_HANDLE
    with cli_transaction() as session:
        routing.save_queue(session, CLI_ACTOR, code, name, permission, lead,
                           province_code=province, ward_code=ward)
    typer.echo(f"queue {code} saved")


@support_app.command("rule")
@reports_domain_errors
def save_rule(queue: str, topic: str | None = typer.Option(None, help="Default: any topic."),
              province: str | None = typer.Option(None), ward: str | None = typer.Option(None),
              ) -> None:
    """Route tickets of a topic and place to a queue (the most specific rule wins)."""
    with cli_transaction() as session:
        routing.save_rule(session, CLI_ACTOR, queue, topic=topic, province_code=province,
                          ward_code=ward)
    typer.echo(f"rule saved: {topic or 'any topic'} in {ward or province or 'anywhere'} "
               f"-> {queue}")


@support_app.command("demo")
@reports_domain_errors
def seed_demo(population: Path | None = typer.Option(
        None, help="The demo population CSV (default: the newest one `demo seed` wrote).")
) -> None:
    """The Hà Nội queue (hotline.hanoi works it) and a few demo tickets."""
    with cli_transaction() as session:
        added = demo.seed(session, CLI_ACTOR, demo_population(population))
    typer.echo(f"support demo: {added} tickets added")
