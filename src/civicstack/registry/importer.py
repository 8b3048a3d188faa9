"""Bulk import of person records from CSV: streamed, batched, idempotent, with a reject file.

Each batch is one transaction, so a crash leaves whole batches, never half a person; re-running
the same file skips people already registered with the same name and birth date, so an
interrupted import is finished simply by running it again. Bad rows never stop the good ones:
each is written to the reject file with its line number and every reason it was refused.

A bulk load (`bulk=True`, for the first national load or a maintenance window) is one
transaction instead: the register's tables are locked, their foreign keys and secondary
indexes set aside and rebuilt at the end, so it is all or nothing and several times faster.
Parsing runs a batch ahead of the database work (import_parsing), in a separate process for
a large file.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any, Protocol

from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import transaction
from civicstack.kit.metrics import REGISTRY_IMPORT_ROWS
from civicstack.kit.private_files import private_file
from civicstack.registry import repository, service
from civicstack.registry.csv_format import HeaderError, check_header
from civicstack.registry.import_parsing import (
    PARSER_PROCESS_MIN_BYTES,
    Batch,
    CountingReader,
    Parser,
    Prepared,
    Record,
    batches,
    csv_rows,
    fewer_collections,
    prepared_elsewhere,
    prepared_here,
)
from civicstack.registry.models import (
    FamilyRelation,
    Household,
    HouseholdMember,
    ImportRun,
    Person,
    RelationKind,
)
from civicstack.registry.rules import load_reference_data

ProgressCallback = Callable[[int, int], None]  # (bytes read, rows read)
REJECT_COLUMNS = ("line", "personal_id_number", "reasons")
HOUSEHOLD_COLUMNS = ("household_code", "ward_code", "address_line", "created_at")
MEMBER_COLUMNS = ("person_id", "household_id", "relation_to_head")
RELATION_COLUMNS = ("person_id", "relative_id", "kind", "since")
# kind and since of the link each relative column makes; a parent link starts at the birth
RELATION_OF_COLUMN: dict[str, Callable[[date], tuple[str, date | None]]] = {
    "father_id_number": lambda born: (RelationKind.PARENT.value, born),
    "mother_id_number": lambda born: (RelationKind.PARENT.value, born),
    "spouse_id_number": lambda born: (RelationKind.SPOUSE.value, None),
}


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
    committed (unless the load is a bulk one), and running the same file again continues."""

    def __init__(self, refused: str, summary: ImportSummary, cause: SQLAlchemyError, *,
                 bulk: bool) -> None:
        reason = str(getattr(cause, "orig", cause)).strip().splitlines()[0]
        outcome = ("nothing was loaded: a bulk load is one transaction" if bulk else
                   f"{summary.rows_loaded:,} rows were loaded before it; run the same file "
                   "again to continue")
        super().__init__(f"the database refused {refused} ({reason}); {outcome}")
        self.summary = summary


@dataclass
class _BatchOutcome:
    loaded: int = 0
    already_present: int = 0
    deferred: list[Prepared] = field(default_factory=list)


class _RowWriter(Protocol):
    def writerows(self, rows: Iterable[Iterable[Any]], /) -> None: ...


Unit = Callable[[], AbstractContextManager[Session]]  # the transaction a batch runs in


@dataclass
class _Importer:
    unit: Unit
    bulk: bool
    actor: Actor
    parser: Parser
    summary: ImportSummary
    rejects: _RowWriter
    batch_size: int

    def load(self, prepared: Iterator[Batch], spill: IO[str] | None,
             on_progress: ProgressCallback | None = None) -> int:
        """Load the prepared batches; rows whose relatives are not yet known go to `spill`
        (if given, else they are rejected). Returns how many were spilled."""
        spill_writer = csv.writer(spill) if spill else None
        spilled = 0
        for rows, bytes_read in prepared:
            try:
                with self.unit() as session:
                    outcome = _load_batch(session, self.actor, self.summary.run_id, rows,
                                          defer=spill_writer is not None)
            except SQLAlchemyError as exc:
                raise ImportInterrupted(f"the batch of lines {rows[0].line}-{rows[-1].line}",
                                        self.summary, exc, bulk=self.bulk) from exc
            if spill_writer:
                spill_writer.writerows([row.line, *row.cell_values] for row in outcome.deferred)
                spilled += len(outcome.deferred)
            _tally(self.summary, rows, outcome)
            self.rejects.writerows(_reject_lines(rows))
            if on_progress:
                on_progress(bytes_read, self.summary.rows_read)
        return spilled

    def retry_deferred(self, spill: IO[str], pending: int) -> None:
        """Rows may name relatives that come later in the file: retry them until a pass makes
        no progress, then reject what is left with the reason."""
        while pending:
            spill.seek(0)
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as still:
                remaining = self.load(self._spilled(spill), still)
                if remaining == pending:
                    still.seek(0)
                    self.load(self._spilled(still), None)
                    return
                spill.seek(0)
                spill.truncate()
                still.seek(0)
                shutil.copyfileobj(still, spill)
                pending = remaining

    def _spilled(self, spill: IO[str]) -> Iterator[Batch]:
        return ((self.parser.prepare(batch), 0)
                for batch in batches(_spilled_records(spill), self.batch_size))


def _spilled_records(spill: IO[str]) -> Iterator[Record]:
    for line, *cells in csv.reader(spill):
        yield int(line), cells


def import_persons(
    factory: sessionmaker[Session], path: Path, actor: Actor, *, batch_size: int = 5000,
    rejects_path: Path | None = None, on_progress: ProgressCallback | None = None,
    bulk: bool = False, parser_process: bool | None = None,
) -> ImportSummary:
    """Load every acceptable row of `path`; raises HeaderError when the file is unusable.
    `parser_process`: parse in a separate process (by default, for files of 8 MiB or more)."""
    rejects_path = rejects_path or path.with_suffix(".rejects.csv")
    if parser_process is None:
        parser_process = path.stat().st_size >= PARSER_PROCESS_MIN_BYTES
    with path.open("rb") as raw:
        counter = CountingReader(raw)
        reader = csv_rows(counter)
        header = next(reader, None)
        if header is None:
            raise HeaderError("the file is empty")
        columns = check_header(header)
        with fewer_collections(), _units(factory, bulk) as unit:
            with unit() as session:
                parser = Parser(columns, load_reference_data(session),
                                _start_run(session, path, actor),
                                for_copy=repository.loads_by_copy(session))
            summary = ImportSummary(parser.run_id, rejects_path=rejects_path)
            prepared = (prepared_elsewhere(path, parser, batch_size) if parser_process
                        else prepared_here(reader, counter, parser, batch_size))
            # The refused rows are people's data: the file is the operator's alone.
            with private_file(rejects_path).open("w", encoding="utf-8", newline="") as rejects, \
                    tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as spill:
                writer = csv.writer(rejects)
                writer.writerow([*REJECT_COLUMNS, *header])
                importer = _Importer(unit, bulk, actor, parser, summary, writer, batch_size)
                deferred = importer.load(prepared, spill, on_progress)
                importer.retry_deferred(spill, deferred)
            with unit() as session:
                _finish_run(session, summary.run_id)
    return summary


@contextmanager
def _units(factory: sessionmaker[Session], bulk: bool) -> Iterator[Unit]:
    """A transaction per batch; or, for a bulk load, one transaction that every batch shares,
    with the register's checks set aside until its end."""
    if not bulk:
        yield lambda: transaction(factory)
        return
    with transaction(factory) as session:
        try:
            with repository.checks_set_aside(session):
                yield lambda: nullcontext(session)
        except SQLAlchemyError as exc:  # the final re-validation refused the load
            raise ImportInterrupted("the bulk load's final checks", ImportSummary(0), exc,
                                    bulk=True) from exc


def _start_run(session: Session, path: Path, actor: Actor) -> int:
    run = ImportRun(file_name=path.name, actor=str(actor), started_at=service.now())
    session.add(run)
    session.flush()
    return run.id


def _finish_run(session: Session, run_id: int) -> None:
    session.execute(update(ImportRun).where(ImportRun.id == run_id)
                    .values(finished_at=service.now()))


def _load_batch(session: Session, actor: Actor, run_id: int, rows: list[Prepared], *,
                defer: bool) -> _BatchOutcome:
    """Insert the batch's new people, households and family links in one transaction."""
    candidates = [row for row in rows if row.person is not None and not row.errors]
    named = {number for row in candidates for _, number in row.family.relatives}
    known = repository.known_persons(session, {row.number for row in candidates} | named)
    outcome = _BatchOutcome()
    accepted: dict[str, Prepared] = {}
    for candidate in candidates:
        if _is_already_present(candidate, known, accepted):
            outcome.already_present += 1
        elif defer and _missing_relatives(candidate, known, accepted):
            outcome.deferred.append(candidate)
        elif _relatives_acceptable(candidate, known, accepted):
            accepted[candidate.number] = candidate
    outcome.loaded = len(accepted)
    loaded = list(accepted.values())
    ids = {number: person.id for number, person in known.items()}
    ids.update(zip(accepted, repository.insert_with_ids(
        session, Person, service.PERSON_ROW, [row.parsed.row for row in loaded]),
        strict=True))
    _insert_households(session, loaded, ids)
    _insert_relations(session, loaded, ids)
    _record_batch(session, actor, run_id, rows, outcome)
    return outcome


def _insert_households(session: Session, loaded: list[Prepared], ids: dict[str, int]) -> None:
    members = [(row, row.family.household_code) for row in loaded
               if row.family.household_code]
    homes = repository.household_ids(session, {code for _, code in members})
    founders: dict[str, Prepared] = {}
    for row, code in members:
        if code not in homes:
            founders.setdefault(code, row)
    moment = service.now()
    homes.update(zip(founders, repository.insert_with_ids(
        session, Household, HOUSEHOLD_COLUMNS,
        [(code, row.parsed.ward_code, row.parsed.address_line, moment)
         for code, row in founders.items()]),
        strict=True))
    repository.bulk_insert(session, HouseholdMember, MEMBER_COLUMNS, [
        (ids[row.number], homes[code], row.family.relation_to_head) for row, code in members])


def _insert_relations(session: Session, loaded: list[Prepared], ids: dict[str, int]) -> None:
    repository.bulk_insert(session, FamilyRelation, RELATION_COLUMNS, [
        (ids[row.number], ids[number], *RELATION_OF_COLUMN[column](row.parsed.born))
        for row in loaded for column, number in row.family.relatives])


def _is_already_present(candidate: Prepared, known: dict[str, repository.KnownPerson],
                        accepted: dict[str, Prepared]) -> bool:
    number = candidate.number
    if number in accepted:
        candidate.reject("personal_id_number", f"duplicates line {accepted[number].line}")
        return False
    existing = known.get(number)
    if existing is None:
        return False
    if (existing.full_name_folded, existing.date_of_birth) == (
            candidate.parsed.full_name_folded, candidate.parsed.born):
        return True
    candidate.reject("personal_id_number", "already registered to a different person "
                                           f"(born {existing.date_of_birth})")
    return False


def _missing_relatives(candidate: Prepared, known: dict[str, repository.KnownPerson],
                       accepted: dict[str, Prepared]) -> bool:
    return any(number not in accepted and number not in known
               for _, number in candidate.family.relatives)


def _relatives_acceptable(candidate: Prepared, known: dict[str, repository.KnownPerson],
                          accepted: dict[str, Prepared]) -> bool:
    for column, number in candidate.family.relatives:
        relative_born = (accepted[number].parsed.born if number in accepted
                         else known[number].date_of_birth if number in known else None)
        if relative_born is None:
            candidate.reject(column, f"{number} is neither in the register nor in this file")
        elif column != "spouse_id_number" and relative_born >= candidate.parsed.born:
            candidate.reject(column, f"parent {number} was born on {relative_born}, "
                                     "after the child")
    return not candidate.errors


def _record_batch(session: Session, actor: Actor, run_id: int, rows: list[Prepared],
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


def _tally(summary: ImportSummary, rows: list[Prepared], outcome: _BatchOutcome) -> None:
    rejected = sum(1 for row in rows if row.errors)
    summary.rows_read += len(rows) - len(outcome.deferred)  # counted when finally settled
    summary.rows_loaded += outcome.loaded
    summary.rows_already_present += outcome.already_present
    summary.rows_rejected += rejected
    for outcome_name, count in (("loaded", outcome.loaded), ("rejected", rejected),
                                ("already_present", outcome.already_present)):
        REGISTRY_IMPORT_ROWS.labels(outcome_name).inc(count)


def _reject_lines(rows: list[Prepared]) -> Iterator[list[object]]:
    for row in rows:
        if row.errors:
            reasons = "; ".join(f"{e.field}: {e.reason}" for e in row.errors)
            yield [row.line, row.number, reasons, *row.cell_values]
