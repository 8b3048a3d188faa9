"""`civicstack monitoring ...`: agencies, programmes, task spreadsheets in and out, reminders,
the board's report and the NQ57 demo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from civicstack.kit.cli_support import CLI_ACTOR, cli_transaction, fail, reports_domain_errors
from civicstack.monitoring import board, demo, reports, service, spreadsheet

monitoring_app = typer.Typer(help="Task monitoring (nq57): agencies, programmes, tasks, "
                                  "reminders, reports.", no_args_is_help=True)


@monitoring_app.command("add-agency")
@reports_domain_errors
def add_agency(code: str, name: str = typer.Option(...),
               kind: str = typer.Option(..., help="ministry, province or other"),
               province: str | None = typer.Option(None, help="A province's code.")) -> None:
    """Register an agency that leads or coordinates tasks."""
    with cli_transaction() as session:
        service.add_agency(session, CLI_ACTOR, code, name, kind, province)
    typer.echo(f"agency {code} added")


@monitoring_app.command("add-member")
@reports_domain_errors
def add_member(agency: str, username: str,
               email: str = typer.Option(..., help="Where the official's reminders go.")) -> None:
    """An official joins an agency: they may then report on its tasks."""
    with cli_transaction() as session:
        service.add_member(session, CLI_ACTOR, agency, username, email)
    typer.echo(f"{username} belongs to {agency}")


@monitoring_app.command("add-programme")
@reports_domain_errors
def add_programme(code: str, title: str = typer.Option(...),
                  legal_reference: str = typer.Option(...),
                  issued_on: str = typer.Option(..., help="YYYY-MM-DD")) -> None:
    """A programme (e.g. a resolution) whose tasks are monitored."""
    with cli_transaction() as session:
        service.add_programme(session, CLI_ACTOR, code, title, legal_reference,
                              date.fromisoformat(issued_on))
    typer.echo(f"programme {code} added")


@monitoring_app.command("import")
@reports_domain_errors
def import_tasks(programme: str, file: Path = typer.Argument(..., exists=True, dir_okay=False),
                 ) -> None:
    """Import tasks from a CSV or XLSX file: all or nothing, bad rows listed."""
    with cli_transaction() as session:
        outcome = spreadsheet.import_tasks(session, CLI_ACTOR, programme, file.name,
                                           file.read_bytes())
    for bad in outcome.bad_rows:
        typer.echo(f"row {bad.row}, {bad.column}: {bad.reason}", err=True)
    if outcome.bad_rows:
        raise fail(f"{len(outcome.bad_rows)} problems: nothing imported")
    typer.echo(f"{outcome.imported} tasks imported into {programme}")


@monitoring_app.command("export")
@reports_domain_errors
def export_tasks(programme: str, file: Path) -> None:
    """Export a programme's tasks to FILE (.csv or .xlsx), in the import's columns."""
    with cli_transaction() as session:
        rows = spreadsheet.export_rows(session, CLI_ACTOR, programme)
    content = spreadsheet.to_xlsx(rows, programme) if file.suffix.lower() == ".xlsx" \
        else spreadsheet.to_csv(rows)
    file.write_bytes(content)
    typer.echo(f"{len(rows) - 1} tasks written to {file}")


@monitoring_app.command("remind")
@reports_domain_errors
def remind() -> None:
    """E-mail (through the outbox) the responsible officials of overdue and soon due tasks,
    once a day per task; `civicstack outbox dispatch` delivers them."""
    with cli_transaction() as session:
        sent = service.remind(session, CLI_ACTOR)
    typer.echo(f"{len(sent)} reminders queued")


@monitoring_app.command("report")
@reports_domain_errors
def report(file: Path, programme: str = typer.Option("", help="One programme's code.")) -> None:
    """The board as FILE: .pdf (ranking and overdue tasks) or .csv (the ranking)."""
    with cli_transaction() as session:
        found = board.board(session, CLI_ACTOR, programme)
    content = reports.board_pdf(found, "toàn quốc") if file.suffix.lower() == ".pdf" \
        else spreadsheet.to_csv(reports.ranking_rows(found))
    file.write_bytes(content)
    typer.echo(f"{len(found.overdue)} tasks overdue; report written to {file}")


@monitoring_app.command("demo")
@reports_domain_errors
def demo_seed() -> None:
    """Seed programme NQ57 with ministries, provinces and about sixty tasks (once)."""
    with cli_transaction() as session:
        added = demo.seed(session, CLI_ACTOR)
    typer.echo(f"{added} NQ57 tasks added" if added else "programme NQ57 exists already")
