"""Paying a dossier's fee. A `PaymentChannel` takes the money and returns its own reference,
or raises `PaymentDeclined`; a deployment plugs in the national payment platform. The demo and
tests use `LocalTreasury`: a real ledger file (one JSON line per payment) that an accountant
can reconcile against the payments table."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol


class PaymentDeclined(Exception):
    pass


class PaymentChannel(Protocol):
    name: str

    def charge(self, payer: str, amount: int, description: str) -> str:
        """Take `amount` VND from `payer`; return the channel's reference for the payment."""


@dataclass(frozen=True)
class LocalTreasury:
    folder: Path
    name: str = "local-treasury"
    limit: int = 50_000_000  # a single fee above this is refused, as a bank would

    def charge(self, payer: str, amount: int, description: str) -> str:
        if amount <= 0 or amount > self.limit:
            raise PaymentDeclined(f"amount {amount} outside 1..{self.limit} VND")
        reference = f"KB{datetime.now(UTC):%Y%m%d}{secrets.token_hex(5).upper()}"
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"reference": reference, "payer": payer, "amount": amount,
                           "description": description,
                           "at": datetime.now(UTC).isoformat(timespec="seconds")},
                          ensure_ascii=False)
        with (self.folder / "ledger.jsonl").open("a", encoding="utf-8") as ledger:
            ledger.write(line + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())
        return reference
