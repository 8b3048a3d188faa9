"""`registry import` and `registry export` on both databases: good rows load, bad rows are
refused with their line and reason, re-runs are idempotent, nothing is half-written."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Forbidden, Invalid
from civicstack.registry import pid
from civicstack.registry.csv_format import LINK_COLUMNS, PERSON_COLUMNS, HeaderError
from civicstack.registry.exporter import export_persons
from civicstack.registry.importer import ImportInterrupted, ImportSummary, import_persons
from civicstack.registry.models import (
    FamilyRelation,
    Household,
    HouseholdMember,
    ImportRun,
    LegacyWardMapping,
    Person,
    Sex,
)
from civicstack.registry.synth import synthetic_population
from tests.support.api import log_is_intact

IMPORTER = Actor("test", "import-operator")
COLUMNS = PERSON_COLUMNS + LINK_COLUMNS


def person_row(number: str, **changes: str) -> dict[str, str]:
    """A valid row for a Hà Nội man born 1990 whose number is `number`."""
    row = dict.fromkeys(COLUMNS, "")
    row.update(personal_id_number=number, full_name="Nguyễn Văn An", date_of_birth="1990-05-17",
               sex="M", place_of_birth_province_code="01", permanent_ward_code="00004",
               phone="0912345678")
    row.update(changes)
    return row


def hanoi_man(serial: int, **changes: str) -> dict[str, str]:
    return person_row(pid.compose("01", 1990, Sex.MALE, serial), **changes)


def write_csv(path: Path, rows: list[dict[str, str]], columns: tuple[str, ...] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run_import(factory: sessionmaker[Session], path: Path, batch_size: int = 100,
               **way: bool) -> ImportSummary:
    return import_persons(factory, path, IMPORTER, batch_size=batch_size, **way)


# The ways of loading must give the same register: a transaction per batch with parsing in
# a thread, and a bulk load (checks set aside, one transaction) parsed in another process.
WAYS = {"batch by batch": {"parser_process": False},
        "bulk, parsed in another process": {"bulk": True, "parser_process": True}}


@pytest.fixture(params=list(WAYS))
def way(request: pytest.FixtureRequest) -> dict[str, bool]:
    return WAYS[request.param]


def rejects(summary: ImportSummary) -> dict[int, str]:
    """Line number -> reasons, as an operator reads them from the reject file."""
    assert summary.rejects_path is not None
    with summary.rejects_path.open(encoding="utf-8", newline="") as handle:
        return {int(row["line"]): row["reasons"] for row in csv.DictReader(handle)}


def count(session: Session, model: type) -> int:
    return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def population(tmp_path: Path) -> Iterator[Path]:
    return write_csv(tmp_path / "population.csv", list(synthetic_population(300, seed=5)))


def test_population_loads_with_households_relations_and_provenance(
        session_factory: sessionmaker[Session], population: Path, way: dict[str, bool]) -> None:
    summary = run_import(session_factory, population, **way)

    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (300, 300, 0)
    rows = list(synthetic_population(300, seed=5))
    with transaction(session_factory) as session:
        assert count(session, Person) == 300
        assert count(session, HouseholdMember) == 300
        assert count(session, Household) == len({r["household_code"] for r in rows})
        links = sum(bool(r[c]) for r in rows
                    for c in ("father_id_number", "mother_id_number", "spouse_id_number"))
        assert count(session, FamilyRelation) == links
        run = session.get(ImportRun, summary.run_id)
        assert run is not None
        assert run.finished_at is not None
        assert (run.rows_read, run.rows_loaded) == (300, 300)
        assert set(session.execute(select(Person.import_run_id)).scalars()) == {summary.run_id}
        batches = session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "registry.import.batch")).scalars().all()
        assert sum(detail["loaded"] for detail in batches) == 300
    assert log_is_intact(session_factory)


def test_rerunning_the_same_file_loads_nothing_new(
        session_factory: sessionmaker[Session], population: Path) -> None:
    run_import(session_factory, population)
    again = run_import(session_factory, population)

    assert (again.rows_loaded, again.rows_already_present, again.rows_rejected) == (0, 300, 0)
    with transaction(session_factory) as session:
        assert count(session, Person) == 300
        assert count(session, HouseholdMember) == 300


def test_each_bad_row_is_refused_with_its_line_and_reason_while_good_rows_load(
        session_factory: sessionmaker[Session], tmp_path: Path, way: dict[str, bool]) -> None:
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    rows = [
        hanoi_man(1),                                                     # line 2: good
        hanoi_man(2, date_of_birth="1991-05-17"),                         # 3: year != number
        hanoi_man(3, permanent_ward_code="99999"),                        # 4: unknown ward
        person_row(pid.compose("01", int(tomorrow[:4]), Sex.MALE, 4),
                   date_of_birth=tomorrow),                               # 5: future birth
        hanoi_man(1, full_name="Trần Văn Khác"),                          # 6: duplicate number
        hanoi_man(6, sex="X"),                                            # 7: unknown sex
        hanoi_man(7, date_of_birth="17/05/1990"),                         # 8: malformed date
        person_row("0019900000AB"),                                       # 9: not 12 digits
        hanoi_man(9, father_id_number=pid.compose("01", 1960, Sex.MALE, 99)),  # 10: no father
        hanoi_man(10, full_name="A" * 201),                               # 11: too long
        hanoi_man(11, sex="F"),                                           # 12: sex != number
        hanoi_man(12),                                                    # 13: good
    ]
    summary = run_import(session_factory, write_csv(tmp_path / "mixed.csv", rows), **way)

    reasons = rejects(summary)
    assert (summary.rows_loaded, summary.rows_rejected) == (2, 10)
    assert sorted(reasons) == list(range(3, 13))
    assert "date_of_birth: year 1991 does not match" in reasons[3]
    assert "permanent_ward_code: unknown ward code '99999'" in reasons[4]
    assert "is in the future" in reasons[5]
    assert "duplicates line 2" in reasons[6]
    assert "sex: 'X' is not M or F" in reasons[7]
    assert "'17/05/1990' is not a date" in reasons[8]
    assert "must be exactly 12 digits" in reasons[9]
    assert "father_id_number" in reasons[10]
    assert "neither in the register" in reasons[10]
    assert "full_name: is longer than 200" in reasons[11]
    assert "sex: the ID number encodes sex M" in reasons[12]
    with transaction(session_factory) as session:
        loaded = set(session.execute(select(Person.personal_id_number)).scalars())
    assert loaded == {rows[0]["personal_id_number"], rows[-1]["personal_id_number"]}


def test_a_control_character_is_refused_and_decomposed_text_is_stored_composed(
        session_factory: sessionmaker[Session], tmp_path: Path, way: dict[str, bool]) -> None:
    typed_apart = unicodedata.normalize("NFD", "Nguyễn Văn Đức")  # e + two marks, and so on
    rows = [hanoi_man(1, full_name="Nguyễn\x00 Văn An"),                 # line 2: NUL
            hanoi_man(2, permanent_address_line="12 Phố Huế\x1b[2J"),    # 3: an escape
            hanoi_man(3, full_name=typed_apart, place_of_origin=unicodedata.normalize(
                "NFD", "Hà Tĩnh"))]                                     # 4: decomposed
    summary = run_import(session_factory, write_csv(tmp_path / "typed.csv", rows), **way)

    reasons = rejects(summary)
    assert sorted(reasons) == [2, 3]
    assert "full_name: contains a control character" in reasons[2]
    assert "permanent_address_line: contains a control character" in reasons[3]
    with transaction(session_factory) as session:
        stored = session.execute(select(Person)).scalar_one()
    assert (stored.full_name, stored.place_of_origin) == ("Nguyễn Văn Đức", "Hà Tĩnh")
    assert unicodedata.is_normalized("NFC", stored.full_name)


def test_a_number_registered_to_someone_else_is_refused_not_overwritten(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    run_import(session_factory, write_csv(tmp_path / "first.csv", [hanoi_man(1)]))
    summary = run_import(session_factory, write_csv(tmp_path / "second.csv", [
        hanoi_man(1, full_name="Phạm Văn Khác")]))

    assert "already registered to a different person" in rejects(summary)[2]
    with transaction(session_factory) as session:
        person = session.execute(select(Person)).scalar_one()
        assert (person.full_name, person.version) == ("Nguyễn Văn An", 1)


def test_malformed_csv_lines_are_rejected_and_the_rest_still_loads(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = write_csv(tmp_path / "broken.csv", [hanoi_man(1)])
    good = io.StringIO()
    csv.DictWriter(good, fieldnames=COLUMNS).writerow(hanoi_man(2))
    with path.open("ab") as handle:
        handle.write(b"only,three,fields\n")
        handle.write(b"\xff\xfe not utf-8" + b"," * (len(COLUMNS) - 1) + b"\n")
        handle.write(good.getvalue().encode())
    summary = run_import(session_factory, path)

    reasons = rejects(summary)
    assert f"expected {len(COLUMNS)} fields, found 3" in reasons[3]
    assert "not valid UTF-8" in reasons[4]
    assert summary.rows_loaded == 2


@pytest.mark.parametrize(("content", "message"), [
    ("", "the file is empty"),
    ("personal_id_number,full_name\n", "missing required column(s): date_of_birth"),
    (",".join((*COLUMNS, "shoe_size")) + "\n", "unknown column(s): shoe_size"),
    (",".join(c for c in COLUMNS if c != "permanent_ward_code") + "\n", "give residence"),
])
def test_an_unusable_file_loads_nothing_and_says_why(
        session_factory: sessionmaker[Session], tmp_path: Path, content: str,
        message: str) -> None:
    path = tmp_path / "unusable.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(HeaderError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_import(session_factory, path)
    with transaction(session_factory) as session:
        assert count(session, ImportRun) == 0
        assert count(session, Person) == 0


def test_relatives_named_before_they_appear_are_linked_after_a_second_pass(
        session_factory: sessionmaker[Session], tmp_path: Path, way: dict[str, bool]) -> None:
    father = hanoi_man(1, date_of_birth="1990-01-01")
    child = person_row(pid.compose("01", 2015, Sex.FEMALE, 1), date_of_birth="2015-03-03",
                       sex="F", father_id_number=father["personal_id_number"], phone="")
    filler = [hanoi_man(serial) for serial in range(2, 12)]
    summary = run_import(session_factory, write_csv(tmp_path / "child-first.csv",
                                                    [child, *filler, father]), batch_size=4,
                         **way)

    assert (summary.rows_read, summary.rows_loaded, summary.rows_rejected) == (12, 12, 0)
    with transaction(session_factory) as session:
        relation = session.execute(select(FamilyRelation)).scalar_one()
        assert (relation.kind, relation.since) == ("parent", date(2015, 3, 3))


def test_a_relative_named_with_quotes_and_backslashes_is_looked_up_as_written(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """The batch's numbers reach the database as one array literal: a number holding the
    literal's own characters must be escaped, not break it or match someone else."""
    rows = [hanoi_man(1), hanoi_man(2, father_id_number='0\\",01"\\')]
    summary = run_import(session_factory, write_csv(tmp_path / "quoted.csv", rows))

    assert (summary.rows_loaded, summary.rows_rejected) == (1, 1)
    assert 'father_id_number: 0\\",01"\\ is neither in the register' in rejects(summary)[3]


def test_legacy_addresses_are_converted_to_the_2025_wards(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with transaction(session_factory) as session:
        mapped = session.execute(select(LegacyWardMapping).where(
            LegacyWardMapping.legacy_province_code == "01", LegacyWardMapping.divided.is_(False),
            LegacyWardMapping.new_ward_code.is_not(None)).limit(1)).scalar_one()
        phuc_xa = session.get(LegacyWardMapping, "00001")
        unmapped = session.execute(select(LegacyWardMapping.legacy_ward_code).where(
            LegacyWardMapping.new_ward_code.is_(None)).limit(1)).scalar_one()
    assert phuc_xa is not None
    columns = (*(c for c in COLUMNS if c != "permanent_ward_code"),
               "permanent_legacy_ward_code", "permanent_legacy_address")
    rows = [hanoi_man(1, permanent_legacy_ward_code=mapped.legacy_ward_code),
            hanoi_man(2, permanent_legacy_address="Phường Phúc Xá, Quận Ba Đình, Hà Nội"),
            hanoi_man(3, permanent_legacy_ward_code=unmapped),
            hanoi_man(4, permanent_legacy_address="somewhere over the rainbow")]
    summary = run_import(session_factory, write_csv(tmp_path / "legacy.csv", rows, columns))

    with transaction(session_factory) as session:
        wards = dict(session.execute(
            select(Person.personal_id_number, Person.permanent_ward_code)).all())
    assert wards == {rows[0]["personal_id_number"]: mapped.new_ward_code,
                     rows[1]["personal_id_number"]: phuc_xa.new_ward_code}
    reasons = rejects(summary)
    assert "split by the 2025 reform" in reasons[4] or "unknown" in reasons[4]
    assert "cannot recognise an old commune" in reasons[5]


def test_export_then_import_into_an_empty_register_round_trips(
        session_factory: sessionmaker[Session], population: Path, tmp_path: Path,
        other_session_factory: sessionmaker[Session]) -> None:
    run_import(session_factory, population)
    exported = tmp_path / "export.csv"
    with transaction(session_factory) as session, exported.open("w", newline="") as handle:
        assert export_persons(session, IMPORTER, handle, "backup for the round trip") == 300
        entry = session.execute(select(AuditEntry).where(
            AuditEntry.action == "registry.export")).scalar_one()
        assert (entry.purpose, entry.detail["persons"]) == ("backup for the round trip", 300)

    summary = run_import(other_session_factory, exported)

    assert (summary.rows_loaded, summary.rows_rejected) == (300, 0)
    with transaction(session_factory) as source, transaction(other_session_factory) as copy:
        for model in (Person, Household, HouseholdMember, FamilyRelation):
            assert count(copy, model) == count(source, model)


def test_export_refuses_without_purpose_or_outside_the_operators_provinces(
        session: Session) -> None:
    with pytest.raises(Invalid):
        export_persons(session, IMPORTER, io.StringIO(), "   ")
    provincial = Actor("test", "hanoi-only", Scope.province("01"), Role.ADMIN)
    with pytest.raises(Forbidden):
        export_persons(session, provincial, io.StringIO(), "monthly report", "79")
    with pytest.raises(Forbidden):
        export_persons(session, provincial, io.StringIO(), "monthly report")
    assert export_persons(session, provincial, io.StringIO(), "monthly report", "01") == 0


def refuse_number_in_database(engine: Engine, number: str) -> None:
    """A rule added in the database behind the application (as a DBA might): the import
    only learns of it when the batch is written."""
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.execute(text(
                "CREATE TRIGGER dba_refusal BEFORE INSERT ON person "
                f"WHEN NEW.personal_id_number = '{number}' "
                "BEGIN SELECT RAISE(ABORT, 'refused by the DBA'); END"))
            return
        connection.execute(text(
            "CREATE FUNCTION dba_refusal() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF NEW.personal_id_number = '{number}' THEN RAISE EXCEPTION 'refused by the DBA'; "
            "END IF; RETURN NEW; END $$"))
        connection.execute(text("CREATE TRIGGER dba_refusal BEFORE INSERT ON person "
                                "FOR EACH ROW EXECUTE FUNCTION dba_refusal()"))


def drop_refusal(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER dba_refusal" if engine.dialect.name == "sqlite"
                                else "DROP TRIGGER dba_refusal ON person"))


def test_a_batch_the_database_refuses_leaves_nothing_and_a_rerun_continues(
        session_factory: sessionmaker[Session], engine: Engine, population: Path) -> None:
    rows = list(synthetic_population(300, seed=5))
    refuse_number_in_database(engine, rows[150]["personal_id_number"])

    with pytest.raises(ImportInterrupted, match=r"lines 102-201 .*refused by the DBA.* 100 rows"):
        run_import(session_factory, population)

    with transaction(session_factory) as session:
        assert count(session, Person) == 100
        assert count(session, HouseholdMember) == 100
        assert set(session.execute(select(Person.personal_id_number)).scalars()) == {
            row["personal_id_number"] for row in rows[:100]}
    drop_refusal(engine)
    resumed = run_import(session_factory, population)
    assert (resumed.rows_already_present, resumed.rows_loaded) == (100, 200)


def test_a_bulk_load_the_database_refuses_leaves_nothing(
        session_factory: sessionmaker[Session], engine: Engine, population: Path) -> None:
    rows = list(synthetic_population(300, seed=5))
    refuse_number_in_database(engine, rows[150]["personal_id_number"])
    constraints_before = schema_checks(engine)

    with pytest.raises(ImportInterrupted, match=r"lines 102-201 .*nothing was loaded"):
        run_import(session_factory, population, bulk=True)

    assert schema_checks(engine) == constraints_before
    with transaction(session_factory) as session:
        assert (count(session, Person), count(session, HouseholdMember),
                count(session, ImportRun)) == (0, 0, 0)
    drop_refusal(engine)
    assert run_import(session_factory, population, bulk=True).rows_loaded == 300


def test_a_bulk_load_gives_back_every_check_it_set_aside(
        session_factory: sessionmaker[Session], engine: Engine, population: Path) -> None:
    constraints_before = schema_checks(engine)
    run_import(session_factory, population, bulk=True)

    assert schema_checks(engine) == constraints_before
    with pytest.raises(IntegrityError), transaction(session_factory) as session:
        session.execute(text("INSERT INTO household_member (person_id, household_id, "
                             "relation_to_head) VALUES (999999, 999999, 'head')"))


def schema_checks(engine: Engine) -> dict[str, tuple[list[str], list[str]]]:
    """Each register table's foreign keys and indexes, by name."""
    found = inspect(engine)
    return {table: (sorted(str(key["name"]) for key in found.get_foreign_keys(table)),
                    sorted(str(index["name"]) for index in found.get_indexes(table)))
            for table in ("person", "household", "household_member", "family_relation")}
