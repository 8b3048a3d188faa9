"""Tasks in and out of spreadsheets (CSV or XLSX), one row per task with a column for each of
the six principles. An import is all or nothing: any bad row and none is imported, and the
report names every bad row, column and reason. Export writes the same columns, so an export
imports again (into another programme or system)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Invalid
from civicstack.monitoring import repository, service
from civicstack.monitoring.models import Programme
from civicstack.monitoring.service import NewTask

COLUMNS = ("code", "work", "responsible_official", "deadline", "lead_agency",
           "coordinating_agencies", "deliverable", "accepting_official", "accepting_agency")
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class BadRow:
    row: int  # as the spreadsheet numbers it: the header is row 1
    column: str
    reason: str


@dataclass(frozen=True)
class ImportReport:
    imported: int
    bad_rows: list[BadRow]


def _cell_text(value: Any) -> str:
    """Spreadsheet programs turn dates into dates and codes into numbers: undo both."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _csv_rows(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Invalid("file", "the file must be UTF-8 CSV or XLSX") from exc
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]


def _xlsx_rows(content: bytes) -> list[list[str]]:
    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).active
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise Invalid("file", "the file must be UTF-8 CSV or XLSX") from exc
    if sheet is None:
        raise Invalid("file", "the file must be UTF-8 CSV or XLSX")
    return [[_cell_text(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """The rows as column -> text, after checking size and header."""
    if len(content) > MAX_BYTES:
        raise Invalid("file", "the file is larger than 5 MB")
    rows = _xlsx_rows(content) if filename.lower().endswith(".xlsx") else _csv_rows(content)
    rows = [row for row in rows if any(row)]
    if not rows or tuple(rows[0][:len(COLUMNS)]) != COLUMNS:
        raise Invalid("file", "the first row must name the columns: code, work, "
                              "responsible_official, deadline, lead_agency, "
                              "coordinating_agencies, deliverable, accepting_official, "
                              "accepting_agency")
    if len(rows) - 1 > MAX_ROWS:
        raise Invalid("file", "at most 5000 tasks per file")
    return [dict(zip(COLUMNS, row + [""] * len(COLUMNS), strict=False)) for row in rows[1:]]


def new_task(row: dict[str, str]) -> NewTask:
    return NewTask(code=row["code"], work=row["work"],
                   responsible_official=row["responsible_official"], deadline=row["deadline"],
                   lead_agency=row["lead_agency"],
                   coordinating_agencies=tuple(c.strip() for c in
                                               row["coordinating_agencies"].split(";")
                                               if c.strip()),
                   deliverable=row["deliverable"],
                   accepting_official=row["accepting_official"],
                   accepting_agency=row["accepting_agency"])


def _row_problems(session: Session, actor: Actor, scheme: Programme, new: NewTask,
                  taken: set[str]) -> list[tuple[str, str]]:
    problems = [(e.field, e.reason) for e in service.task_errors(session, scheme, new, taken)]
    lead = repository.agency_by_code(session, new.lead_agency)
    if lead is not None and not service.covers(actor, lead):
        problems.append(("lead_agency", "this agency is outside your scope"))
    return problems


def import_tasks(session: Session, actor: Actor, programme_code: str, filename: str,
                 content: bytes) -> ImportReport:
    """Every row checked by the same rules as one task typed in; nothing is imported unless
    every row passes."""
    actor.require(Permission.TASKS_MANAGE)
    scheme = service.programme(session, programme_code)
    rows = [new_task(row) for row in read_rows(filename, content)]
    taken = repository.task_codes(session, scheme.id)
    bad = []
    for number, new in enumerate(rows, start=2):
        bad += [BadRow(number, column, reason)
                for column, reason in _row_problems(session, actor, scheme, new, taken)]
        taken.add(new.code)
    if bad:
        return ImportReport(0, bad)
    service.create_tasks(session, actor, programme_code, rows)
    audit.record(session, actor, "monitoring.task.import", subject_type="monitoring_programme",
                 subject_id=programme_code, purpose=service.PURPOSE,
                 detail={"filename": filename[:200], "tasks": len(rows)})
    return ImportReport(len(rows), [])


def export_rows(session: Session, actor: Actor, programme_code: str) -> list[list[str]]:
    """The programme's tasks the actor oversees, header first, in the import's columns."""
    names = repository.agencies(session)
    rows = [list(COLUMNS)]
    for task in service.visible_tasks(session, actor, programme_code):
        accepting = names[task.accepting_agency_id].code if task.accepting_agency_id else ""
        rows.append([task.code, task.work, task.responsible_official, task.deadline.isoformat(),
                     names[task.lead_agency_id].code, ";".join(task.coordinating_agencies),
                     task.deliverable, task.accepting_official or "", accepting])
    return rows


def to_xlsx(rows: list[list[str]], title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title[:31]  # Excel's limit on a sheet's name
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def to_csv(rows: list[list[str]]) -> bytes:
    """UTF-8 with a BOM, so spreadsheet programs read the accents."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
