"""The operator's view of `civicstack registry import|export` and `civicstack demo seed`."""

from __future__ import annotations

import csv
import stat
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicstack.cli import app
from civicstack.identity import officials
from civicstack.identity.service import UnknownIdentifiers
from civicstack.kit import apikeys
from civicstack.kit.authz import Permission
from civicstack.kit.db import transaction
from civicstack.registry.models import CivilStatusEvent, IdCardIssuance, Person
from civicstack.registry.synth import write_population_csv
from tests.support.keys import secret_store

runner = CliRunner()


def persons(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return int(session.execute(select(func.count()).select_from(Person)).scalar_one())


def test_import_reports_counts_and_exits_zero_when_every_row_loads(
        data_dir: Path, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    population = write_population_csv(tmp_path / "people.csv", 120, seed=3)

    result = runner.invoke(app, ["registry", "import", str(population)])

    assert result.exit_code == 0, result.output
    assert "120 rows read, 120 loaded, 0 already present, 0 rejected" in result.output
    assert persons(session_factory) == 120


def test_a_bulk_import_loads_the_file_as_one_transaction(
        data_dir: Path, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    population = write_population_csv(tmp_path / "people.csv", 120, seed=3)

    result = runner.invoke(app, ["registry", "import", str(population), "--bulk"])

    assert result.exit_code == 0, result.output
    assert "120 loaded" in result.output
    assert persons(session_factory) == 120


def test_import_exits_3_and_names_the_reject_file_when_rows_are_refused(
        data_dir: Path, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    population = write_population_csv(tmp_path / "people.csv", 10, seed=3)
    with population.open("a", encoding="utf-8") as handle:
        handle.write("012345678901,Bad Row,not-a-date,M,01,,,,,00004,,,,,,,,,\n")

    result = runner.invoke(app, ["registry", "import", str(population),
                                 "--rejects", str(tmp_path / "refused.csv")])

    assert result.exit_code == 3, result.output
    assert "1 rejected" in result.output
    assert "refused.csv" in result.output
    with (tmp_path / "refused.csv").open(encoding="utf-8") as handle:
        [refused] = list(csv.DictReader(handle))
    assert refused["line"] == "12"
    assert "not-a-date" in refused["reasons"]
    assert persons(session_factory) == 10


def test_import_of_an_unusable_file_exits_2_with_the_reason(
        data_dir: Path, tmp_path: Path, session_factory: sessionmaker[Session]) -> None:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,age\nAn,30\n", encoding="utf-8")

    result = runner.invoke(app, ["registry", "import", str(wrong)])

    assert result.exit_code == 2
    assert "cannot import: unknown column(s): age, name" in result.output
    assert persons(session_factory) == 0


def test_export_needs_a_purpose_and_writes_the_import_format(
        data_dir: Path, tmp_path: Path) -> None:
    runner.invoke(app, ["registry", "import",
                        str(write_population_csv(tmp_path / "people.csv", 30, seed=3))])
    assert runner.invoke(app, ["registry", "export"]).exit_code != 0
    refused = runner.invoke(app, ["registry", "export", "--purpose", "x"])
    assert refused.exit_code == 1
    assert "purpose" in refused.output

    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["registry", "export", "--purpose", "yearly backup",
                                 "--output", str(out)])

    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 30


def test_demo_seed_is_reproducible_idempotent_and_leaves_a_working_key(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    first = runner.invoke(app, ["demo", "seed", "--people", "150", "--seed", "9"])
    again = runner.invoke(app, ["demo", "seed", "--people", "150", "--seed", "9"])

    assert first.exit_code == 0, first.output
    assert "150 loaded" in first.output
    assert "150 already present" in again.output
    with transaction(session_factory) as session:
        births = session.execute(select(func.count()).select_from(CivilStatusEvent).where(
            CivilStatusEvent.kind == "birth")).scalar_one()
        cards = session.execute(select(func.count()).select_from(IdCardIssuance)).scalar_one()
        assert births == 5
        assert cards > 0
        key_file = data_dir / "demo-operator-key.txt"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = apikeys.authenticate(session, secret_store(session).secret("apikey-pepper"),
                                   key_file.read_text().strip())
        assert key.may(Permission.REGISTRY_READ)
        officials_file = data_dir / "demo-officials.txt"
        assert stat.S_IMODE(officials_file.stat().st_mode) == 0o600
        for written in data_dir.rglob("*"):  # the population file, the secrets, the keys...
            assert stat.S_IMODE(written.stat().st_mode) == (0o700 if written.is_dir() else
                                                            0o600), written
        assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
        listed = [line.split("\t") for line in officials_file.read_text().splitlines()
                  if not line.startswith("#")]
        assert [(name, role, scope) for name, _, role, scope in listed] == [
            ("admin", "admin", "national"), ("police.hanoi", "police", "province 01"),
            ("clerk.badinh", "service_clerk", "ward 00004"),
            ("hotline.hanoi", "support_agent", "province 01"),
            ("programme.hanoi", "programme_officer", "province 01")]
        for username, password, _, _ in listed:
            assert officials.check_password(session, UnknownIdentifiers(), username,
                                            password).passed
    assert persons(session_factory) == 155  # 150 seeded + 5 recorded births
