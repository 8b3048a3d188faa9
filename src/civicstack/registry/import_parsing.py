"""The database-free half of `registry import`: read the CSV, parse and check each record, and
hand the importer batches of prepared rows, one step ahead of it.

Parsing is most of an import's Python work, so a large file is parsed in a separate process:
the importer then only classifies rows against the register and writes them, and the two
halves run on two cores. A batch crosses the process boundary as columns of plain values
(`on_the_wire`), which pickle several times faster than the parser's own objects and are turned
back into them with no Python code per row.
"""

from __future__ import annotations

import csv
import gc
import io
import multiprocessing
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import IO, Any, NamedTuple

from civicstack.kit.errors import FieldError
from civicstack.kit.pgcopy import copy_line
from civicstack.kit.prefetch import prefetch
from civicstack.registry import service
from civicstack.registry.csv_format import Links, parse_row
from civicstack.registry.rules import ReferenceData

Record = tuple[int, list[str] | str]  # line number, then the cells or why they could not be read
# Joins the cells of a record that parsed: such a record holds no control character, so the
# separator cannot be one of its own characters. One string pickles many times faster than
# the list of a record's twenty cells.
CELL_SEPARATOR = "\x1f"
# Files at least this large are parsed in a separate process; below it, starting one costs
# more than it saves.
PARSER_PROCESS_MIN_BYTES = 8 << 20
_FOLDED, _BORN, _WARD, _ADDRESS = (service.PERSON_ROW.index(name) for name in (
    "full_name_folded", "date_of_birth", "permanent_ward_code", "permanent_address_line"))


class Person(NamedTuple):
    """What the importer needs of a parsed person: for checks against the register and the
    rest of the file, and the row to insert, as values (service.PERSON_ROW order) or, when
    bound for PostgreSQL, already as a COPY text line (it then pickles as one string)."""

    full_name_folded: str
    born: date
    ward_code: str
    address_line: str
    row: tuple[Any, ...] | str


class Prepared(NamedTuple):
    """One CSV record checked without the database: a person ready to insert with their
    family links, or the reasons the record is refused."""

    line: int
    cells: list[str] | str  # the record's cells; joined by CELL_SEPARATOR once it has parsed
    number: str  # the personal ID number as written, for the reject file
    errors: list[FieldError]
    person: Person | None
    links: Links | None

    def reject(self, field_name: str, reason: str) -> None:
        self.errors.append(FieldError(field_name, reason))

    @property
    def cell_values(self) -> list[str]:
        """The record's cells as read, for the reject file or a later pass."""
        return self.cells.split(CELL_SEPARATOR) if isinstance(self.cells, str) else self.cells

    # For rows that passed parsing (person and links set).
    @property
    def parsed(self) -> Person:
        assert self.person is not None
        return self.person

    @property
    def family(self) -> Links:
        assert self.links is not None
        return self.links


Batch = tuple[list[Prepared], int]  # prepared rows, and bytes of the file read so far


@dataclass(frozen=True)
class Parser:
    """Everything parsing needs. `for_copy`: give each person's row as a COPY text line."""

    columns: dict[str, int]
    reference: ReferenceData
    run_id: int
    for_copy: bool = False

    def prepare(self, records: Iterable[Record]) -> list[Prepared]:
        today, moment = date.today(), service.now()
        return [self._prepared(line, cells, today, moment) for line, cells in records]

    def _prepared(self, line: int, cells: list[str] | str, today: date,
                  moment: Any) -> Prepared:
        if isinstance(cells, str):
            return Prepared(line, [], "", [FieldError("row", cells)], None, None)
        row = parse_row(line, cells, self.columns, self.reference, today)
        if row.person is None:
            return Prepared(line, cells, row.personal_id_number, row.errors, None, row.links)
        values = service.person_row(row.person, self.reference, moment, self.run_id)
        person = Person(values[_FOLDED], values[_BORN], values[_WARD], values[_ADDRESS],
                        copy_line(values) if self.for_copy else values)
        return Prepared(line, CELL_SEPARATOR.join(cells), row.personal_id_number, row.errors,
                        person, row.links)


# A batch as it crosses to the importer: the rows refused while parsing, whole (they are few),
# with their places in the batch; then, column by column, the rows that parsed (their errors
# are empty, and their Person and Links are spread into the columns, the birth dates as day
# numbers: a date pickles as a call to its constructor).
WireBatch = tuple[list[tuple[int, Prepared]], tuple[list[Any], ...]]
_PARSED_COLUMNS = len(Prepared._fields) - 3 + len(Person._fields) + len(Links._fields)
_BORN_COLUMN = 3 + Person._fields.index("born")


def on_the_wire(rows: list[Prepared]) -> WireBatch:
    refused = [(place, row) for place, row in enumerate(rows) if row.person is None]
    parsed = [(row.line, row.cells, row.number, *row.parsed, *row.family)
              for row in rows if row.person is not None]
    columns = list(map(list, zip(*parsed, strict=True))) if parsed else \
        [[] for _ in range(_PARSED_COLUMNS)]
    columns[_BORN_COLUMN] = list(map(date.toordinal, columns[_BORN_COLUMN]))
    return refused, tuple(columns)


def off_the_wire(batch: WireBatch) -> list[Prepared]:
    """The rows of `on_the_wire`, rebuilt by C-level constructors over its columns."""
    refused, wire_columns = batch
    columns: list[Iterable[Any]] = list(wire_columns)
    columns[_BORN_COLUMN] = map(date.fromordinal, wire_columns[_BORN_COLUMN])
    line, cells, number, *rest = columns
    persons = map(_made(Person), zip(*rest[:len(Person._fields)], strict=True))
    links = map(_made(Links), zip(*rest[len(Person._fields):], strict=True))
    own_errors: Iterator[list[FieldError]] = map(list, ((),) * len(wire_columns[0]))
    rows = list(map(_made(Prepared), zip(
        line, cells, number, own_errors, persons, links, strict=True)))
    for place, row in refused:  # in ascending order, so each lands where it was
        rows.insert(place, row)
    return rows


def _made(kind: type[Any]) -> Callable[[Iterable[Any]], Any]:
    """A NamedTuple from its values in one C call; its own constructor is Python code."""
    return partial(tuple.__new__, kind)


class CountingReader(io.RawIOBase):
    """Counts bytes as the CSV reader consumes them, so progress needs no second pass."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw, self.bytes_read = raw, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


def csv_rows(counter: CountingReader) -> Iterator[list[str]]:
    """The file's CSV records; bytes that are not UTF-8 become U+FFFD, which parse refuses."""
    return csv.reader(io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig",
                                       errors="replace", newline=""))


def records(reader: Iterator[list[str]]) -> Iterator[Record]:
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # the reader resumes on the next line after a bad one
            yield reader.line_num, f"malformed CSV: {exc}"  # type: ignore[attr-defined]
            continue
        if any(cell.strip() for cell in cells):
            yield reader.line_num, cells  # type: ignore[attr-defined]


def batches(items: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def fewer_collections() -> Iterator[None]:
    """An import allocates millions of short-lived objects without cycles; at the default
    threshold the cycle collector would run every 700 of them and cost a third of the time."""
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def prepared_here(reader: Iterator[list[str]], counter: CountingReader, parser: Parser,
                  size: int) -> Iterator[Batch]:
    """Parse in a thread of this process, one batch ahead of the importer."""
    return prefetch((parser.prepare(batch), counter.bytes_read)
                    for batch in batches(records(reader), size))


_Sent = tuple[WireBatch, int] | BaseException | None  # through the queue: a batch, or the end


def prepared_elsewhere(path: Path, parser: Parser, size: int) -> Iterator[Batch]:
    """Parse in a separate process that reads the file itself (after the header, which the
    importer has checked) and sends batches through a bounded queue, so memory stays flat."""
    # Spawned, not forked: a forked child holds a copy of the importer's database connection,
    # and once the importer is killed that copy kept its transaction "idle in transaction",
    # with the register's locks, for as long as the orphan lived. Spawning re-imports the
    # modules (a second or two), little beside the minutes a file this large takes.
    context = multiprocessing.get_context("spawn")
    ready: multiprocessing.Queue[_Sent] = context.Queue(maxsize=3)
    worker = context.Process(target=_parse_file, args=(path, parser, size, ready),
                             name="registry-import-parser", daemon=True)
    with _main_script_left_behind():
        worker.start()
    try:
        # A thread receives and unpickles the next batch while the importer waits on the
        # database, instead of after.
        yield from prefetch(_received(ready, worker))
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()


@contextmanager
def _main_script_left_behind() -> Iterator[None]:
    """A spawned process first runs its parent's main script, unless that has no file: for
    `civicstack registry import` the script imports the whole application, 4 s of CPU in the
    parser (13 µs a person on 300,000) for nothing it uses: its target and arguments live in
    importable modules. The file is hidden only while the process starts."""
    main = sys.modules["__main__"]
    script = main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        if script is not None:
            main.__file__ = script


def _received(ready: multiprocessing.Queue[_Sent],
              worker: multiprocessing.process.BaseProcess) -> Iterator[Batch]:
    while (item := _next(ready, worker)) is not None:
        if isinstance(item, BaseException):
            raise item
        wire_batch, bytes_read = item
        yield off_the_wire(wire_batch), bytes_read


def _next(ready: multiprocessing.Queue[_Sent],
          worker: multiprocessing.process.BaseProcess) -> _Sent:
    while True:
        try:
            return ready.get(timeout=1)
        except queue.Empty:
            if not worker.is_alive():
                raise RuntimeError(f"the parser process stopped unexpectedly "
                                   f"(exit code {worker.exitcode})") from None


def _parse_file(path: Path, parser: Parser, size: int,
                ready: multiprocessing.Queue[_Sent]) -> None:
    _exit_with(multiprocessing.parent_process())
    try:
        with fewer_collections(), path.open("rb") as raw:
            counter = CountingReader(raw)
            reader = csv_rows(counter)
            next(reader, None)
            for batch in batches(records(reader), size):
                ready.put((on_the_wire(parser.prepare(batch)), counter.bytes_read))
        ready.put(None)
    except BaseException as exc:  # handed to the importer, which re-raises it
        ready.put(exc)


def _exit_with(importer: multiprocessing.process.BaseProcess | None) -> None:
    """The parser ends when its importer does, however it ends (kill -9 included): a thread
    waits on the importer's end of multiprocessing's pipe, which the kernel closes when the
    importer dies, instead of the parser blocking for ever on a full queue nobody reads."""
    assert importer is not None, "run only in the parser process"
    threading.Thread(target=_exit_after, args=(importer,), name="importer-watch",
                     daemon=True).start()


def _exit_after(importer: multiprocessing.process.BaseProcess) -> None:
    importer.join()
    os._exit(1)
