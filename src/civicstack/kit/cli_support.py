"""What every CLI command needs: settings, a transaction, and errors turned into exit codes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import ParamSpec, TypeVar

import typer
from sqlalchemy.orm import Session, sessionmaker

from civicstack.config import get_settings
from civicstack.kit.appservices import open_secret_store
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.secrets import SecretStore

# Whoever runs the CLI holds the database and its secrets already: a national admin.
CLI_ACTOR = Actor("cli", "operator", NATIONAL, Role.ADMIN)
P = ParamSpec("P")
R = TypeVar("R")


def session_factory() -> sessionmaker[Session]:
    return make_session_factory(make_engine(get_settings().resolved_database_url))


def secret_store() -> SecretStore:
    """The deployment's stored secrets and signing keys, as the servers see them."""
    return open_secret_store(get_settings(), session_factory())


@contextmanager
def cli_transaction() -> Iterator[Session]:
    with transaction(session_factory()) as session:
        yield session


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def reports_domain_errors(command: Callable[P, R]) -> Callable[P, R]:
    """A refused operation prints its reason and exits 1 instead of a traceback."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except DomainError as exc:
            raise fail(f"error: {exc.detail}") from exc

    return wrapper


def one_scope(province: str | None, ward: str | None, national: bool) -> dict[str, str | None]:
    """The scope options (--province / --ward / --national) as registry.service.scope_for's
    arguments; exactly one must be given, so nobody gets national scope by forgetting one."""
    if sum((province is not None, ward is not None, national)) != 1:
        raise Invalid("scope", "give exactly one of --province CODE, --ward CODE or --national")
    return {"province_code": province, "ward_code": ward}


def demo_population(given: Path | None) -> Path:
    """The population CSV a demo command reads: the one given, or the newest one that
    `demo seed` wrote (not its file of refused rows)."""
    written = [path for path in get_settings().data_dir.glob("demo-population-*.csv")
               if not path.name.endswith(".rejects.csv")]
    source = given or max(written, key=lambda path: path.stat().st_mtime, default=None)
    if source is None:
        raise fail("no demo population: run `civicstack demo seed` first")
    return source
