"""Crash safety: a submission killed in the middle (its process dies after the Nth flush, with
the payment row or the first event already sent to the database but nothing committed) leaves
the whole submitted dossier or the untouched draft, never half: no payment without the
submission, no event without its change of state."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import transaction
from civicstack.services.models import Dossier, DossierEvent, Payment
from tests.support.crashes import KILLED, draft_with_a_fee, submit_in_a_process


def what_is_stored(factory: sessionmaker[Session], receipt: str) -> tuple[Dossier, list[str],
                                                                           int]:
    with transaction(factory) as session:
        dossier = session.scalars(select(Dossier).where(Dossier.receipt_code == receipt)).one()
        events = list(session.scalars(select(DossierEvent.action).where(
            DossierEvent.dossier_id == dossier.id).order_by(DossierEvent.seq)))
        payments = session.scalar(select(func.count()).select_from(Payment).where(
            Payment.dossier_id == dossier.id)) or 0
        session.expunge(dossier)
        return dossier, events, payments


# A submission flushes four times today; a kill after each of them, and the test below fails
# when a change adds a flush that no kill covers.
FLUSHES = ["1", "2", "3", "4"]


@pytest.mark.parametrize("die_at", ["payment", "event", *FLUSHES, "never"])
def test_a_submission_killed_between_steps_leaves_the_whole_dossier_or_the_draft(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path,
        die_at: str) -> None:
    receipt, pid = draft_with_a_fee(session_factory, tmp_path)

    ran = submit_in_a_process("crash_submit", database_url, tmp_path, receipt, pid, die_at)

    dossier, events, payments = what_is_stored(session_factory, receipt)
    if ran.returncode == KILLED:
        assert (dossier.state, dossier.submitted_at, dossier.due_on) == ("draft", None, None)
        assert dossier.payment_reference is None
        assert events == ["create"]
        assert payments == 0
    else:
        assert ran.returncode == 0, ran.stderr
        assert dossier.state == "submitted"
        assert events == ["create", "submit"]
        assert payments == 1
        assert dossier.payment_reference is not None
    # It really died, mid-way, every time but the last: the payment row and the event were
    # in the database's transaction, and went with it.
    assert (ran.returncode == KILLED) == (die_at != "never")


def test_the_kills_above_cover_every_flush_of_the_submission(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    receipt, pid = draft_with_a_fee(session_factory, tmp_path)
    ran = submit_in_a_process("crash_submit", database_url, tmp_path, receipt, pid, "never")
    assert ran.returncode == 0, ran.stderr
    assert int(ran.stdout.split("after ")[1].split()[0]) <= len(FLUSHES)
