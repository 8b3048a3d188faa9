"""`civicstack wallet ...`: the catalogue, issuing (one document, or an agency's CSV file),
grants, status changes, key rotation, the trust bundle, and offline verification."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from civicstack.config import get_settings
from civicstack.kit import keys
from civicstack.kit.audit import Actor
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    demo_population,
    fail,
    reports_domain_errors,
    secret_store,
    session_factory,
)
from civicstack.kit.db import transaction
from civicstack.kit.errors import DomainError, Invalid
from civicstack.wallet import service
from civicstack.wallet.demo import seed_wallets
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.offline import ReplayFile, read_bundle, verify_offline
from civicstack.wallet.site import ISSUER_ALGORITHMS, WalletSite, issuer_ring, wallet_site

wallet_app = typer.Typer(help="The document wallet (verifiable credentials).",
                         no_args_is_help=True)
# A retired issuer key keeps verifying what it signed until the longest-lived document expires.
KEEP_RETIRED_ISSUER_KEYS = timedelta(days=36_500)


@wallet_app.command("seed")
def seed() -> None:
    """Load the demo catalogue of issuing agencies and document types (idempotent)."""
    with cli_transaction() as session:
        added = service.seed_catalogue(session)
    typer.echo(f"catalogue loaded: {added} new issuers and document types")


@wallet_app.command("demo")
def demo(population: Path | None = typer.Option(
        None, help="The demo population CSV (default: the newest one `demo seed` wrote)."),
         people: int = typer.Option(300, min=1, help="How many adults get documents.")) -> None:
    """Load the catalogue and push synthetic agency documents into demo citizens' wallets."""
    issued = seed_wallets(session_factory(), wallet_site(get_settings(), secret_store()),
                          demo_population(population), people)
    typer.echo(f"{issued} demo documents issued into wallets")


@wallet_app.command("types")
def types() -> None:
    """Document types, their issuer, source and claims."""
    with cli_transaction() as session:
        issuers = {i.id: i.slug for i in service.issuers(session)}
        for document in service.document_types(session):
            claims = ", ".join(c["name"] for c in document.claims)
            typer.echo(f"{document.code:24} {issuers[document.issuer_id]:20} "
                       f"{document.source:8} v{document.schema_version}  {claims}")


def _cell(spec: dict[str, Any], text: str) -> Any:
    """A CSV cell as its claim's JSON type: lists and objects are written as JSON."""
    if text == "":
        return None
    if spec["type"] in ("array", "object"):
        try:
            return json.loads(text)
        except ValueError:
            raise Invalid(spec["name"], "must be JSON in the CSV cell") from None
    if spec["type"] == "integer":
        return int(text) if text.lstrip("-").isdigit() else text
    return text


def _claims(path: Path) -> dict[str, Any]:
    try:
        claims = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Invalid("claims", f"cannot read a JSON object from {path}: {exc}") from None
    if not isinstance(claims, dict):
        raise Invalid("claims", "the file must hold one JSON object of claims")
    return claims


Row = tuple[str, Callable[[], dict[str, Any]]]  # holder, and their claims once typed


def _rows(path: Path, specs: list[dict[str, Any]]) -> list[Row]:
    """Each row's claims are typed when issued, so a bad cell refuses its row only."""
    by_name = {spec["name"]: spec for spec in specs}

    def typed(row: dict[str, str]) -> Callable[[], dict[str, Any]]:
        return lambda: {name: _cell(by_name.get(name, {"name": name, "type": "string"}),
                                    value or "") for name, value in row.items()}
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "subject_id" not in reader.fieldnames:
                raise Invalid("csv", "the first row must name the columns: subject_id, then "
                                     "the document's claims")
            return [(row.pop("subject_id") or "", typed(row)) for row in reader]
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid("csv", f"cannot read {path}: {exc}") from None


@wallet_app.command("issue")
@reports_domain_errors
def issue(
    document_type: str = typer.Option(..., "--type", help="e.g. driving_licence"),
    subject: str | None = typer.Option(None, help="One holder's personal ID number."),
    claims_file: Path | None = typer.Option(None, "--claims", help="JSON object of claims."),
    csv_file: Path | None = typer.Option(None, "--csv",
                                         help="subject_id and one column per claim."),
) -> None:
    """Issue documents as the operator: register documents from the register (--subject), an
    agency's documents from a JSON file (--subject --claims) or a CSV file (--csv). Each CSV
    row is its own transaction; refused rows are listed and the exit code is 1."""
    settings = get_settings()
    site = wallet_site(settings, secret_store())
    with cli_transaction() as session:
        document = service.document_type(session, document_type)
        specs = list(document.claims)
        from_register = document.source == "register" and not (claims_file or csv_file)
    if csv_file:
        rows = _rows(csv_file, specs)
    elif subject and (claims_file or from_register):
        claims = _claims(claims_file) if claims_file else {}
        rows = [(subject, lambda: claims)]
    else:
        raise fail("give --subject (with --claims for an agency's document) or --csv")
    refused = _issue_rows(site, document_type, rows, from_register)
    typer.echo(f"issued {len(rows) - len(refused)} of {len(rows)} {document_type} documents")
    for line in refused:
        typer.secho(line, fg=typer.colors.RED, err=True)
    if refused:
        raise typer.Exit(1)


def _issue_rows(site: WalletSite, document_type: str, rows: list[Row],
                from_register: bool) -> list[str]:
    factory = session_factory()
    refused = []
    for number, (subject_id, claims) in enumerate(rows, start=2):  # row 1 is the header
        try:
            with transaction(factory) as session:
                if from_register:
                    service.issue_from_register(session, site, subject_id, document_type)
                else:
                    service.issue_credential(session, site, CLI_ACTOR, document_type,
                                             subject_id, claims())
        except DomainError as exc:
            reasons = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors) or exc.detail
            refused.append(f"row {number} ({subject_id}): {reasons}")
    return refused


@wallet_app.command("grant")
@reports_domain_errors
def grant(issuer: str = typer.Option(...),
          key: str | None = typer.Option(None, help="Operator API key name (civicstack apikey "
                                                    "create): it pushes documents and changes "
                                                    "their status"),
          official: str | None = typer.Option(None, help="Official's username: they change "
                                                         "the status of the issuer's documents"),
          ) -> None:
    """Let an agency's operator key, or an official, act for this issuer."""
    if (key is None) == (official is None):
        raise fail("name either --key or --official")
    grantee = Actor("apikey", key) if key is not None else Actor("official", str(official))
    with cli_transaction() as session:
        service.grant_issuer(session, CLI_ACTOR, issuer, grantee)
    typer.echo(f"{grantee} now acts for '{issuer}'")


@wallet_app.command("status")
@reports_domain_errors
def status(credential: str, to: str = typer.Option(..., "--set",
                                                   help="valid, suspended or revoked"),
           reason: str = typer.Option(...)) -> None:
    """Revoke, suspend or reinstate one document; its status list changes at once."""
    with cli_transaction() as session:
        changed = service.change_status(session, CLI_ACTOR, credential, to, reason)
    typer.echo(f"{changed.public_id}: {changed.status}")


@wallet_app.command("rotate-key")
@reports_domain_errors
def rotate_key(issuer: str) -> None:
    """A new signing key for the issuer; the old one stays published for verification."""
    with cli_transaction() as session:
        service.issuer(session, issuer)
    rotation = keys.rotate(secret_store(), issuer_ring(issuer), KEEP_RETIRED_ISSUER_KEYS,
                           ISSUER_ALGORITHMS)
    typer.echo(f"new key {', '.join(rotation.new_kids)}; retired "
               f"{', '.join(rotation.retired_kids) or 'none'}")


@wallet_app.command("trust-bundle")
def trust_bundle(out: Path = typer.Option(Path("trust-bundle.json"), help="Where to write.")
                 ) -> None:
    """Issuer keys and status lists for offline verifiers (refresh at least daily)."""
    with cli_transaction() as session:
        bundle = service.trust_bundle(session, wallet_site(get_settings(), secret_store()))
    out.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    typer.echo(f"wrote {out} ({len(bundle['issuers'])} issuers, "
               f"{len(bundle['status_lists'])} status lists)")


@wallet_app.command("verify")
def verify(
    presentation: Path = typer.Argument(..., help="A file with the QR code's text, or -"),
    bundle: Path = typer.Option(Path("trust-bundle.json"), help="From `wallet trust-bundle`."),
    seen: Path | None = typer.Option(None, help="Replay file: refuse what was shown before."),
) -> None:
    """Check an in-person presentation offline (the text under the QR code, `VN1:...`, or
    raw SD-JWT text) and print what was disclosed."""
    try:
        text = sys.stdin.read() if str(presentation) == "-" else presentation.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read the presentation {presentation}: {exc}") from exc
    try:
        verified = verify_offline(text, read_bundle(bundle), int(time.time()),
                                  ReplayFile(seen) if seen else None)
    except PresentationRefused as refused:
        raise fail(f"refused: {refused.reason}") from refused
    typer.echo(f"verified: {verified.vct} from {verified.issuer}")
    for name, value in verified.claims.items():
        typer.echo(f"  {name}: {json.dumps(value, ensure_ascii=False)}")
    typer.echo(f"  ({verified.withheld} claims not disclosed)")
