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

from civicstack.kit.private_files import private_file, private_folder


class PaymentDeclined(Exception):
    pass


class PaymentChannel(Protocol):
    @property
    def name(self) -> str:
        """The channel's name, recorded with each payment."""

    def charge(self, payer: str, amount: int, description: str) -> str:
        """Take `amount` VND from `payer`; return the channel's reference for the payment."""

    def refund(self, reference: str, amount: int, reason: str) -> str:
        """Give back a payment this channel took; return the refund's own reference."""


@dataclass(frozen=True)
class LocalTreasury:
    folder: Path
    name: str = "local-treasury"
    limit: int = 50_000_000  # a single fee above this is refused, as a bank would

    def charge(self, payer: str, amount: int, description: str) -> str:
        if amount <= 0 or amount > self.limit:
            raise PaymentDeclined(f"amount {amount} outside 1..{self.limit} VND")
        return self._write({"payer": payer, "amount": amount, "description": description})

    def refund(self, reference: str, amount: int, reason: str) -> str:
        return self._write({"refunds": reference, "amount": -amount, "description": reason})

    def _write(self, entry: dict[str, object]) -> str:
        """One line per movement, synced before the caller goes on: the ledger is the truth an
        accountant reconciles the payments table against."""
        reference = f"KB{datetime.now(UTC):%Y%m%d}{secrets.token_hex(5).upper()}"
        line = json.dumps({"reference": reference, **entry,
                           "at": datetime.now(UTC).isoformat(timespec="seconds")},
                          ensure_ascii=False)
        ledger_path = private_file(private_folder(self.folder) / "ledger.jsonl")
        with ledger_path.open("a", encoding="utf-8") as ledger:
            ledger.write(line + "\n")
            ledger.flush()
            os.fsync(ledger.fileno())
        return reference
