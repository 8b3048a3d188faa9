"""`civicstack official ...` and the migration that gave operator keys a role and a scope."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import officials
from civicstack.identity.models import OfficialAccount
from civicstack.identity.service import UnknownIdentifiers
from civicstack.kit.audit import AuditEntry
from civicstack.kit.db import make_engine, transaction
from civicstack.kit.migrate import downgrade, upgrade
from civicstack.kit.throwaway_pg import RunningPostgres
from tests.integration.test_cli import civicstack
from tests.support.officials import OFFICIAL_PASSWORD


def test_official_add_prints_a_one_time_password_that_signs_in(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    result = civicstack("official", "add", "--username", "police.hanoi", "--name",
                        "Lê Văn Hùng", "--role", "police", "--province", "01")
    assert result.exit_code == 0, result.output
    assert "created police.hanoi (police, province 01)" in result.output
    password = result.output.split("in person): ")[1].strip()
    with transaction(session_factory) as session:
        assert officials.check_password(session, UnknownIdentifiers(), "police.hanoi",
                                        password).outcome == \
            officials.PasswordOutcome.NEEDS_ENROLMENT
    [entry] = [e for e in _audit(session_factory) if e.action == "identity.official.create"]
    assert (entry.actor, entry.subject_id) == ("cli:operator", "police.hanoi")


def test_official_add_takes_the_password_from_the_environment(
        data_dir: Path, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICSTACK_OFFICIAL_PASSWORD", OFFICIAL_PASSWORD)
    result = civicstack("official", "add", "--username", "clerk.badinh", "--name",
                        "Phạm Thị Lan", "--role", "service_clerk", "--ward", "00004")
    assert result.exit_code == 0, result.output
    assert OFFICIAL_PASSWORD not in result.output
    assert "ward 00004" in result.output
    with transaction(session_factory) as session:
        assert officials.check_password(session, UnknownIdentifiers(), "clerk.badinh",
                                        OFFICIAL_PASSWORD).passed


def test_official_list_disable_and_reset(data_dir: Path,
                                         session_factory: sessionmaker[Session]) -> None:
    civicstack("official", "add", "--username", "admin", "--name", "Trần Quốc Minh",
               "--role", "admin", "--national")
    assert civicstack("official", "disable", "admin").exit_code == 0
    reset = civicstack("official", "reset-2fa", "admin")
    assert reset.exit_code == 0
    assert "enrolled at the next sign-in" in reset.output
    listed = civicstack("official", "list")
    assert listed.output.splitlines() == [
        "admin\tTrần Quốc Minh\tadmin\tnational\tdisabled\tnot enrolled"]
    assert [e.action for e in _audit(session_factory)] == [
        "identity.official.create", "identity.official.disable",
        "identity.official.reset_second_factor"]


def test_official_reset_password_prints_a_one_time_password_and_retires_the_old_one(
        data_dir: Path, session_factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CIVICSTACK_OFFICIAL_PASSWORD", OFFICIAL_PASSWORD)
    civicstack("official", "add", "--username", "clerk.badinh", "--name", "Phạm Thị Lan",
               "--role", "service_clerk", "--ward", "00004")
    reset = civicstack("official", "reset-password", "clerk.badinh")
    assert reset.exit_code == 0, reset.output
    one_time = reset.output.split("in person): ")[1].strip()
    with transaction(session_factory) as session:
        assert not officials.check_password(session, UnknownIdentifiers(), "clerk.badinh",
                                            OFFICIAL_PASSWORD).passed
        signed = officials.check_password(session, UnknownIdentifiers(), "clerk.badinh",
                                          one_time)
        assert signed.official is not None
        assert signed.official.must_change_password
    [entry] = [e for e in _audit(session_factory)
               if e.action == "identity.official.reset_password"]
    assert (entry.actor, entry.subject_id) == ("cli:operator", "clerk.badinh")
    unknown = civicstack("official", "reset-password", "nobody")
    assert unknown.exit_code == 1
    assert "no official named 'nobody'" in unknown.output


@pytest.mark.parametrize(("arguments", "message"), [
    (["--role", "police", "--province", "1"], "unknown province code '1'"),
    (["--role", "police", "--ward", "99999"], "unknown ward code '99999'"),
    (["--role", "police"], "exactly one of --province"),
    (["--role", "police", "--national", "--province", "01"], "exactly one of"),
])
def test_official_add_mistakes_exit_1_with_a_reason_and_change_nothing(
        data_dir: Path, session_factory: sessionmaker[Session], arguments: list[str],
        message: str) -> None:
    result = civicstack("official", "add", "--username", "x.y", "--name", "Lê Văn Hùng",
                        *arguments)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert _audit(session_factory) == []
    with transaction(session_factory) as session:
        assert session.execute(select(func.count()).select_from(OfficialAccount)).scalar() == 0


def test_official_add_refuses_a_weak_password_duplicates_and_unknown_roles(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arguments = ["official", "add", "--username", "twin", "--name", "Lê Văn Hùng", "--national"]
    assert civicstack(*arguments, "--role", "superuser").exit_code == 2
    monkeypatch.setenv("CIVICSTACK_OFFICIAL_PASSWORD", "password123")
    weak = civicstack(*arguments, "--role", "police")
    assert (weak.exit_code, "too common" in weak.stderr) == (1, True)
    monkeypatch.setenv("CIVICSTACK_OFFICIAL_PASSWORD", OFFICIAL_PASSWORD)
    assert civicstack(*arguments, "--role", "police").exit_code == 0
    again = civicstack(*arguments, "--role", "admin")
    assert (again.exit_code, "already exists" in again.stderr) == (1, True)
    for command in ("disable", "reset-2fa"):
        missing = civicstack("official", command, "nobody")
        assert (missing.exit_code, "no official named 'nobody'" in missing.stderr) == (1, True)


def _audit(factory: sessionmaker[Session]) -> list[AuditEntry]:
    with transaction(factory) as session:
        return list(session.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars())


# --- migration 0006: operator keys keep at most what they had -------------------------------

OLD_KEYS = {  # name: (old permission strings, old provinces)
    "everything": ("audit:read identity:approve identity:level2 registry:read registry:write", ""),
    "clerk": ("identity:approve registry:read registry:write", "01"),
    "reader": ("registry:read", ""),
    "approver": ("identity:approve registry:read", "79"),
    "auditor": ("audit:read", ""),
    "two-provinces": ("registry:read", "01,79"),
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: RunningPostgres = request.getfixturevalue("postgres_server")
    admin_url = server.url().replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute("CREATE DATABASE migration_0006")
    yield server.url("migration_0006")
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute("DROP DATABASE migration_0006 WITH (FORCE)")


def test_migration_gives_old_keys_the_largest_role_they_wholly_hold(empty_database: str) -> None:
    upgrade(empty_database, "0005")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        for number, (name, (scopes, provinces)) in enumerate(OLD_KEYS.items()):
            connection.execute(text(
                "INSERT INTO operator_api_key (name, lookup_id, secret_digest, scopes, "
                "province_scope, created_at) VALUES (:n, :l, 'd', :s, :p, CURRENT_TIMESTAMP)"),
                {"n": name, "l": f"lookup{number}", "s": scopes, "p": provinces})
    upgrade(empty_database)
    with engine.begin() as connection:
        rows = {name: (role, level, province, revoked is not None) for name, role, level,
                province, revoked in connection.execute(text(
                    "SELECT name, role, scope_level, scope_province_code, revoked_at "
                    "FROM operator_api_key"))}
    assert rows == {
        "everything": ("police", "national", None, False),
        "clerk": ("service_clerk", "province", "01", False),
        "reader": ("agency_approver", "national", None, False),
        "approver": ("agency_approver", "province", "79", False),  # approve is lost, not gained
        "auditor": ("agency_approver", "national", None, True),  # fits no role: revoked
        "two-provinces": ("agency_approver", "national", None, True),  # one scope only
    }
    downgrade(empty_database, "0005")
    with engine.begin() as connection:
        clerk = connection.execute(text(
            "SELECT scopes, province_scope FROM operator_api_key WHERE name = 'clerk'")).one()
    assert tuple(clerk) == ("identity:approve registry:read registry:write", "01")
    engine.dispose()


def test_new_roles_are_accepted_and_a_downgrade_refuses_while_they_are_held(
        empty_database: str) -> None:
    upgrade(empty_database)
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO operator_api_key (name, lookup_id, secret_digest, role, scope_level, "
            "created_at) VALUES ('tasks', 'lookup', 'd', 'programme_officer', 'national', "
            "CURRENT_TIMESTAMP)"))
    with pytest.raises(RuntimeError, match="1 rows of operator_api_key hold a role"):
        downgrade(empty_database, "0020")
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM operator_api_key"))
    downgrade(empty_database, "0020")
    with engine.begin() as connection, pytest.raises(IntegrityError):
        connection.execute(text(
            "INSERT INTO operator_api_key (name, lookup_id, secret_digest, role, scope_level, "
            "created_at) VALUES ('t', 'l', 'd', 'support_agent', 'national', CURRENT_TIMESTAMP)"))
    engine.dispose()


def test_migration_0029_asks_every_existing_official_for_a_new_password(
        empty_database: str) -> None:
    """No official could change the password they were handed before 0029: all still hold it."""
    upgrade(empty_database, "0028")
    engine = make_engine(empty_database)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO official_account (username, full_name, password_hash, status, "
            "failed_logins, session_generation, created_at, created_by, role, scope_level) "
            "VALUES ('old.hand', 'Lê Văn Hùng', 'h', 'active', 0, 0, CURRENT_TIMESTAMP, "
            "'cli:operator', 'police', 'national')"))
    upgrade(empty_database)
    with engine.begin() as connection:
        assert connection.execute(text(
            "SELECT must_change_password FROM official_account")).scalar_one()
    downgrade(empty_database, "0028")
    engine.dispose()
