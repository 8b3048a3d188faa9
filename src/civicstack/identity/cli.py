"""`civicstack official ...`: officials' console accounts, managed from the shell (the first
national admin is made here)."""

from __future__ import annotations

import os

import typer

from civicstack.identity import officials
from civicstack.kit.authz import Role
from civicstack.kit.cli_support import CLI_ACTOR, cli_transaction, one_scope, reports_domain_errors
from civicstack.registry import service as registry

official_app = typer.Typer(help="Officials' console accounts.", no_args_is_help=True)
PASSWORD_ENV = "CIVICSTACK_OFFICIAL_PASSWORD"  # noqa: S105 - a variable name, not a password


@official_app.command("add")
@reports_domain_errors
def official_add(
    username: str = typer.Option(..., help="Sign-in name: lower-case letters, digits, . _ -"),
    name: str = typer.Option(..., help="The official's full name."),
    role: Role = typer.Option(..., help="What the official may do (docs/officials.md)."),
    province: str | None = typer.Option(None, help="Scope: this province (e.g. 01)."),
    ward: str | None = typer.Option(None, help="Scope: this ward (e.g. 00004)."),
    national: bool = typer.Option(False, "--national", help="Scope: the whole country."),
    prompt_password: bool = typer.Option(
        False, "--prompt-password",
        help=f"Type the initial password instead of generating one (or set {PASSWORD_ENV})."),
) -> None:
    """Create an official. Prints a generated initial password once, unless one is typed or
    given in the environment; at the first sign-in the official enrols an authenticator app
    and replaces that password with their own."""
    given = os.environ.get(PASSWORD_ENV) or (
        typer.prompt("Initial password", hide_input=True, confirmation_prompt=True)
        if prompt_password else None)
    password = given or officials.initial_password()
    with cli_transaction() as session:
        scope = registry.scope_for(session, **one_scope(province, ward, national))
        officials.create(session, CLI_ACTOR, officials.NewOfficial(
            username, name, role, scope, password))
    typer.echo(f"created {username} ({role.value}, {scope})")
    if not given:
        typer.echo(f"initial password (shown once, hand it over in person): {password}")


@official_app.command("list")
def official_list() -> None:
    with cli_transaction() as session:
        for official in officials.officials_in_scope(session, CLI_ACTOR):
            second = "authenticator enrolled" if official.totp_enrolled_at else "not enrolled"
            typer.echo(f"{official.username}\t{official.full_name}\t{official.role.value}\t"
                       f"{official.scope}\t{official.status}\t{second}")


@official_app.command("disable")
@reports_domain_errors
def official_disable(username: str) -> None:
    """Stop the official signing in; their console sessions end at once."""
    with cli_transaction() as session:
        officials.disable(session, CLI_ACTOR, username)
    typer.echo(f"disabled {username}")


@official_app.command("reset-2fa")
@reports_domain_errors
def official_reset_second_factor(username: str) -> None:
    """Forget the official's authenticator (a lost phone): they enrol a new one at next sign-in."""
    with cli_transaction() as session:
        officials.reset_second_factor(session, CLI_ACTOR, username)
    typer.echo(f"second factor reset for {username}: a new authenticator is enrolled at the "
               "next sign-in")


@official_app.command("reset-password")
@reports_domain_errors
def official_reset_password(username: str) -> None:
    """A forgotten password: prints a new one-time password to hand over in person; the old
    one stops working and the official chooses their own at the next sign-in."""
    with cli_transaction() as session:
        password = officials.reset_password(session, CLI_ACTOR, username)
    typer.echo(f"password reset for {username}; one-time password (shown once, hand it over "
               f"in person): {password}")
