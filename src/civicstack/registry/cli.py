"""`civicstack registry ...` (bulk import and export), and the synthetic population that
`civicstack demo seed` loads."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from civicstack.config import get_settings
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    fail,
    reports_domain_errors,
    session_factory,
)
from civicstack.kit.private_files import private_folder
from civicstack.registry.csv_format import HeaderError
from civicstack.registry.demo import seed_population, write_demo_population
from civicstack.registry.exporter import export_persons
from civicstack.registry.importer import (
    ImportInterrupted,
    ImportSummary,
    ProgressCallback,
    import_persons,
)

registry_app = typer.Typer(help="The population register.", no_args_is_help=True)

EXIT_UNUSABLE_FILE, EXIT_ROWS_REJECTED = 2, 3


@contextmanager
def _progress_bar(path: Path, label: str) -> Iterator[ProgressCallback]:
    """A bar on stderr that follows the bytes read, with the rows read so far."""
    columns = (TextColumn(label), BarColumn(), DownloadColumn(), TextColumn("{task.fields[rows]}"),
               TimeRemainingColumn())
    console = Console(stderr=True)
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task(label, total=path.stat().st_size, rows="")

        def update(bytes_read: int, rows_read: int) -> None:
            progress.update(task, completed=bytes_read, rows=f"{rows_read:,} rows")

        yield update


def _print_summary(summary: ImportSummary) -> None:
    typer.echo(f"import run {summary.run_id}: {summary.rows_read:,} rows read, "
               f"{summary.rows_loaded:,} loaded, {summary.rows_already_present:,} already "
               f"present, {summary.rows_rejected:,} rejected")
    if summary.rows_rejected:
        typer.echo(f"rejected rows, with line numbers and reasons: {summary.rejects_path}")


@registry_app.command("import")
def registry_import(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    rejects: Path | None = typer.Option(None, help="Where to write refused rows "
                                                   "[default: FILE.rejects.csv]."),
    batch_size: int | None = typer.Option(None, min=100, max=100_000),
    bulk: bool = typer.Option(False, help="One all-or-nothing transaction with the register "
                                          "locked and its checks rebuilt at the end: for a "
                                          "first national load or a maintenance window."),
) -> None:
    """Load persons from CSV. Re-running is safe. Exit 3 if some rows were refused."""
    size = batch_size or get_settings().import_batch_size
    try:
        with _progress_bar(file, "importing") as on_progress:
            summary = import_persons(session_factory(), file, CLI_ACTOR, batch_size=size,
                                     rejects_path=rejects, on_progress=on_progress, bulk=bulk)
    except HeaderError as exc:
        raise fail(f"{file}: cannot import: {exc}", EXIT_UNUSABLE_FILE) from exc
    except ImportInterrupted as exc:
        raise fail(f"{file}: import stopped: {exc}") from exc
    _print_summary(summary)
    if summary.rows_rejected:
        raise typer.Exit(EXIT_ROWS_REJECTED)


@registry_app.command("export")
@reports_domain_errors
def registry_export(
    purpose: str = typer.Option(..., help="Why the data leaves the register (audited)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="[default: stdout]"),
    province: str | None = typer.Option(None, help="Only persons living in this province."),
) -> None:
    """Write persons as CSV in the import format."""
    with cli_transaction() as session:
        if output is None:
            count = export_persons(session, CLI_ACTOR, sys.stdout, purpose, province)
        else:
            with output.open("w", encoding="utf-8", newline="") as handle:
                count = export_persons(session, CLI_ACTOR, handle, purpose, province)
    typer.echo(f"exported {count:,} persons", err=True)


def seed_demo_population(people: int, seed: int, home_wards: tuple[str, ...] = ()) -> Path:
    """A synthetic population of `people` (same seed, same people; some households in
    `home_wards`) through the real import, then their life events; `civicstack demo seed`
    calls it first. Returns the population file."""
    settings = get_settings()
    private_folder(settings.data_dir)
    population = write_demo_population(settings.data_dir, people, seed, home_wards)
    with _progress_bar(population, "seeding") as on_progress:
        result = seed_population(session_factory(), population, on_progress)
    _print_summary(result.imported)
    typer.echo(f"{result.events_recorded} life events recorded (births, ID cards, deaths, moves)")
    return population
