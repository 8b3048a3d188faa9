"""Bulk import of person records from CSV: streamed, batched, idempotent, with a reject file.

Each batch is one transaction, so a crash leaves whole batches, never half a person; re-running
the same file skips people already registered with the same name and birth date, so an
interrupted import is finished simply by running it again. Bad rows never stop the good ones:
each is written to the reject file with its line number and every reason it was refused.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import transaction
from civicstack.kit.metrics import REGISTRY_IMPORT_ROWS
from civicstack.kit.prefetch import prefetch
from civicstack.registry import repository, service
from civicstack.registry.csv_format import HeaderError, Links, ParsedRow, check_header, parse_row
from civicstack.registry.models import (
    FamilyRelation,
    Household,
    HouseholdMember,
    ImportRun,
    Person,
    RelationKind,
)
from civicstack.registry.rules import ReferenceData, load_reference_data
from civicstack.registry.units import fold

ProgressCallback = Callable[[int, int], None]  # (bytes read, rows read)
REJECT_COLUMNS = ("line", "personal_id_number", "reasons")


@dataclass
class ImportSummary:
    run_id: int
    rows_read: int = 0
    rows_loaded: int = 0
    rows_already_present: int = 0
    rows_rejected: int = 0
    rejects_path: Path | None = None


class ImportInterrupted(Exception):
    """The database refused a batch. That batch left nothing behind; earlier batches stay
    committed, and running the same file again continues where this one stopped."""

    def __init__(self, first_line: int, last_line: int, summary: ImportSummary,
                 cause: SQLAlchemyError) -> None:
        reason = str(getattr(cause, "orig", cause)).strip().splitlines()[0]
        super().__init__(f"the database refused the batch of lines {first_line}-{last_line} "
                         f"({reason}); {summary.rows_loaded:,} rows were loaded before it; "
                         "run the same file again to continue")
        self.summary = summary


@dataclass
class _BatchOutcome:
    loaded: int = 0
    already_present: int = 0
    deferred: list[ParsedRow] = field(default_factory=list)


class _CountingReader(io.RawIOBase):
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


class _RowWriter(Protocol):
    def writerows(self, rows: Iterable[Iterable[Any]], /) -> None: ...


@dataclass
class _Importer:
    factory: sessionmaker[Session]
    actor: Actor
    columns: dict[str, int]
    reference: ReferenceData
    summary: ImportSummary
    rejects: _RowWriter
    batch_size: int

    def load(self, records: Iterator[Record], spill: IO[str] | None,
             after_batch: Callable[[], None] | None = None) -> int:
        """Load `records`; rows whose relatives are not yet known go to `spill` (if given,
        else they are rejected). Returns how many were spilled."""
        spill_writer = csv.writer(spill) if spill else None
        spilled = 0
        parsed = ([_parse(line, cells, self.columns, self.reference) for line, cells in batch]
                  for batch in _batches(records, self.batch_size))
        for rows in prefetch(parsed):
            try:
                with transaction(self.factory) as session:
                    outcome = _load_batch(session, self.actor, self.summary.run_id, rows,
                                          self.reference, defer=spill_writer is not None)
            except SQLAlchemyError as exc:
                raise ImportInterrupted(rows[0].line, rows[-1].line, self.summary, exc) from exc
            if spill_writer:
                spill_writer.writerows([row.line, *row.cells] for row in outcome.deferred)
                spilled += len(outcome.deferred)
            _tally(self.summary, rows, outcome)
            self.rejects.writerows(_reject_lines(rows))
            if after_batch:
                after_batch()
        return spilled

    def retry_deferred(self, spill: IO[str], pending: int) -> None:
        """Rows may name relatives that come later in the file: retry them until a pass makes
        no progress, then reject what is left with the reason."""
        while pending:
            spill.seek(0)
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as still:
                remaining = self.load(_spilled_records(spill), still)
                if remaining == pending:
                    still.seek(0)
                    self.load(_spilled_records(still), None)
                    return
                spill.seek(0)
                spill.truncate()
                still.seek(0)
                shutil.copyfileobj(still, spill)
                pending = remaining


def _spilled_records(spill: IO[str]) -> Iterator[Record]:
    for line, *cells in csv.reader(spill):
        yield int(line), cells


def import_persons(
    factory: sessionmaker[Session], path: Path, actor: Actor, *, batch_size: int = 5000,
    rejects_path: Path | None = None, on_progress: ProgressCallback | None = None,
) -> ImportSummary:
    """Load every acceptable row of `path`; raises HeaderError when the file is unusable."""
    rejects_path = rejects_path or path.with_suffix(".rejects.csv")
    with path.open("rb") as raw:
        counter = _CountingReader(raw)
        reader = csv.reader(io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig",
                                             errors="replace", newline=""))
        header = next(reader, None)
        if header is None:
            raise HeaderError("the file is empty")
        columns = check_header(header)
        with transaction(factory) as session:
            reference = load_reference_data(session)
            summary = ImportSummary(_start_run(session, path, actor), rejects_path=rejects_path)
        with rejects_path.open("w", encoding="utf-8", newline="") as rejects, \
                tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spill:
            writer = csv.writer(rejects)
            writer.writerow([*REJECT_COLUMNS, *header])
            importer = _Importer(factory, actor, columns, reference, summary, writer, batch_size)
            report = (lambda: on_progress(counter.bytes_read, summary.rows_read)) \
                if on_progress else None
            deferred = importer.load(_records(reader), spill, report)
            importer.retry_deferred(spill, deferred)
    with transaction(factory) as session:
        _finish_run(session, summary.run_id)
    return summary


def _start_run(session: Session, path: Path, actor: Actor) -> int:
    run = ImportRun(file_name=path.name, actor=str(actor), started_at=service.now())
    session.add(run)
    session.flush()
    return run.id


def _finish_run(session: Session, run_id: int) -> None:
    session.execute(update(ImportRun).where(ImportRun.id == run_id)
                    .values(finished_at=service.now()))


Record = tuple[int, list[str] | str]  # line number, then the cells or why they could not be read


def _records(reader: Iterator[list[str]]) -> Iterator[Record]:
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


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _parse(line: int, cells: list[str] | str, columns: dict[str, int],
           reference: ReferenceData) -> ParsedRow:
    if isinstance(cells, str):
        row = ParsedRow(line, [], {})
        row.reject("row", cells)
        return row
    return parse_row(line, cells, columns, reference, date.today())


@dataclass(frozen=True)
class _Candidate:
    """A row that passed every check that needs no database."""

    row: ParsedRow
    person: service.NewPerson
    links: Links

    @property
    def number(self) -> str:
        return self.person.facts.personal_id_number

    @property
    def born(self) -> date:
        return self.person.facts.date_of_birth


def _candidates(rows: list[ParsedRow]) -> list[_Candidate]:
    return [_Candidate(row, row.person, row.links) for row in rows
            if row.person is not None and row.links is not None and not row.errors]


def _load_batch(session: Session, actor: Actor, run_id: int, rows: list[ParsedRow],
                reference: ReferenceData, *, defer: bool) -> _BatchOutcome:
    """Insert the batch's new people, households and family links in one transaction."""
    candidates = _candidates(rows)
    named = {number for c in candidates for _, number in c.links.relatives()}
    known = repository.known_persons(session, {c.number for c in candidates} | named)
    outcome = _BatchOutcome()
    accepted: dict[str, _Candidate] = {}
    for candidate in candidates:
        if _is_already_present(candidate, known, accepted):
            outcome.already_present += 1
        elif defer and _missing_relatives(candidate, known, accepted):
            outcome.deferred.append(candidate.row)
        elif _relatives_acceptable(candidate, known, accepted):
            accepted[candidate.number] = candidate
    outcome.loaded = len(accepted)
    moment = service.now()
    repository.bulk_insert(session, Person, [
        service.person_values(c.person, reference, moment, run_id) for c in accepted.values()])
    ids = {number: person.id for number, person in known.items()}
    ids |= {n: p.id for n, p in repository.known_persons(session, accepted).items()}
    _insert_households(session, list(accepted.values()), ids, moment)
    _insert_relations(session, list(accepted.values()), ids)
    _record_batch(session, actor, run_id, rows, outcome)
    return outcome


def _is_already_present(candidate: _Candidate, known: dict[str, repository.KnownPerson],
                        accepted: dict[str, _Candidate]) -> bool:
    number, row = candidate.number, candidate.row
    if number in accepted:
        row.reject("personal_id_number", f"duplicates line {accepted[number].row.line}")
        return False
    existing = known.get(number)
    if existing is None:
        return False
    if (existing.full_name_folded, existing.date_of_birth) == (
            fold(candidate.person.facts.full_name), candidate.born):
        return True
    row.reject("personal_id_number", "already registered to a different person "
                                     f"(born {existing.date_of_birth})")
    return False


def _missing_relatives(candidate: _Candidate, known: dict[str, repository.KnownPerson],
                       accepted: dict[str, _Candidate]) -> bool:
    return any(number not in accepted and number not in known
               for _, number in candidate.links.relatives())


def _relatives_acceptable(candidate: _Candidate, known: dict[str, repository.KnownPerson],
                          accepted: dict[str, _Candidate]) -> bool:
    for column, number in candidate.links.relatives():
        relative_born = (accepted[number].born if number in accepted
                         else known[number].date_of_birth if number in known else None)
        if relative_born is None:
            candidate.row.reject(column, f"{number} is neither in the register nor in "
                                         "this file")
        elif column != "spouse_id_number" and relative_born >= candidate.born:
            candidate.row.reject(column, f"parent {number} was born on {relative_born}, "
                                         "after the child")
    return not candidate.row.errors


def _insert_households(session: Session, loaded: list[_Candidate], ids: dict[str, int],
                       moment: datetime) -> None:
    members = [(c, c.links.household_code) for c in loaded if c.links.household_code]
    homes = repository.household_ids(session, {code for _, code in members})
    new_homes: dict[str, dict[str, Any]] = {}
    for candidate, code in members:
        if code not in homes and code not in new_homes:
            new_homes[code] = {"household_code": code,
                               "ward_code": candidate.person.facts.permanent_ward_code,
                               "address_line": candidate.person.permanent_address_line,
                               "created_at": moment}
    repository.bulk_insert(session, Household, list(new_homes.values()))
    homes |= repository.household_ids(session, new_homes)
    repository.bulk_insert(session, HouseholdMember, [
        {"person_id": ids[c.number], "household_id": homes[code],
         "relation_to_head": c.links.relation_to_head} for c, code in members])


def _insert_relations(session: Session, loaded: list[_Candidate], ids: dict[str, int]) -> None:
    relations = []
    for candidate in loaded:
        for column, number in candidate.links.relatives():
            spouse = column == "spouse_id_number"
            relations.append({
                "person_id": ids[candidate.number], "relative_id": ids[number],
                "kind": (RelationKind.SPOUSE if spouse else RelationKind.PARENT).value,
                "since": None if spouse else candidate.born, "until": None})
    repository.bulk_insert(session, FamilyRelation, relations)


def _record_batch(session: Session, actor: Actor, run_id: int, rows: list[ParsedRow],
                  outcome: _BatchOutcome) -> None:
    """One audit entry per committed batch: who loaded which lines of which run."""
    rejected = sum(1 for row in rows if row.errors)
    audit.record(session, actor, "registry.import.batch", subject_type="import_run",
                 subject_id=str(run_id), purpose="bulk registration",
                 detail={"lines": [rows[0].line, rows[-1].line], "loaded": outcome.loaded,
                         "already_present": outcome.already_present, "rejected": rejected,
                         "deferred": len(outcome.deferred)})
    session.execute(update(ImportRun).where(ImportRun.id == run_id).values(
        rows_read=ImportRun.rows_read + len(rows) - len(outcome.deferred),
        rows_loaded=ImportRun.rows_loaded + outcome.loaded,
        rows_already_present=ImportRun.rows_already_present + outcome.already_present,
        rows_rejected=ImportRun.rows_rejected + rejected))


def _tally(summary: ImportSummary, rows: list[ParsedRow], outcome: _BatchOutcome) -> None:
    rejected = sum(1 for row in rows if row.errors)
    summary.rows_read += len(rows) - len(outcome.deferred)  # counted when finally settled
    summary.rows_loaded += outcome.loaded
    summary.rows_already_present += outcome.already_present
    summary.rows_rejected += rejected
    for outcome_name, count in (("loaded", outcome.loaded), ("rejected", rejected),
                                ("already_present", outcome.already_present)):
        REGISTRY_IMPORT_ROWS.labels(outcome_name).inc(count)


def _reject_lines(rows: list[ParsedRow]) -> Iterator[list[object]]:
    for row in rows:
        if row.errors:
            reasons = "; ".join(f"{e.field}: {e.reason}" for e in row.errors)
            yield [row.line, row.personal_id_number, reasons, *row.cells]
