"""The parser half of `registry import`: what crosses to the importer process arrives as it was
parsed, COPY text is escaped only where it must be, and the parser process starts light."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
from datetime import date, datetime
from pathlib import Path

import pytest

from civicstack.kit.pgcopy import copy_line
from civicstack.registry.csv_format import check_header
from civicstack.registry.import_parsing import (
    Parser,
    Prepared,
    Record,
    off_the_wire,
    on_the_wire,
)
from civicstack.registry.rules import ReferenceData
from civicstack.registry.synth import COLUMNS, synthetic_population
from civicstack.registry.units import current_wards, legacy_mappings


@pytest.fixture(scope="module")
def parser() -> Parser:
    """The parser as an import builds it, over the reference units without a database."""
    wards = current_wards()
    provinces, mappings = legacy_mappings(wards)
    reference = ReferenceData(
        {ward["code"]: ward["province_code"] for ward in wards},
        {str(province["code"]): str(province["new_province_code"]) for province in provinces},
        {str(row["legacy_ward_code"]): row["new_ward_code"] for row in mappings})  # type: ignore[misc]
    return Parser(check_header(list(COLUMNS)), reference, run_id=7, for_copy=True)


def crossed(rows: list[Prepared]) -> list[Prepared]:
    """As the importer gets a batch: pickled by the queue between the processes (our own
    bytes, never a file's)."""
    return off_the_wire(pickle.loads(pickle.dumps(on_the_wire(rows))))  # noqa: S301


def records_with_refusals() -> list[Record]:
    """Twelve people, the first, sixth and last refused while parsing (a bad sex, a record of
    the wrong width, a record the CSV reader could not read)."""
    people = [[person[column] for column in COLUMNS]
              for person in synthetic_population(12, seed=9)]
    people[0][COLUMNS.index("sex")] = "X"
    people[5] = people[5][:3]
    records: list[Record] = [(line, cells) for line, cells in enumerate(people, start=2)]
    records[-1] = (13, "malformed CSV: unexpected end of data")
    return records


def test_a_batch_reaches_the_importer_as_it_was_parsed(parser: Parser) -> None:
    prepared = parser.prepare(records_with_refusals())

    received = crossed(prepared)

    assert received == prepared
    assert [row.line for row in received if row.errors] == [2, 7, 13]
    assert all(row.person is not None and row.links is not None and row.errors == []
               for row in received if row.line not in (2, 7, 13))
    assert received[1].cell_values == records_with_refusals()[1][1]
    received[1].reject("personal_id_number", "duplicates line 1")
    assert received[2].errors == []  # each row got its own list of errors


def test_an_empty_batch_crosses_too(parser: Parser) -> None:
    assert crossed(parser.prepare([])) == []


def test_copy_text_escapes_the_formats_own_characters_and_nothing_else() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5)
    values = ("Phố Huế", "a\tb", "c\nd\re", "C:\\thư mục", "\\N", None, date(1990, 5, 17),
              moment, 12, True)

    assert copy_line(values) == ("Phố Huế\ta\\tb\tc\\nd\\re\tC:\\\\thư mục\t\\\\N\t\\N\t"
                                 "1990-05-17\t2026-01-02T03:04:05\t12\tt")


def test_the_parser_process_does_not_load_the_legacy_address_parser() -> None:
    """A second of CPU at every start of the parser process, for rows that seldom need it."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, civicstack.registry.import_parsing; "
                               "print('vietnamadminunits' in sys.modules)"],
        capture_output=True, text=True, check=True).stdout.strip()

    assert loaded == "False"


IMPORTING_SCRIPT = textwrap.dedent("""
    from pathlib import Path

    with Path(__file__).with_suffix(".runs").open("a") as runs:
        runs.write("ran\\n")

    if __name__ == "__main__":
        from civicstack.registry.csv_format import check_header
        from civicstack.registry.import_parsing import Parser, prepared_elsewhere
        from civicstack.registry.rules import ReferenceData
        from civicstack.registry.synth import COLUMNS

        csv_path = Path(__file__).with_suffix(".csv")
        csv_path.write_text(",".join(COLUMNS) + "\\nnot a person\\n")
        parser = Parser(check_header(list(COLUMNS)), ReferenceData({}, {}, {}), run_id=1)
        print(sum(len(rows) for rows, _ in prepared_elsewhere(csv_path, parser, 10)))
""")


def test_the_parser_process_does_not_run_the_importing_script_again(tmp_path: Path) -> None:
    """`civicstack registry import`'s script imports the whole application: 4 s of CPU that
    a spawned parser process would spend before its first row."""
    script = tmp_path / "importing.py"
    script.write_text(IMPORTING_SCRIPT)

    parsed = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            check=True, timeout=120).stdout.strip()

    assert parsed == "1"
    assert script.with_suffix(".runs").read_text() == "ran\n"
