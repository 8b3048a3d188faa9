"""`civicstack learning ...`: the courses, cohorts from a roster file, enrolment of a cohort in
a course, the completion rates, and the demo courses and learners."""

from __future__ import annotations

from pathlib import Path

import typer

from civicstack.config import get_settings
from civicstack.kit.cli_support import (
    CLI_ACTOR,
    cli_transaction,
    fail,
    reports_domain_errors,
    secret_store,
)
from civicstack.learning import demo, service
from civicstack.wallet.site import wallet_site

learning_app = typer.Typer(help="Digital Education for All: courses, cohorts, enrolment.",
                           no_args_is_help=True)


@learning_app.command("courses")
def courses() -> None:
    """Every course: code, state, publisher, title."""
    with cli_transaction() as session:
        listed = service.courses_for(session, CLI_ACTOR)
        for course in listed:
            typer.echo(f"{course.code:16} {course.status:10} {course.publisher:32} "
                       f"{course.title}")
    typer.echo(f"{len(listed)} courses")


@learning_app.command("cohort-from-roster")
@reports_domain_errors
def cohort_from_roster(
        roster: Path = typer.Argument(..., help="CSV, the personal ID number in column 1."),
        name: str = typer.Option(..., help="e.g. 'Cán bộ Phường Ba Đình'."),
        kind: str = typer.Option("students", help="students, officials or citizens."),
        province: str = typer.Option(..., help="Province code, e.g. 01."),
        ward: str | None = typer.Option(None, help="Ward code, e.g. 00004."),
        school: str | None = typer.Option(None, help="The school's name, if any.")) -> None:
    """Form a cohort from a roster; every bad row is printed with its reason."""
    try:
        text = roster.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"cannot read {roster} as UTF-8 text: {exc}") from None
    with cli_transaction() as session:
        report = service.create_cohort_from_roster(
            session, CLI_ACTOR, service.CohortSpec(name, kind, province, ward, school), text)
        cohort_id = report.cohort.id
    for bad in report.bad_rows:
        typer.secho(f"  line {bad.line}: {bad.value}: {bad.reason}", fg=typer.colors.YELLOW,
                    err=True)
    typer.echo(f"cohort {cohort_id}: {report.members} members, "
               f"{len(report.bad_rows)} rows left out")


@learning_app.command("enrol-cohort")
@reports_domain_errors
def enrol_cohort(cohort: int = typer.Argument(..., help="The cohort's number."),
                 course: str = typer.Argument(..., help="The course's code.")) -> None:
    """Enrol every member of a cohort in a published course (each learner once)."""
    with cli_transaction() as session:
        report = service.enrol_cohort(session, CLI_ACTOR, cohort, course.upper())
    typer.echo(f"{report.enrolled} enrolled, {report.already} already enrolled")


@learning_app.command("rates")
@reports_domain_errors
def rates(course: str | None = typer.Option(None, help="One course's code; default all.")
          ) -> None:
    """Completion rates per province, school and cohort (target 100 %)."""
    with cli_transaction() as session:
        found = service.completion_rates(session, CLI_ACTOR, course.upper() if course else None)
    for title, listed in (("by province", found.by_province), ("by school", found.by_school),
                          ("by cohort", found.by_cohort)):
        typer.echo(title)
        for rate in listed:
            shown = f"{100 * rate.rate:5.1f} %" if rate.rate is not None else "    –"
            typer.echo(f"  {shown}  {rate.completed:>6} / {rate.enrolled:<6} {rate.label}")


@learning_app.command("demo")
def demo_learning() -> None:
    """Demo courses, cohorts of the demo population, enrolment and some progress (idempotent)."""
    with cli_transaction() as session:
        courses_added, cohorts_added, completed = demo.seed_learning(
            session, wallet_site(get_settings(), secret_store()))
    typer.echo(f"{courses_added} demo courses and {cohorts_added} cohorts added; "
               f"{completed} learners completed a course")
