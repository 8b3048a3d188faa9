"""`civicstack db|apikey|audit`: what operators type, what they see, and the exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicstack.cli import app
from civicstack.config import get_settings
from civicstack.kit import apikeys
from civicstack.kit.db import transaction
from civicstack.kit.errors import Unauthorized
from civicstack.kit.secrets import load_or_create_secret
from tests.integration.conftest import use_settings
from tests.support.tamper import bypass_triggers

runner = CliRunner()


def authenticates(factory: sessionmaker[Session], data_dir: Path, token: str) -> bool:
    with transaction(factory) as session:
        try:
            apikeys.authenticate(session, load_or_create_secret(data_dir, "apikey-pepper"), token)
        except Unauthorized:
            return False
    return True


def test_db_upgrade_builds_an_empty_database_and_is_idempotent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, "", tmp_path / "fresh")  # default: SQLite in the data dir
    first = runner.invoke(app, ["db", "upgrade"])
    second = runner.invoke(app, ["db", "upgrade"])
    get_settings.cache_clear()

    assert first.exit_code == 0, first.output
    assert "34 provinces, 3321 wards" in first.output
    assert second.exit_code == 0
    assert "34 provinces, 3321 wards" in second.output
    assert (tmp_path / "fresh" / "civicstack.db").exists()


def test_apikey_create_shows_a_working_token_once_and_revoke_kills_it(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    created = runner.invoke(app, ["apikey", "create", "hanoi-clerk", "--scope",
                                  "registry:read", "--province", "01"])
    token = created.output.strip()

    assert created.exit_code == 0
    assert token.startswith("csk_")
    assert authenticates(session_factory, data_dir, token)
    listed = runner.invoke(app, ["apikey", "list"])
    assert "hanoi-clerk\tregistry:read\t01\tactive" in listed.output
    assert token not in listed.output
    assert runner.invoke(app, ["apikey", "revoke", "hanoi-clerk"]).exit_code == 0
    assert not authenticates(session_factory, data_dir, token)


@pytest.mark.parametrize(("arguments", "message"), [
    (["apikey", "create", "x", "--scope", "registry:everything"], "choose from"),
    (["apikey", "revoke", "nobody"], "no API key named 'nobody'"),
])
def test_apikey_mistakes_exit_1_with_a_reason(data_dir: Path, arguments: list[str],
                                              message: str) -> None:
    result = runner.invoke(app, arguments)
    assert result.exit_code == 1
    assert message in result.output


def test_a_duplicate_key_name_is_refused(data_dir: Path) -> None:
    runner.invoke(app, ["apikey", "create", "twin", "--scope", "registry:read"])
    result = runner.invoke(app, ["apikey", "create", "twin", "--scope", "registry:read"])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_audit_verify_exits_1_naming_the_tampered_entry(data_dir: Path, engine: Engine) -> None:
    for name in ("a", "b", "c"):
        runner.invoke(app, ["apikey", "create", name, "--scope", "registry:read"])
    intact = runner.invoke(app, ["audit", "verify"])
    assert intact.exit_code == 0
    assert "audit chain intact: 3 entries verified" in intact.output

    bypass_triggers(engine, "UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 2")
    broken = runner.invoke(app, ["audit", "verify"])

    assert broken.exit_code == 1
    assert "audit chain BROKEN at entry 2" in broken.output
