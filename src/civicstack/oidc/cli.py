"""`civicstack oidc client ...` (relying parties) and `civicstack keys rotate` (the provider's
signing keys)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import typer

from civicstack.config import get_settings
from civicstack.kit import keys
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    reports_domain_errors,
    secret_store,
)
from civicstack.kit.errors import Invalid
from civicstack.kit.keys_cli import keys_app
from civicstack.oidc import clients
from civicstack.oidc.demo_rp import MOUNT, register_demo_bank
from civicstack.oidc.protocol import ID_TOKEN_LIFETIME

oidc_app = typer.Typer(help="The OpenID Connect provider.", no_args_is_help=True)
client_app = typer.Typer(help="Relying parties (clients).", no_args_is_help=True)
oidc_app.add_typer(client_app, name="client")

# Retired keys stay published well beyond the ID tokens they signed: relying parties cache the
# JWKS, and logout hints arrive with old tokens.
KEEP_RETIRED_KEYS = max(ID_TOKEN_LIFETIME * 6, timedelta(days=1))


def _read_jwks(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        found: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise Invalid("jwks", f"cannot read a JSON JWK set from {path}: {exc}") from None
    return found


@client_app.command("add")
@reports_domain_errors
def client_add(
    name: str,
    redirect_uri: list[str] = typer.Option(..., "--redirect-uri", help="Exact match, repeatable."),
    scope: list[str] = typer.Option(["openid", "profile"], "--scope",
                                    help="openid profile address phone national_id "
                                         "offline_access"),
    acr: list[str] = typer.Option(["urn:civicstack:loa:1"], "--acr",
                                  help="Levels of assurance the client may ask for."),
    auth_method: str = typer.Option("client_secret_basic",
                                    help="client_secret_basic or private_key_jwt"),
    jwks_file: Path | None = typer.Option(None, help="Public JWK set, for private_key_jwt."),
    post_logout_redirect_uri: list[str] = typer.Option([], "--post-logout-redirect-uri"),
    sector: str = typer.Option("", help="Sector identifier for pairwise subjects "
                                        "(default: the first redirect URI's host)."),
    id_token_alg: str = typer.Option("ES256", help="ES256 or RS256"),
    backchannel_logout_uri: str = typer.Option(
        "", help="Where logout tokens are posted when a citizen's session ends."),
    backchannel_logout_session_required: bool = typer.Option(
        False, help="The party needs the session's sid in logout tokens."),
    frontchannel_logout_uri: str = typer.Option(
        "", help="Loaded in a frame on the citizen's sign-out page."),
    frontchannel_logout_session_required: bool = typer.Option(
        False, help="Add iss and sid to the front-channel logout URI."),
) -> None:
    """Register a relying party; prints its client_id and, for secret clients, the secret
    (shown once, stored only as a keyed digest)."""
    pepper = secret_store().secret("apikey-pepper")
    with cli_transaction() as session:
        registered = clients.register_client(session, CLI_ACTOR, pepper, clients.NewClient(
            name=name, redirect_uris=tuple(redirect_uri), auth_method=auth_method,
            jwks=_read_jwks(jwks_file), scopes=tuple(scope), acr_values=tuple(acr),
            post_logout_redirect_uris=tuple(post_logout_redirect_uri),
            sector_identifier=sector, id_token_alg=id_token_alg,
            backchannel_logout_uri=backchannel_logout_uri,
            backchannel_logout_session_required=backchannel_logout_session_required,
            frontchannel_logout_uri=frontchannel_logout_uri,
            frontchannel_logout_session_required=frontchannel_logout_session_required))
    typer.echo(f"client_id: {registered.client_id}")
    if registered.client_secret:
        typer.echo(f"client_secret: {registered.client_secret}")


@oidc_app.command("demo-bank")
def demo_bank_client() -> None:
    """Register the demo bank (served at /demo/bank by `make demo`) as a relying party."""
    settings = get_settings()
    pepper = secret_store().secret("apikey-pepper")
    with cli_transaction() as session:
        path = register_demo_bank(session, CLI_ACTOR, pepper, settings.data_dir, settings.issuer)
    typer.echo(f"demo bank registered: {settings.issuer}{MOUNT}/ (credentials in {path})")


@client_app.command("list")
def client_list() -> None:
    with cli_transaction() as session:
        for client in clients.list_clients(session, CLI_ACTOR):
            state = f"disabled {client.disabled_at:%Y-%m-%d}" if client.disabled_at else "active"
            typer.echo(f"{client.client_id}\t{client.name}\t{client.auth_method}\t"
                       f"{client.scopes}\t{' '.join(client.redirect_uris)}\t{state}")


@client_app.command("disable")
@reports_domain_errors
def client_disable(client_id: str) -> None:
    """Stop a relying party at once: no new sign-ins, its tokens no longer work."""
    with cli_transaction() as session:
        clients.disable_client(session, CLI_ACTOR, client_id)
    typer.echo(f"disabled {client_id}")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """New signing keys; old ones stop signing but stay in the JWKS until their tokens expire."""
    rotation = keys.rotate(secret_store(), keys.OIDC_RING, KEEP_RETIRED_KEYS)
    typer.echo(f"new keys: {', '.join(rotation.new_kids)}")
    typer.echo(f"retired (still published): {', '.join(rotation.retired_kids) or 'none'}")
    if rotation.removed_kids:
        typer.echo(f"removed (expired): {', '.join(rotation.removed_kids)}")
