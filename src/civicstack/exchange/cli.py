"""`civicstack exchange ...`: members, agreements, published datasets, data-quality checks and
the message log's check."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from civicstack.config import get_settings
from civicstack.exchange import datasets, quality, service
from civicstack.exchange.demo import seed_exchange
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    demo_population,
    fail,
    reports_domain_errors,
    secret_store,
)
from civicstack.kit.transparency import publishing_from

exchange_app = typer.Typer(help="Government data exchange: members, agreements, datasets, "
                                "quality, the log.",
                           no_args_is_help=True)


@exchange_app.command("add-member")
@reports_domain_errors
def add_member(code: str, name: str = typer.Option(...),
               kind: str = typer.Option(..., help="ministry, province or system"),
               jwks: Path = typer.Option(..., exists=True, dir_okay=False,
                                         help="The member's public keys (JWK set, JSON).")) -> None:
    """Register a member system by its public keys."""
    with cli_transaction() as session:
        service.register_member(session, CLI_ACTOR, code, name, kind,
                                json.loads(jwks.read_text(encoding="utf-8")))
    typer.echo(f"member {code} registered")


@exchange_app.command("add-agreement")
@reports_domain_errors
def add_agreement(consumer: str, dataset: str = typer.Option(...),
                  fields: str = typer.Option(..., help="Comma-separated field names."),
                  purpose: str = typer.Option(...), legal_basis: str = typer.Option(...),
                  valid_from: str = typer.Option(...), valid_to: str = typer.Option(...)) -> None:
    """Let a member read some fields of a dataset, for one purpose, for a while."""
    with cli_transaction() as session:
        agreement = service.add_agreement(session, CLI_ACTOR, service.NewAgreement(
            consumer, dataset, tuple(f.strip() for f in fields.split(",") if f.strip()),
            purpose, legal_basis, date.fromisoformat(valid_from), date.fromisoformat(valid_to)))
    typer.echo(f"agreement {agreement.id}: {consumer} may read {dataset} ({fields})")


@exchange_app.command("suspend-member")
@reports_domain_errors
def suspend_member(code: str) -> None:
    """Refuse the member's assertions, and every read of its datasets, from now on."""
    with cli_transaction() as session:
        service.suspend_member(session, CLI_ACTOR, code)
    typer.echo(f"member {code} suspended")


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


@exchange_app.command("publish-dataset")
@reports_domain_errors
def publish_dataset(code: str, provider: str = typer.Option(...), title: str = typer.Option(...),
                    fields: str = typer.Option(..., help="Comma-separated field names."),
                    required: str = typer.Option("", help="Fields every record must fill.")
                    ) -> None:
    """Declare a dataset a member publishes through the exchange."""
    with cli_transaction() as session:
        datasets.publish(session, CLI_ACTOR, datasets.NewDataset(
            provider, code, title, _names(fields), _names(required)))
    typer.echo(f"dataset {code} published by {provider}")


@exchange_app.command("upload")
@reports_domain_errors
def upload(code: str, records: Path = typer.Argument(..., exists=True, dir_okay=False,
                                                     help="CSV with a header row, or JSON."),
           provider: str = typer.Option(...)) -> None:
    """Replace a published dataset's records with a file's."""
    text = records.read_text(encoding="utf-8")
    rows = datasets.rows_from_json(text) if records.suffix.lower() == ".json" \
        else datasets.rows_from_csv(text)
    with cli_transaction() as session:
        count = datasets.upload(session, CLI_ACTOR, provider, code, rows)
    typer.echo(f"{count} records of {code} uploaded")


@exchange_app.command("quality-check")
@reports_domain_errors
def quality_check(member: str | None = typer.Option(None, help="Only this member's datasets.")
                  ) -> None:
    """Check published datasets against the population register and store a report each."""
    with cli_transaction() as session:
        reports = quality.check_all(session, CLI_ACTOR, member)
        lines = [f"{d}: {r.records} records, {r.complete} complete, {r.valid_ids} valid ID "
                 f"numbers, {r.names_matching} names matching, {r.fresh} fresh "
                 f"(report {r.id})" for d, r in reports]
    typer.echo("\n".join(lines) or "no published dataset to check")


@exchange_app.command("verify-log")
def verify_log() -> None:
    """Check the messages sealed since the last check against the witnessed checkpoint; exit 1
    if any differs."""
    with cli_transaction() as session:
        report = service.verify_log(session, publishing_from(get_settings()))
    if not report.ok:
        raise fail(f"message log broken at message {report.first_bad_seq}: {report.reason} "
                   f"({report.entries_checked} intact before it)")
    typer.echo(f"message log intact: {report.entries_checked} new messages verified")


@exchange_app.command("demo")
@reports_domain_errors
def demo(population: Path | None = typer.Option(
        None, help="The demo population CSV (default: the newest one `demo seed` wrote).")
         ) -> None:
    """Demo members, datasets, agreements and requests, so the readiness ranking has figures."""
    signer = service.key_ring(secret_store()).signing_key(service.SIGNING_ALGORITHM)
    with cli_transaction() as session:
        seeded = seed_exchange(session, CLI_ACTOR, signer, demo_population(population))
    if seeded is None:
        typer.echo("the demo exchange members exist already: nothing added")
        return
    typer.echo(f"{seeded.members} demo members, {seeded.agreements} agreements, "
               f"{seeded.answered} requests answered and {seeded.refused} refused")
