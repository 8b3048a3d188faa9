"""Submits one draft in its own process and dies (os._exit, as a SIGKILL would: no rollback,
no cleanup) right after one flush of the submission's transaction: the Nth ("3"), the one that
sent the payment row ("payment") or the submission's event ("event"), or never ("never").

    python -m tests.support.crash_submit DATABASE_URL DATA_DIR RECEIPT PID WHEN
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.services import service
from civicstack.services.models import DossierEvent, Payment
from civicstack.services.payments import LocalTreasury
from tests.support.wallet import wallet_site

KILLED = 137


def _sent(session: Session, when: str) -> bool:
    """Whether this flush wrote what `when` names (session.new still lists it here)."""
    if when == "payment":
        return any(isinstance(row, Payment) for row in session.new)
    return when == "event" and any(isinstance(row, DossierEvent) and row.action == "submit"
                                   for row in session.new)


def main(url: str, data_dir: str, receipt_code: str, applicant_pid: str, when: str) -> None:
    flushes = 0

    def after_flush(session: Session, _context: Any) -> None:
        nonlocal flushes
        flushes += 1
        if str(flushes) == when or _sent(session, when):
            os._exit(KILLED)

    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        event.listen(session, "after_flush", after_flush)
        actor = Actor("citizen", applicant_pid)
        draft = service.dossier_for(session, actor, receipt_code, lock=True)
        service.submit(session, wallet_site(factory), actor, draft,
                       LocalTreasury(Path(data_dir) / "treasury"))
    print(f"submitted after {flushes} flushes")


if __name__ == "__main__":
    main(*sys.argv[1:6])
