"""`civicstack learning ...`: the demo (idempotent), a roster file with its bad rows, enrolling
a cohort, and the completion rates, on both databases."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner, Result

from civicstack.cli import app
from civicstack.kit.db import transaction
from tests.support.learning import pupils, roster_of
from tests.support.people import make_person

runner = CliRunner()


def civicstack(*arguments: str) -> Result:
    return runner.invoke(app, list(arguments))


def test_the_demo_seeds_courses_cohorts_and_progress_once(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    with transaction(session_factory) as session:
        pupils(session, 12)
        for i in range(5):
            make_person(session, f"Cán Bộ Số {i}", date(1985, 1, 1 + i))
    first = civicstack("learning", "demo")
    assert first.exit_code == 0, first.output
    assert "3 demo courses and 3 cohorts added" in first.output  # no pupil in HCMC here
    again = civicstack("learning", "demo")
    assert "0 demo courses and 0 cohorts added; 0 learners completed" in again.output
    listed = civicstack("learning", "courses").output
    assert "ATGT-2026        published" in listed
    rates = civicstack("learning", "rates").output
    assert re.search(r"/ 5\s+Cán bộ, công chức cấp xã Hà Nội", rates)


def test_a_roster_file_makes_a_cohort_that_is_enrolled_in_a_course(
        data_dir: Path, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with transaction(session_factory) as session:
        roster = roster_of(pupils(session, 2)) + "bad\n"
    assert civicstack("learning", "demo").exit_code == 0
    path = tmp_path / "lop.csv"
    path.write_text(roster, encoding="utf-8")
    made = civicstack("learning", "cohort-from-roster", str(path), "--name", "Lớp 6A",
                      "--province", "01")
    assert made.exit_code == 0, made.output
    assert "line 4: bad: not a 12-digit personal ID number" in made.output
    cohort = re.search(r"cohort (\d+): 2 members, 1 rows left out", made.output)
    assert cohort
    enrolled = civicstack("learning", "enrol-cohort", cohort.group(1), "atgt-2026")
    assert "0 enrolled, 2 already enrolled" in enrolled.output  # the demo enrolled them
    refused = civicstack("learning", "enrol-cohort", cohort.group(1), "NO-SUCH")
    assert refused.exit_code == 1
    assert "no course NO-SUCH" in refused.output
