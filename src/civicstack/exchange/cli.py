"""`civicstack exchange ...`: members, agreements and the message log's check."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from civicstack.exchange import log, service
from civicstack.kit.cli_support import CLI_ACTOR, cli_transaction, fail, reports_domain_errors

exchange_app = typer.Typer(help="Government data exchange: members, agreements, the log.",
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


@exchange_app.command("verify-log")
def verify_log() -> None:
    """Recompute the message log's hash chain; exit 1 at the first broken link."""
    with cli_transaction() as session:
        report = log.verify(session)
    if not report.ok:
        raise fail(f"message log broken at message {report.first_bad_seq} "
                   f"({report.messages_checked} intact before it)")
    typer.echo(f"message log intact: {report.messages_checked} messages")
