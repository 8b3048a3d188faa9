"""`civicstack db|apikey|audit`: what operators type, what they see, and the exit codes."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from civicstack.cli import app
from civicstack.config import get_settings
from civicstack.kit import apikeys
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.registry.models import Person, Province, Sex, Ward
from tests.integration.conftest import use_settings
from tests.support.api import BASE, PURPOSE, assert_problem, audit_entries, bearer
from tests.support.people import make_person
from tests.support.tamper import bypass_triggers
from tests.support.web import Site, make_site

runner = CliRunner()


def civicstack(*arguments: str) -> Result:
    return runner.invoke(app, list(arguments))


def unit_counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with transaction(factory) as session:
        return (int(session.execute(select(func.count()).select_from(Province)).scalar_one()),
                int(session.execute(select(func.count()).select_from(Ward)).scalar_one()))


def create_key(*arguments: str) -> str:
    result = civicstack("apikey", "create", *arguments)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert token.startswith("csk_")
    assert "\n" not in token  # stdout is the token alone, ready for a script to capture
    return token


@pytest.fixture
def api(data_dir: Path, database_url: str) -> Site:
    """The app over the same database and data directory (so the same pepper) as the CLI."""
    return make_site(database_url, data_dir)


@pytest.fixture
def two_people(api: Site) -> tuple[Person, Person]:
    with transaction(services_of(api.app).session_factory) as session:
        return (make_person(session, "Nguyễn Văn An", date(1990, 5, 17), province_code="01"),
                make_person(session, "Trần Thị Bích", date(1991, 6, 1), Sex.FEMALE,
                            province_code="79", legacy_province_code="79"))


def get_person(api: Site, token: str, person: Person) -> int:
    response = api.client.get(f"{BASE}/persons/{person.personal_id_number}",
                              params={"purpose": PURPOSE}, headers=bearer(token))
    status: int = response.status_code
    return status


# --- db upgrade -------------------------------------------------------------------------

def test_db_upgrade_builds_a_brand_new_sqlite_database_and_is_idempotent(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_settings(monkeypatch, "", tmp_path / "fresh")  # default: SQLite inside the data dir
    try:
        first = civicstack("db", "upgrade")
        second = civicstack("db", "upgrade")
        verified = civicstack("audit", "verify")
    finally:
        get_settings.cache_clear()

    assert first.exit_code == 0, first.output
    assert "34 provinces, 3321 wards" in first.output
    assert second.exit_code == 0, second.output
    assert "34 provinces, 3321 wards" in second.output
    assert (verified.exit_code, verified.output.strip()) == (
        0, "audit log intact: 0 newly sealed entries verified")
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh' / 'civicstack.db'}")
    try:
        assert unit_counts(make_session_factory(engine)) == (34, 3321)
    finally:
        engine.dispose()


def test_db_upgrade_of_an_already_migrated_database_changes_nothing(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    before = unit_counts(session_factory)
    result = civicstack("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert "schema at head" in result.output
    assert "34 provinces, 3321 wards" in result.output
    assert unit_counts(session_factory) == before == (34, 3321)


# --- apikey -----------------------------------------------------------------------------

def test_a_created_key_authenticates_against_the_api_within_its_role_and_scope(
        api: Site, two_people: tuple[Person, Person]) -> None:
    an, bich = two_people
    national = create_key("registrar", "--role", "admin", "--national")
    hanoi = create_key("hanoi-clerk", "--role", "agency_approver", "--province", "01")

    assert get_person(api, national, an) == get_person(api, national, bich) == 200
    assert get_person(api, hanoi, an) == 200
    assert get_person(api, hanoi, bich) == 404  # outside the key's scope: as if nobody
    refused = api.client.post(f"{BASE}/events/deaths", headers=bearer(hanoi), json={
        "personal_id_number": an.personal_id_number, "occurred_on": "2024-01-01"})
    assert "may not record births, deaths, marriages and divorces" in assert_problem(
        refused, 403)["detail"]
    [entry] = audit_entries(services_of(api.app).session_factory, "apikey.create", "hanoi-clerk")
    assert entry.actor == "cli:operator"
    assert entry.detail == {"role": "agency_approver", "scope": "province 01"}


def test_apikey_list_shows_keys_but_never_their_secrets(api: Site) -> None:
    token = create_key("hanoi-clerk", "--role", "agency_approver", "--province", "01")
    create_key("auditor", "--role", "admin", "--national")
    assert civicstack("apikey", "revoke", "auditor").exit_code == 0

    listed = civicstack("apikey", "list")

    assert listed.exit_code == 0
    lines = listed.output.splitlines()
    assert lines[0].startswith("auditor\tadmin\tnational\trevoked ")
    assert lines[1] == "hanoi-clerk\tagency_approver\tprovince 01\tactive"
    assert token.split("_", 2)[2] not in listed.output
    with transaction(services_of(api.app).session_factory) as session:
        [digest] = [k.secret_digest for k in apikeys.list_keys(session) if k.name == "hanoi-clerk"]
    assert digest not in listed.output


def test_revoking_a_key_stops_it_at_the_next_request(
        api: Site, two_people: tuple[Person, Person]) -> None:
    an, _ = two_people
    token = create_key("leaver", "--role", "agency_approver", "--national")
    assert get_person(api, token, an) == 200

    revoked = civicstack("apikey", "revoke", "leaver")

    assert (revoked.exit_code, revoked.output.strip()) == (0, "revoked leaver")
    response = api.client.get(f"{BASE}/persons/{an.personal_id_number}",
                              params={"purpose": PURPOSE}, headers=bearer(token))
    assert_problem(response, 401)
    [entry] = audit_entries(services_of(api.app).session_factory, "apikey.revoke", "leaver")
    assert entry.actor == "cli:operator"


@pytest.mark.parametrize(("arguments", "message"), [
    (["create", "x", "--role", "police", "--province", "1"], "unknown province code '1'"),
    (["create", "x", "--role", "police", "--ward", "99999"], "unknown ward code '99999'"),
    (["create", "x", "--role", "police"], "exactly one of --province"),
    (["create", "x", "--role", "police", "--province", "01", "--national"], "exactly one of"),
    (["create", "x", "--role", "police", "--province", "01", "--ward", "00004"],
     "exactly one of"),
    (["revoke", "nobody"], "no API key named 'nobody'"),
])
def test_apikey_mistakes_exit_1_with_a_reason_and_change_nothing(
        data_dir: Path, session_factory: sessionmaker[Session], arguments: list[str],
        message: str) -> None:
    result = civicstack("apikey", *arguments)

    assert result.exit_code == 1
    assert message in result.stderr
    assert "csk_" not in result.output
    assert "Traceback" not in result.output
    with transaction(session_factory) as session:
        assert apikeys.list_keys(session) == []
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0


@pytest.mark.parametrize("role", [None, "superuser"])
def test_apikey_create_without_a_known_role_is_a_usage_error(
        data_dir: Path, role: str | None) -> None:
    result = civicstack("apikey", "create", "x", "--national", *(["--role", role] if role else []))
    assert result.exit_code == 2
    assert "--role" in result.output


def test_a_duplicate_key_name_is_refused_and_the_first_key_still_works(
        api: Site, two_people: tuple[Person, Person]) -> None:
    first = create_key("twin", "--role", "agency_approver", "--national")
    again = civicstack("apikey", "create", "twin", "--role", "admin", "--national")

    assert again.exit_code == 1
    assert "already exists" in again.stderr
    assert "csk_" not in again.output
    assert get_person(api, first, two_people[0]) == 200
    with transaction(services_of(api.app).session_factory) as session:
        [twin] = apikeys.list_keys(session)
    assert twin.role == Role.AGENCY_APPROVER


# --- audit verify -----------------------------------------------------------------------

def _three_keys() -> None:
    for name in ("a", "b", "c"):
        create_key(name, "--role", "agency_approver", "--national")


def test_audit_verify_passes_on_an_intact_log(
        api: Site, two_people: tuple[Person, Person]) -> None:
    token = create_key("reader", "--role", "agency_approver", "--national")
    assert get_person(api, token, two_people[0]) == 200  # reads are audited too

    assert civicstack("audit", "seal").output.strip() == "witnessed checkpoint: 4 entries"
    result = civicstack("audit", "verify")

    assert result.exit_code == 0, result.output
    # two registrations, one key, one read
    assert result.output.strip() == "audit log intact: 4 newly sealed entries verified"
    assert civicstack("audit", "verify").output.strip() == \
        "audit log intact: 0 newly sealed entries verified"


@pytest.mark.parametrize(("statement", "message"), [
    ("UPDATE audit_entry SET actor = 'someone-else' WHERE seq = 2",
     "BROKEN at entry 2: entry 1 does not match its leaf hash (modified)"),
    ("DELETE FROM audit_entry WHERE seq = 2",
     "BROKEN at entry 3: entry 1 of the tree is missing"),
    ("DELETE FROM audit_entry WHERE seq = 3",
     "BROKEN: entries 2 to 2 of the witnessed tree are missing (removed from the end)"),
])
def test_audit_verify_and_full_audit_exit_1_naming_the_tampered_entry(
        data_dir: Path, database_url: str, engine: Engine, statement: str,
        message: str) -> None:
    _three_keys()
    assert civicstack("audit", "seal").exit_code == 0

    bypass_triggers(engine, statement)  # what an attacker with the database's owner could do
    for command in (["verify"], ["full-audit", "--database", database_url]):
        broken = civicstack("audit", *command)
        assert broken.exit_code == 1
        assert f"audit log {message}" in broken.stderr


def test_a_proof_from_the_cli_verifies_with_the_published_key_alone(
        data_dir: Path, tmp_path: Path) -> None:
    _three_keys()
    civicstack("audit", "seal")
    key = civicstack("audit", "key").output.strip()
    proof = tmp_path / "entry-2.tlog-proof"
    proof.write_text(civicstack("audit", "prove", "2").output)

    checked = civicstack("audit", "verify-proof", str(proof), "--key", key)

    assert checked.exit_code == 0, checked.output
    assert "entry 1 is included in civicstack.local/log/audit at 3 entries" in checked.output
    header, extra, rest = proof.read_text().split("\n", 2)
    entry = base64.b64decode(extra.removeprefix("extra ")).replace(b'"b"', b'"z"')
    proof.write_text(f"{header}\nextra {base64.b64encode(entry).decode()}\n{rest}")
    forged = civicstack("audit", "verify-proof", str(proof), "--key", key)
    assert (forged.exit_code, "proof REJECTED" in forged.stderr) == (1, True)


def test_revoking_a_key_twice_keeps_the_first_revocation(data_dir: Path) -> None:
    create_key("twice", "--role", "agency_approver", "--national")
    assert civicstack("apikey", "revoke", "twice").exit_code == 0
    again = civicstack("apikey", "revoke", "twice")
    assert again.exit_code == 1
    assert "already revoked" in again.output


@pytest.mark.parametrize("url", [
    "postgresql+psycopg://nobody:secret@127.0.0.1:1/none",  # nothing listens on port 1
    "sqlite:////no/such/folder/civicstack.db",
], ids=["postgresql-down", "sqlite-unopenable"])
def test_an_unreachable_database_is_one_clear_line_and_exit_2(
        url: str, tmp_path: Path) -> None:
    # The installed command's own entry point, in a process of its own: no test harness between.
    done = subprocess.run(
        [sys.executable, "-m", "civicstack.cli", "oidc", "client", "list"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "CIVICSTACK_DATABASE_URL": url,
             "CIVICSTACK_DATA_DIR": str(tmp_path)})
    assert done.returncode == 2
    assert "error: cannot reach the database at" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "secret" not in done.stderr  # the password is masked


@pytest.mark.parametrize("key", ["", "not base64url!"], ids=["missing", "malformed"])
def test_a_refused_root_key_is_one_clear_line_and_exit_2(key: str, tmp_path: Path) -> None:
    # Production refuses to start without its root key: the operator reads why, not a traceback.
    done = subprocess.run(
        [sys.executable, "-m", "civicstack.cli", "keys", "list"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "CIVICSTACK_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
             "CIVICSTACK_DATA_DIR": str(tmp_path), "CIVICSTACK_REQUIRE_ROOT_KEY": "true",
             "CIVICSTACK_ROOT_KEY": key})
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert "root key" in done.stderr
    assert "Traceback" not in done.stderr
    assert "╭" not in done.stderr
