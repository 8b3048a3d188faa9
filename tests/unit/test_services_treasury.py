"""The local treasury honours idempotency keys as a payment platform does: asked again under a
key it answers with the first charge and takes nothing, refuses another payer or amount under
it, gives a charge back once, and takes a fee once when processes race under one key."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from civicstack.services.payments import (
    KeyReused,
    LocalTreasury,
    PaymentDeclined,
    PaymentMethod,
    PaymentSource,
)

KEY = "dossier:01261207-A1B2C3:fee:1"
MAI = "001194000111"


def lines(treasury: LocalTreasury) -> list[dict[str, object]]:
    return [json.loads(line) for line in
            (treasury.folder / "ledger.jsonl").read_text(encoding="utf-8").splitlines()]


def test_a_second_charge_under_the_same_key_answers_the_first_and_takes_nothing(
        tmp_path: Path) -> None:
    treasury = LocalTreasury(tmp_path)
    first = treasury.charge(MAI, 100_000, "dossier 01261207-A1B2C3", KEY)
    assert treasury.charge(MAI, 100_000, "dossier 01261207-A1B2C3", KEY) == first
    assert [(entry["reference"], entry["key"], entry["amount"]) for entry in lines(treasury)] \
        == [(first, KEY, 100_000)]


@pytest.mark.parametrize(("payer", "amount"), [(MAI, 200_000), ("079090000222", 100_000)])
def test_another_amount_or_payer_under_a_used_key_is_refused(tmp_path: Path, payer: str,
                                                             amount: int) -> None:
    treasury = LocalTreasury(tmp_path)
    treasury.charge(MAI, 100_000, "dossier 01261207-A1B2C3", KEY)
    with pytest.raises(KeyReused):
        treasury.charge(payer, amount, "dossier 01261207-A1B2C3", KEY)
    assert len(lines(treasury)) == 1


def test_a_charge_is_given_back_once_and_the_statement_says_so(tmp_path: Path) -> None:
    treasury = LocalTreasury(tmp_path)
    reference = treasury.charge(MAI, 100_000, "dossier 01261207-A1B2C3", KEY)
    refund = treasury.refund(reference, 100_000, "undone")
    assert treasury.refund(reference, 100_000, "undone again") == refund
    with pytest.raises(PaymentDeclined):
        treasury.refund("KB20261207NOSUCHONE", 100_000, "never charged")
    assert [entry["amount"] for entry in lines(treasury)] == [100_000, -100_000]
    [charge] = treasury.statement()
    assert (charge.reference, charge.idempotency_key, charge.payer, charge.refunded) == \
        (reference, KEY, MAI, True)


def test_processes_racing_under_one_key_take_the_fee_once(tmp_path: Path) -> None:
    # Each charge opens and locks the ledger on its own, as separate processes do.
    with ThreadPoolExecutor(max_workers=8) as pool:
        references = set(pool.map(
            lambda _: LocalTreasury(tmp_path).charge(MAI, 100_000, "dossier", KEY), range(16)))
    assert len(references) == 1
    assert len(lines(LocalTreasury(tmp_path))) == 1


def test_a_test_card_is_declined_and_nothing_taken_while_another_card_pays(
        tmp_path: Path) -> None:
    treasury = LocalTreasury(tmp_path)
    declined = PaymentSource(PaymentMethod.CARD, "4000000000000002")
    with pytest.raises(PaymentDeclined, match="•••• 0002"):
        treasury.charge(MAI, 100_000, "dossier 01261207-A1B2C3", KEY, declined)
    assert treasury.statement() == []
    treasury.charge(MAI, 100_000, "dossier 01261207-A1B2C3", KEY,
                    PaymentSource(PaymentMethod.E_WALLET, "0912345678"))
    assert [(entry["key"], entry["method"]) for entry in lines(treasury)] == [(KEY, "e_wallet")]
