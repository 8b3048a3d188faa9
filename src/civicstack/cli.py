"""The `civicstack` command: database, audit log, root key and stored secrets, operator keys,
officials, register, demo."""

from __future__ import annotations

import csv
import os
import secrets
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from civicstack.audit_cli import audit_app
from civicstack.biometrics import service as biometrics
from civicstack.config import Settings, get_settings
from civicstack.domains import install_all
from civicstack.identity.demo import (
    DEMO_CITIZENS_FILE,
    DEMO_WARDS,
    EMPLOYEE,
    REPRESENTATIVE,
    ensure_demo_citizens,
    ensure_demo_officials,
)
from civicstack.identity.passwords import share_cores_among
from civicstack.identity.photos import PhotoVault
from civicstack.kit import apikeys, migrate
from civicstack.kit.appservices import PEPPER, TOTP_KEY
from civicstack.kit.authz import Role
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    fail,
    one_scope,
    reports_domain_errors,
    secret_store,
    session_factory,
)
from civicstack.kit.delivery import channels_from
from civicstack.kit.errors import NotFound
from civicstack.kit.installing import Installer
from civicstack.kit.keyprovider import RootKeyRefused
from civicstack.kit.keys_cli import keys_app
from civicstack.kit.outbox import (
    RetryPolicy,
    dispatch_pending,
    failed_messages,
    retry_failed,
)
from civicstack.kit.private_files import private_folder
from civicstack.registry import service as registry
from civicstack.registry.cli import seed_demo_population
from civicstack.registry.units import sync_reference_units
from civicstack.wallet.demo import Representative, seed_organisations
from civicstack.wallet.site import wallet_site
from civicstack.worker import run_worker_process

DEMO_KEY_FILE = "demo-operator-key.txt"
# A new serving worker imports every domain before it answers uvicorn's health checks: 5 s,
# uvicorn's default, is less than that takes on a busy machine, and the supervisor would kill
# and restart it for ever. A hung worker is replaced after this long instead.
WORKER_STARTUP_S = 30

# Locals in tracebacks could print tokens or personal data to a terminal or CI log.
app = typer.Typer(help="CivicStack operator commands.", no_args_is_help=True,
                  pretty_exceptions_show_locals=False)
db_app = typer.Typer(help="Database schema and reference data.", no_args_is_help=True)
apikey_app = typer.Typer(help="Operator API keys.", no_args_is_help=True)
outbox_app = typer.Typer(help="Messages waiting to be sent.", no_args_is_help=True)
demo_app = typer.Typer(help="Synthetic demo data.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(apikey_app, name="apikey")
app.add_typer(outbox_app, name="outbox")
app.add_typer(demo_app, name="demo")
app.add_typer(keys_app, name="keys")  # the OpenID provider adds its `keys rotate`
install_all(Installer(get_settings(), cli=app))  # each domain's command group


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations, then load any missing administrative units."""
    settings = get_settings()
    private_folder(settings.data_dir)
    migrate.upgrade(settings.resolved_database_url, revision)
    if revision == "head":
        secret_store()  # every instance's secrets and signing keys, made before anything runs
    with cli_transaction() as session:
        counts = sync_reference_units(session)
    typer.echo(f"schema at {revision}; units: {counts.provinces} provinces, {counts.wards} wards, "
               f"{counts.legacy_wards} legacy wards mapped ({counts.legacy_wards_unmapped} "
               "without a ward-level successor)")


@apikey_app.command("create")
@reports_domain_errors
def apikey_create(
    name: str,
    role: Role = typer.Option(..., help="What the key may do (docs/officials.md)."),
    province: str | None = typer.Option(None, help="Scope: this province (e.g. 01)."),
    ward: str | None = typer.Option(None, help="Scope: this ward (e.g. 00004)."),
    national: bool = typer.Option(False, "--national", help="Scope: the whole country."),
) -> None:
    """Create a key; the token is shown once and stored only as a keyed hash."""
    pepper = secret_store().secret("apikey-pepper")
    with cli_transaction() as session:
        scope = registry.scope_for(session, **one_scope(province, ward, national))
        issued = apikeys.create_key(session, pepper, name, role, scope)
    typer.echo(issued.token)


@apikey_app.command("list")
def apikey_list() -> None:
    with cli_transaction() as session:
        for key in apikeys.list_keys(session):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            typer.echo(f"{key.name}\t{key.role.value}\t{key.scope}\t{state}")


@apikey_app.command("revoke")
@reports_domain_errors
def apikey_revoke(name: str) -> None:
    with cli_transaction() as session:
        apikeys.revoke_key(session, name)
    typer.echo(f"revoked {name}")


@outbox_app.command("dispatch")
def outbox_dispatch(limit: int = typer.Option(1000, min=1)) -> None:
    """Deliver the pending messages that are due now, through the configured channels."""
    settings = get_settings()
    delivered = dispatch_pending(session_factory(), channels_from(settings),
                                 RetryPolicy.from_settings(settings), limit)
    typer.echo(f"{delivered} messages delivered")


@outbox_app.command("failed")
def outbox_failed(limit: int = typer.Option(100, min=1)) -> None:
    """The messages no attempt could deliver, newest first: id, kind, recipient, error."""
    with cli_transaction() as session:
        for message in failed_messages(session, limit):
            typer.echo(f"{message.id}\t{message.channel}\t{message.recipient}\t"
                       f"{message.attempts} attempts\t{message.last_error}")


@outbox_app.command("retry")
@reports_domain_errors
def outbox_retry(message_id: int) -> None:
    """Send a failed message again (the gateway repaired, the address corrected)."""
    with cli_transaction() as session:
        if not retry_failed(session, message_id):
            raise NotFound(f"no failed message {message_id}")
    typer.echo(f"message {message_id} queued again")


@app.command("worker")
def worker() -> None:
    """Run the background jobs (outbox delivery, purges, alerts, reconciliation) until
    SIGTERM. Any number may run, on any machines: each job takes care of the others."""
    run_worker_process(get_settings())


# Here, above the domains, because the seed spans them: the register's population, then an
# operator key and identity's demo officials, whom later demos (monitoring's) expect.
@demo_app.command("seed")
def demo_seed(
    people: int = typer.Option(2000, min=1, max=5_000_000),
    seed: int = typer.Option(1, help="Same seed, same population."),
) -> None:
    """Load a synthetic population; write a demo API key, demo officials' passwords and demo
    citizens' sign-ins; register the demo organisations of some of those citizens."""
    population = seed_demo_population(people, seed, DEMO_WARDS)
    data_dir = get_settings().data_dir
    key_path = _ensure_demo_key(data_dir)
    typer.echo(f"demo operator key for the JSON API (/api/v1): {key_path}")
    with cli_transaction() as session:
        officials_path = ensure_demo_officials(session, CLI_ACTOR, data_dir)
    typer.echo(f"demo officials for /console/login (usernames and passwords): {officials_path}")
    store = secret_store()
    with population.open(encoding="utf-8", newline="") as handle:
        citizens = ensure_demo_citizens(session_factory(), store.secret(PEPPER),
                                        PhotoVault.of(store), store.secret(TOTP_KEY),
                                        biometrics.held_cases, data_dir,
                                        csv.DictReader(handle))
    typer.echo(f"demo citizens for /account/login (ID numbers, passwords, TOTP secrets): "
               f"{data_dir / DEMO_CITIZENS_FILE}")
    employees = [c.personal_id_number for c in citizens if c.part == EMPLOYEE]
    representatives = [Representative(c.personal_id_number, c.full_name, c.totp_secret,
                                      employees[0] if employees else None)
                       for c in citizens if c.part == REPRESENTATIVE]
    made = seed_organisations(session_factory(), wallet_site(get_settings(), store),
                              store.secret(TOTP_KEY), DEMO_WARDS[0], representatives)
    typer.echo(f"{made} demo organisations registered, with staff and business documents")


def _ensure_demo_key(data_dir: Path) -> Path:
    """A national admin key for trying the JSON API; kept across re-seeds, owner-only."""
    path = data_dir / DEMO_KEY_FILE
    if path.exists():
        return path
    pepper = secret_store().secret("apikey-pepper")
    with cli_transaction() as session:
        issued = apikeys.create_key(session, pepper, f"demo-operator-{secrets.token_hex(3)}",
                                    Role.ADMIN)
    path.touch(mode=0o600)
    path.write_text(issued.token + "\n")
    return path


@app.command("serve")
def serve(
    host: str = "127.0.0.1", port: int = 8000,
    workers: int = typer.Option(1, min=1, max=64, help="Processes serving requests (about one "
                                                      "per core); a dead one is replaced."),
    forwarded_allow_ips: str | None = typer.Option(
        None, help="Reverse proxies whose X-Forwarded-For is believed (comma-separated "
                   "addresses or networks) [default: CIVICSTACK_TRUSTED_PROXIES]."),
) -> None:
    """Serve the portal, console and API. On SIGTERM, requests in flight get
    CIVICSTACK_SHUTDOWN_TIMEOUT_S to finish."""
    import uvicorn

    if forwarded_allow_ips is not None:
        # One setting for uvicorn and for the app's own client_address(), in every worker.
        os.environ["CIVICSTACK_TRUSTED_PROXIES"] = forwarded_allow_ips
        get_settings.cache_clear()
    share_cores_among(workers)  # the workers inherit the environment
    settings = get_settings()
    uvicorn.run("civicstack.app:create_app", factory=True, host=host, port=port,
                workers=workers, timeout_graceful_shutdown=settings.shutdown_timeout_s,
                timeout_worker_healthcheck=WORKER_STARTUP_S,
                log_config=None, access_log=False, **proxy_options(settings))


def proxy_options(settings: Settings) -> dict[str, Any]:
    """Uvicorn would otherwise believe X-Forwarded-For and -Proto from 127.0.0.1, whatever the
    deployment: which proxies are believed is our setting, and an empty one believes none."""
    proxies = [str(network) for network in settings.trusted_proxies]
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}


def main() -> None:
    """The `civicstack` command: the Typer app, with an unreachable database (where, and what
    the driver said) or a refused root key reported in one line instead of a traceback."""
    try:
        app()
    except RootKeyRefused as exc:
        raise SystemExit(fail(f"error: {exc}", 2).exit_code) from None
    except OperationalError as exc:
        url = make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise SystemExit(fail(f"error: cannot reach the database at {url}: {reason}", 2)
                         .exit_code) from None


if __name__ == "__main__":
    main()
