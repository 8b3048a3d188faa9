"""Issue 18, item 2: instances that share the database and the root key, and nothing else, use
the same secrets and signing keys; an instance given another root key refuses to start; the
first starts of many instances at once make one of each; both rotations keep everything sealed
or signed before readable."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
from collections import Counter
from datetime import UTC, datetime, timedelta
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from pydantic import SecretStr
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicstack.app import create_app
from civicstack.cli import app as cli
from civicstack.config import Settings
from civicstack.identity import totp
from civicstack.kit.appservices import open_secret_store, services_of
from civicstack.kit.audit import AuditEntry
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.keyprovider import (
    DEMO_ROOT_KEY_FILE,
    RootKeyRefused,
    WrongRootKey,
    decode_root_key,
    new_root_key,
)
from civicstack.kit.keys import OIDC_RING, KeyRing, legacy_folder, rotate
from civicstack.kit.secrets import SIGNING_KEY, SecretStore, StoredSecret, UnusableSecret
from civicstack.registry.models import Person
from tests.support.keys import NO_OLDER_FILES, TEST_ROOT_KEY
from tests.support.web import make_site

STARTS = 6
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
runner = CliRunner()


@pytest.fixture
def nothing_stored(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A database no instance has started on yet: no secret, no signing key."""
    with transaction(session_factory) as session:
        session.execute(delete(StoredSecret))
    return session_factory


def stored_count(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return int(session.scalar(select(func.count()).select_from(StoredSecret)) or 0)


def settings(database_url: str, data_dir: Path, root_key: str = TEST_ROOT_KEY,
             **changes: object) -> Settings:
    return Settings(database_url=database_url, data_dir=data_dir, log_json=False,
                    log_level="WARNING", root_key=SecretStr(root_key), **changes)


def test_two_instances_with_their_own_data_directories_share_sessions_keys_and_seals(
        nothing_stored: sessionmaker[Session], database_url: str, tmp_path: Path,
        an: Person) -> None:
    first = make_site(database_url, tmp_path / "first")
    second = make_site(database_url, tmp_path / "second")

    # The operator key made through one works on the other.
    token = first.key("registry-reader")
    read = second.client.get(f"/api/v1/registry/persons/{an.personal_id_number}?purpose=kiem-tra",
                             headers={"authorization": f"Bearer {token}"})
    assert read.status_code == 200, read.text
    # Relying parties see one key set, whichever instance answers.
    assert first.client.get("/oidc/jwks").json() == second.client.get("/oidc/jwks").json()
    # A TOTP secret sealed by one opens on the other: an official enrolled through the first
    # signs in, password and code, on the second.
    official = first.new_official()
    second.sign_in(official)
    sealed = totp.seal(first.services.totp_key, TOTP_SECRET, "official:1")
    assert totp.unseal(second.services.totp_key, sealed, "official:1") == TOTP_SECRET
    # The session cookie the second instance set is the first's session too.
    signed_in = second.client.get("/console", follow_redirects=False)
    first.client.cookies = second.client.cookies
    assert first.client.get("/console", follow_redirects=False).headers["location"] == \
        signed_in.headers["location"] != "/console/login"
    # Nothing of this was written to either data directory.
    assert not (tmp_path / "first" / "secrets").exists()
    assert not (tmp_path / "second" / "keys" / "issuers").exists()


def test_an_instance_given_another_root_key_refuses_to_start_and_makes_nothing(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    before = stored_count(session_factory)
    with pytest.raises(WrongRootKey, match=r"sealed under root key local:\w+, and this "
                                           r"instance was given root key local:\w+: refusing"):
        create_app(settings(database_url, tmp_path / "data", new_root_key()))
    assert stored_count(session_factory) == before


def test_demo_instances_with_their_own_data_directories_do_not_make_secrets_of_their_own(
        nothing_stored: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    """The issue's finding: a second instance with its own data directory silently made fresh
    secrets. Without a root key given, each demo data directory makes its own root key: the
    second instance now refuses instead."""
    create_app(settings(database_url, tmp_path / "first", ""))
    made = tmp_path / "first" / DEMO_ROOT_KEY_FILE
    assert stat.S_IMODE(made.stat().st_mode) == 0o600
    made_so_far = stored_count(nothing_stored)

    with pytest.raises(WrongRootKey, match="refusing to start"):
        create_app(settings(database_url, tmp_path / "second", ""))
    assert stored_count(nothing_stored) == made_so_far
    create_app(settings(database_url, tmp_path / "second", made.read_text()))  # given it: starts


@pytest.mark.parametrize(("given", "reason"), [
    ("", "no root key: set CIVICSTACK_ROOT_KEY"),
    ("c2hvcnQ", "has 5 bytes, not 32"),
    ("a" * 42 + "=", "not base64url"),
])
def test_production_refuses_to_start_without_a_whole_root_key(
        database_url: str, tmp_path: Path, given: str, reason: str) -> None:
    with pytest.raises(RootKeyRefused, match=reason):
        create_app(settings(database_url, tmp_path / "data", given, require_root_key=True))
    assert not (tmp_path / "data" / DEMO_ROOT_KEY_FILE).exists()


def _first_start(database_url: str, data_dir: Path, everyone_ready: Barrier,
                 answers: multiprocessing.Queue[str]) -> None:
    engine = make_engine(database_url)
    everyone_ready.wait()  # all at once, as when every instance of a new deployment starts
    store = open_secret_store(settings(database_url, data_dir), make_session_factory(engine))
    jwks = KeyRing(store, OIDC_RING).public_jwks()
    answers.put(hashlib.sha256((store.secret("apikey-pepper") + store.secret("totp-key") +
                                str(sorted(k["kid"] for k in jwks["keys"]))).encode()).hexdigest())
    engine.dispose()


def test_simultaneous_first_starts_make_exactly_one_of_each_secret_and_key(
        nothing_stored: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    everyone_ready = context.Barrier(STARTS)
    answers: multiprocessing.Queue[str] = context.Queue()
    starts = [context.Process(target=_first_start, args=(database_url, tmp_path / str(number),
                                                         everyone_ready, answers))
              for number in range(STARTS)]
    for start in starts:
        start.start()
    read = [answers.get(timeout=120) for _ in starts]
    for start in starts:
        start.join()

    assert len(set(read)) == 1, read
    with transaction(nothing_stored) as session:
        identities = Counter(session.execute(select(
            StoredSecret.purpose, StoredSecret.name, StoredSecret.algorithm)).all())
    assert identities
    assert set(identities.values()) == {1}
    assert ("signing key", OIDC_RING, "ES256") in identities


def test_a_signing_key_rotation_reaches_the_running_ring_and_old_signatures_still_verify(
        session_factory: sessionmaker[Session]) -> None:
    store = SecretStore(session_factory, decode_root_key(TEST_ROOT_KEY, "test"), NO_OLDER_FILES)
    ring = KeyRing(store, OIDC_RING, check_every_s=0)
    old_key = ring.signing_key("ES256")
    old_token = jwt.encode({"alg": "ES256", "kid": old_key.kid}, {"sub": "a"}, old_key)

    rotation = rotate(store, OIDC_RING, keep_retired_for=timedelta(days=1))

    new_key = ring.signing_key("ES256")
    assert new_key.kid in rotation.new_kids
    assert old_key.kid in rotation.retired_kids
    published = {k["kid"] for k in ring.public_jwks()["keys"]}
    assert published >= {old_key.kid, new_key.kid}
    assert all("d" not in k for k in ring.public_jwks()["keys"])
    assert jwt.decode(old_token, ring.verification_keys()).claims == {"sub": "a"}

    with transaction(session_factory) as session:  # as if the first rotation was long ago
        session.execute(update(StoredSecret).where(
            StoredSecret.purpose == SIGNING_KEY, StoredSecret.retired_at.is_not(None)).values(
            retired_at=datetime.now(UTC) - timedelta(days=2)))
    third = rotate(store, OIDC_RING, keep_retired_for=timedelta(days=1))
    assert old_key.kid in third.removed_kids
    assert old_key.kid not in {k["kid"] for k in ring.public_jwks()["keys"]}


def test_rotating_the_root_key_keeps_every_seal_and_signature_and_retires_the_old_key(
        data_dir: Path, session_factory: sessionmaker[Session], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    old = SecretStore(session_factory, decode_root_key(TEST_ROOT_KEY, "test"), NO_OLDER_FILES)
    sealed = totp.seal(old.secret("totp-key"), TOTP_SECRET, "official:7")
    kids = {k["kid"] for k in KeyRing(old, OIDC_RING).public_jwks()["keys"]}
    new_key = new_root_key()
    (tmp_path / "new-root-key").write_text(new_key + "\n")

    result = runner.invoke(cli, ["keys", "rotate-root", "--new-key-file",
                                 str(tmp_path / "new-root-key")])

    assert result.exit_code == 0, result.output
    new = decode_root_key(new_key, "test")
    assert f"re-wrapped from root key {old.provider.key_id} to {new.key_id}" in result.output
    with pytest.raises(WrongRootKey):
        old.check_root_key()
    renewed = SecretStore(session_factory, new, NO_OLDER_FILES)
    assert totp.unseal(renewed.secret("totp-key"), sealed, "official:7") == TOTP_SECRET
    assert {k["kid"] for k in KeyRing(renewed, OIDC_RING).public_jwks()["keys"]} == kids
    with transaction(session_factory) as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "keys.root.rotate")).one()
        assert entry.detail["old_root_key_id"] == old.provider.key_id
    monkeypatch.setenv("CIVICSTACK_ROOT_KEY", new_key)
    create_app(Settings())  # every instance restarts with the new key


def _write_legacy_installation(data_dir: Path) -> tuple[str, str]:
    """What an older version left in a data directory: secret files and key files."""
    (data_dir / "secrets").mkdir(parents=True)
    totp_key = hashlib.sha256(b"an older installation's totp key").hexdigest()
    (data_dir / "secrets" / "totp-key").write_text(totp_key)
    key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": "ES256"}, private=True)
    key.ensure_kid()
    legacy_folder(data_dir, OIDC_RING).mkdir()
    (legacy_folder(data_dir, OIDC_RING) / f"{key.kid}.json").write_text(json.dumps({
        "jwk": key.as_dict(private=True), "alg": "ES256",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(), "retired_at": None}))
    return totp_key, str(key.kid)


def test_import_files_moves_an_older_installation_into_the_database(
        data_dir: Path, nothing_stored: sessionmaker[Session]) -> None:
    totp_key, kid = _write_legacy_installation(data_dir)
    sealed_before = totp.seal(totp_key, TOTP_SECRET, "official:3")

    result = runner.invoke(cli, ["keys", "import-files"])

    assert result.exit_code == 0, result.output
    assert "secret totp-key: stored" in result.output
    assert "signing keys oidc: 1 of 1 in the database" in result.output
    store = SecretStore(nothing_stored, decode_root_key(TEST_ROOT_KEY, "test"), NO_OLDER_FILES)
    assert totp.unseal(store.secret("totp-key"), sealed_before, "official:3") == TOTP_SECRET
    assert kid in {k["kid"] for k in KeyRing(store, OIDC_RING).public_jwks()["keys"]}
    # Nothing else is made in its place when it runs again; a file that differs is reported.
    (data_dir / "secrets" / "totp-key").write_text("x" * 43)
    again = runner.invoke(cli, ["keys", "import-files"])
    assert again.exit_code == 1
    assert "secret totp-key: DIFFERS from the stored one" in again.output


def test_an_upgraded_instance_adopts_its_older_files_at_start(
        nothing_stored: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    totp_key, kid = _write_legacy_installation(tmp_path / "data")
    site = make_site(database_url, tmp_path / "data")
    assert site.services.totp_key == totp_key
    assert kid in {k["kid"] for k in site.client.get("/oidc/jwks").json()["keys"]}
    assert services_of(site.app).secrets.provider.key_id == \
        decode_root_key(TEST_ROOT_KEY, "test").key_id
    assert os.listdir(tmp_path / "data" / "secrets") == ["totp-key"]  # read, left as it was


def test_an_older_secret_file_too_short_to_protect_anything_stops_the_start(
        nothing_stored: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    (tmp_path / "data" / "secrets").mkdir(parents=True)
    (tmp_path / "data" / "secrets" / "apikey-pepper").write_text("short-secret\n")
    with pytest.raises(UnusableSecret, match=r"apikey-pepper has 12 characters, fewer than 32"):
        create_app(settings(database_url, tmp_path / "data"))
    assert stored_count(nothing_stored) == 0
