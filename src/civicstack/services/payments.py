"""Paying a dossier's fee. A `PaymentChannel` takes the money once per idempotency key and
returns its own reference, or raises `PaymentDeclined`; a deployment plugs in the national
payment platform. The demo and tests use `LocalTreasury`: a real ledger file (one JSON line per
movement) that reconciliation.py reads back against the payments table. A citizen pays online
with a `PaymentSource` (card, bank account or e-wallet); the treasury declines the test numbers
in DECLINED_TEST_ACCOUNTS as a bank declines a card, so a refusal can be tried end to end."""

from __future__ import annotations

import enum
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from civicstack.kit.private_files import private_file, private_folder

LEDGER = "ledger.jsonl"
# Declined by the local treasury (a card, a bank account, an e-wallet's phone number), as the
# test card numbers of payment platforms are: for demos and tests of a refused payment.
DECLINED_TEST_ACCOUNTS = frozenset({"4000000000000002", "0000000000", "0900000000"})


class PaymentMethod(enum.StrEnum):
    CARD = "card"  # a domestic (NAPAS) or international card
    BANK = "bank"  # a bank account, through internet banking
    E_WALLET = "e_wallet"  # an e-wallet, by its phone number


@dataclass(frozen=True)
class PaymentSource:
    """Where a citizen's money comes from: the method chosen and its number, digits only."""

    method: PaymentMethod
    account: str

    @property
    def masked(self) -> str:
        """The number as a receipt shows it: its last four digits only."""
        return f"•••• {self.account[-4:]}"


class PaymentDeclined(Exception):
    pass


class KeyReused(PaymentDeclined):
    """A charge asked under a key that already paid for another payer or amount."""


@dataclass(frozen=True)
class Charge:
    """One charge on a channel's statement, as reconciliation reads it."""

    reference: str
    idempotency_key: str  # "" for a charge taken before charges carried keys
    payer: str
    amount: int
    at: datetime
    refunded: bool


class PaymentChannel(Protocol):
    @property
    def name(self) -> str:
        """The channel's name, recorded with each payment."""

    def charge(self, payer: str, amount: int, description: str, idempotency_key: str,
               source: PaymentSource | None = None) -> str:
        """Take `amount` VND from `payer` (from `source`, where the payer chose one), at most
        once per `idempotency_key`; return the channel's reference for the payment. Asked again
        under the same key, answer with the first charge's reference and take nothing (as
        payment platforms do); asked under it for another payer or amount, raise `KeyReused`;
        a source its bank refuses raises `PaymentDeclined`."""

    def refund(self, reference: str, amount: int, reason: str) -> str:
        """Give back a payment this channel took, once: asked again, answer with the first
        refund's reference."""

    def statement(self) -> list[Charge]:
        """Every charge this channel took, each with whether it was given back."""


@dataclass(frozen=True)
class LocalTreasury:
    folder: Path
    name: str = "local-treasury"
    limit: int = 50_000_000  # a single fee above this is refused, as a bank would
    declined_accounts: frozenset[str] = DECLINED_TEST_ACCOUNTS

    def charge(self, payer: str, amount: int, description: str, idempotency_key: str,
               source: PaymentSource | None = None) -> str:
        with self._ledger() as (ledger, entries):
            earlier = next((e for e in entries if e.get("key") == idempotency_key), None)
            if earlier is not None:
                if (earlier["payer"], earlier["amount"]) != (payer, amount):
                    raise KeyReused(f"the key {idempotency_key} already paid another payment")
                return str(earlier["reference"])
            if amount <= 0 or amount > self.limit:
                raise PaymentDeclined(f"amount {amount} outside 1..{self.limit} VND")
            if source is not None and source.account in self.declined_accounts:
                raise PaymentDeclined(f"the {source.method} {source.masked} was declined")
            paid_with = {"method": source.method.value} if source is not None else {}
            return _append(ledger, {"key": idempotency_key, "payer": payer, "amount": amount,
                                    "description": description, **paid_with})

    def refund(self, reference: str, amount: int, reason: str) -> str:
        with self._ledger() as (ledger, entries):
            if not any(e["reference"] == reference and "refunds" not in e for e in entries):
                raise PaymentDeclined(f"no charge {reference} to refund")
            earlier = next((e for e in entries if e.get("refunds") == reference), None)
            if earlier is not None:
                return str(earlier["reference"])
            return _append(ledger, {"refunds": reference, "amount": -amount,
                                    "description": reason})

    def statement(self) -> list[Charge]:
        with self._ledger() as (_, entries):
            refunded = {e["refunds"] for e in entries if "refunds" in e}
            return [Charge(e["reference"], e.get("key", ""), e["payer"], e["amount"],
                           datetime.fromisoformat(e["at"]), e["reference"] in refunded)
                    for e in entries if "refunds" not in e]

    @contextmanager
    def _ledger(self) -> Iterator[tuple[IO[str], list[dict[str, Any]]]]:
        """The ledger and its entries, locked against every other process from the read to
        the write, so two submissions under one key cannot both find it unused."""
        path = private_file(private_folder(self.folder) / LEDGER)
        with path.open("a+", encoding="utf-8") as ledger:
            fcntl.flock(ledger, fcntl.LOCK_EX)  # released when the file closes
            ledger.seek(0)
            yield ledger, [json.loads(line) for line in ledger if line.strip()]


def _append(ledger: IO[str], entry: dict[str, object]) -> str:
    """One line per movement, synced before the caller goes on: the ledger is the truth the
    payments table is reconciled against."""
    reference = f"KB{datetime.now(UTC):%Y%m%d}{secrets.token_hex(5).upper()}"
    ledger.write(json.dumps({"reference": reference, **entry,
                             "at": datetime.now(UTC).isoformat(timespec="seconds")},
                            ensure_ascii=False) + "\n")
    ledger.flush()
    os.fsync(ledger.fileno())
    return reference
