"""Submits a dossier through checkout, as the portal does, in its own process, and dies
(os._exit, as a SIGKILL would: no rollback, no cleanup) at one step: "pending" once the pending
payment is committed, before the payment channel is asked; "charged" once the channel took the
fee; "commit" as the submission's transaction is about to commit; or "never".

    python -m tests.support.crash_checkout DATABASE_URL DATA_DIR RECEIPT PID WHEN
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event

from civicstack.kit.audit import Actor
from civicstack.kit.db import make_engine, make_session_factory
from civicstack.services import checkout
from civicstack.services.payments import Charge, LocalTreasury, PaymentSource
from tests.support.wallet import wallet_site

KILLED = 137


@dataclass(frozen=True)
class DyingTreasury:
    """The local treasury, with this process dying just before or just after a charge."""

    treasury: LocalTreasury
    when: str
    name: str = "local-treasury"

    def charge(self, payer: str, amount: int, description: str, idempotency_key: str,
               source: PaymentSource | None = None) -> str:
        if self.when == "pending":
            os._exit(KILLED)
        reference = self.treasury.charge(payer, amount, description, idempotency_key, source)
        if self.when == "charged":
            os._exit(KILLED)
        return reference

    def refund(self, reference: str, amount: int, reason: str) -> str:
        return self.treasury.refund(reference, amount, reason)

    def statement(self) -> list[Charge]:
        return self.treasury.statement()


def main(url: str, data_dir: str, receipt_code: str, applicant_pid: str, when: str) -> None:
    commits = 0

    def before_commit(_session: Any) -> None:
        nonlocal commits
        commits += 1
        if when == "commit" and commits == 2:  # the first commits the pending payment
            os._exit(KILLED)

    factory = make_session_factory(make_engine(url))
    event.listen(factory, "before_commit", before_commit)
    folder = Path(data_dir)
    checkout.submit(factory, wallet_site(factory), Actor("citizen", applicant_pid),
                    receipt_code, DyingTreasury(LocalTreasury(folder / "treasury"), when))
    print(f"submitted after {commits} commits")


if __name__ == "__main__":
    main(*sys.argv[1:6])
