"""A fee is charged once, whatever kills the submission: the portal's checkout killed after
the pending payment, after the charge or before the commit, then submitted again, takes the fee
once; left alone, reconciliation settles or fails what the crash left, so that the treasury's
ledger and the payments table agree. Charges nobody recorded (the single-transaction submission
killed after charging) are recorded against their draft, or given back."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from civicstack.cli import app
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc, transaction
from civicstack.kit.errors import Conflict
from civicstack.kit.migrate import downgrade, upgrade
from civicstack.services import checkout, reconciliation, service
from civicstack.services.models import Dossier, DossierEvent, Payment
from civicstack.services.payments import LocalTreasury, PaymentMethod, PaymentSource
from civicstack.services.reconciliation import Reconciliation
from tests.support.crashes import KILLED, draft_with_a_fee, submit_in_a_process
from tests.support.services import (
    birth_bundle_charging_for_the_card,
    citizen,
    parent_with_id_card,
    publish_everywhere,
)
from tests.support.wallet import wallet_site

FEE = 100_000
STEPS = ["pending", "charged", "commit"]
LATER = timedelta(hours=1)  # past the time a submission under way may take to commit


def resubmit(factory: sessionmaker[Session], data_dir: Path, receipt: str, pid: str) -> None:
    checkout.submit(factory, wallet_site(factory), Actor("citizen", pid), receipt,
                    LocalTreasury(data_dir / "treasury"))


def reconcile(factory: sessionmaker[Session], data_dir: Path,
              later: timedelta = LATER) -> Reconciliation:
    with transaction(factory) as session:
        return reconciliation.reconcile_payments(session, LocalTreasury(data_dir / "treasury"),
                                                 service.now() + later)


def stored(factory: sessionmaker[Session], receipt: str) -> tuple[Dossier, list[Payment]]:
    with transaction(factory) as session:
        dossier = session.scalars(select(Dossier).where(Dossier.receipt_code == receipt)).one()
        payments = list(session.scalars(select(Payment).where(Payment.dossier_id == dossier.id)
                                        .order_by(Payment.id)))
        session.expunge_all()
        return dossier, payments


def assert_in_agreement(factory: sessionmaker[Session], data_dir: Path) -> None:
    """Every charge standing in the ledger is one settled payment and the other way round,
    nothing is pending, and reconciling again finds nothing to do."""
    charges = LocalTreasury(data_dir / "treasury").statement()
    with transaction(factory) as session:
        payments = list(session.scalars(select(Payment)))
    assert sorted(c.reference for c in charges if not c.refunded) == \
        sorted(str(p.reference) for p in payments if p.status == "settled")
    assert [p for p in payments if p.status == "pending"] == []
    again = reconcile(factory, data_dir)
    assert (again.changed, again.disagreements) == (False, [])


def charged_amounts(data_dir: Path) -> list[int]:
    return [c.amount for c in LocalTreasury(data_dir / "treasury").statement()
            if not c.refunded]


def killed_at(step: str, url: str, factory: sessionmaker[Session],
              data_dir: Path) -> tuple[str, str]:
    receipt, pid = draft_with_a_fee(factory, data_dir)
    ran = submit_in_a_process("crash_checkout", url, data_dir, receipt, pid, step)
    assert ran.returncode == KILLED, ran.stderr
    dossier, payments = stored(factory, receipt)
    assert dossier.state == "draft"
    assert [(p.status, p.idempotency_key) for p in payments] == [
        ("pending", service.fee_key(receipt, 1))]  # committed before the channel was asked
    assert charged_amounts(data_dir) == ([] if step == "pending" else [FEE])
    return receipt, pid


@pytest.mark.parametrize("step", STEPS)
def test_a_submission_killed_at_any_step_and_sent_again_takes_the_fee_once(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path,
        step: str) -> None:
    receipt, pid = killed_at(step, database_url, session_factory, tmp_path)

    resubmit(session_factory, tmp_path, receipt, pid)

    dossier, payments = stored(session_factory, receipt)
    assert dossier.state == "submitted"
    assert charged_amounts(tmp_path) == [FEE]
    assert [(p.status, p.reference) for p in payments] == [
        ("settled", dossier.payment_reference)]
    assert_in_agreement(session_factory, tmp_path)


@pytest.mark.parametrize("step", STEPS)
def test_reconciliation_after_a_kill_at_any_step_settles_or_fails_the_pending_payment(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path,
        step: str) -> None:
    receipt, pid = killed_at(step, database_url, session_factory, tmp_path)
    assert not reconcile(session_factory, tmp_path, timedelta(0)).changed  # may be under way

    done = reconcile(session_factory, tmp_path)

    _, payments = stored(session_factory, receipt)
    if step == "pending":  # never charged: its key is spent
        assert done.failed == [service.fee_key(receipt, 1)]
        assert [p.status for p in payments] == ["failed"]
    else:  # charged: the draft is paid for
        assert done.settled == [payments[0].reference]
        assert [p.status for p in payments] == ["settled"]
    assert_in_agreement(session_factory, tmp_path)
    resubmit(session_factory, tmp_path, receipt, pid)
    dossier, payments = stored(session_factory, receipt)
    assert (dossier.state, charged_amounts(tmp_path)) == ("submitted", [FEE])
    assert payments[-1].reference == dossier.payment_reference
    assert_in_agreement(session_factory, tmp_path)


def test_a_charge_nobody_recorded_is_recorded_against_its_draft_and_not_taken_again(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    receipt, pid = draft_with_a_fee(session_factory, tmp_path)
    # Submitted in one transaction, killed when its event is flushed: the charge stays.
    ran = submit_in_a_process("crash_submit", database_url, tmp_path, receipt, pid, "event")
    assert ran.returncode == KILLED, ran.stderr
    assert stored(session_factory, receipt)[1] == []
    assert charged_amounts(tmp_path) == [FEE]

    done = reconcile(session_factory, tmp_path)

    _, payments = stored(session_factory, receipt)
    assert done.settled == [payments[0].reference]
    assert_in_agreement(session_factory, tmp_path)
    resubmit(session_factory, tmp_path, receipt, pid)
    assert (stored(session_factory, receipt)[0].state, charged_amounts(tmp_path)) == \
        ("submitted", [FEE])


def test_a_charge_no_draft_waits_for_is_given_back(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    receipt, pid = draft_with_a_fee(session_factory, tmp_path)
    treasury = LocalTreasury(tmp_path / "treasury")
    stray = treasury.charge(pid, FEE, "nobody's", "dossier:01000000-NOBODY:fee:1")
    twice = treasury.charge(pid, FEE, f"dossier {receipt}", service.fee_key(receipt, 7))
    resubmit(session_factory, tmp_path, receipt, pid)  # its own try, under its own key

    done = reconcile(session_factory, tmp_path)

    assert sorted(done.refunded) == sorted([stray, twice])
    assert charged_amounts(tmp_path) == [FEE]
    _, payments = stored(session_factory, receipt)
    assert sorted(str(p.status) for p in payments) == ["refunded", "settled"]
    assert_in_agreement(session_factory, tmp_path)


def test_a_declined_fee_spends_its_key_and_the_next_try_is_charged_under_a_new_one(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    receipt, pid = draft_with_a_fee(session_factory, tmp_path)
    strict = LocalTreasury(tmp_path / "treasury", limit=FEE - 1)
    with pytest.raises(service.PaymentRefused):
        checkout.submit(session_factory, wallet_site(session_factory), Actor("citizen", pid),
                        receipt, strict)
    assert [p.status for p in stored(session_factory, receipt)[1]] == ["failed"]

    resubmit(session_factory, tmp_path, receipt, pid)

    dossier, payments = stored(session_factory, receipt)
    assert dossier.state == "submitted"
    assert [(p.status, p.idempotency_key) for p in payments] == [
        ("failed", service.fee_key(receipt, 1)), ("settled", service.fee_key(receipt, 2))]
    assert_in_agreement(session_factory, tmp_path)


CARD = PaymentSource(PaymentMethod.CARD, "4111111111111111")


def test_two_pays_at_once_take_the_fee_once_and_submit_the_dossier_once(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """A double click on "Pay": two checkouts race on one draft."""
    receipt, pid = draft_with_a_fee(session_factory, tmp_path)

    def pay_once(_: int) -> str:
        try:
            checkout.submit(session_factory, wallet_site(session_factory),
                            Actor("citizen", pid), receipt,
                            LocalTreasury(tmp_path / "treasury"), CARD)
        except Conflict as exc:  # the other one submitted it first
            return exc.detail
        return "paid"

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(pay_once, range(2)))

    assert outcomes == ["paid", "this dossier was already submitted"]
    assert charged_amounts(tmp_path) == [FEE]
    dossier, payments = stored(session_factory, receipt)
    assert [(p.status, p.method) for p in payments] == [("settled", "card")]
    with transaction(session_factory) as session:
        submissions = session.scalars(select(DossierEvent).where(
            DossierEvent.dossier_id == dossier.id, DossierEvent.action == "submit")).all()
        assert len(submissions) == 1
    assert_in_agreement(session_factory, tmp_path)


def test_a_declined_card_leaves_the_draft_and_another_card_then_pays(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    receipt, pid = draft_with_a_fee(session_factory, tmp_path)
    declined = PaymentSource(PaymentMethod.CARD, "4000000000000002")
    with pytest.raises(service.PaymentRefused):
        checkout.submit(session_factory, wallet_site(session_factory), Actor("citizen", pid),
                        receipt, LocalTreasury(tmp_path / "treasury"), declined)
    dossier, payments = stored(session_factory, receipt)
    assert (dossier.state, [p.status for p in payments]) == ("draft", ["failed"])
    assert charged_amounts(tmp_path) == []

    checkout.submit(session_factory, wallet_site(session_factory), Actor("citizen", pid),
                    receipt, LocalTreasury(tmp_path / "treasury"), CARD)

    dossier, payments = stored(session_factory, receipt)
    assert (dossier.state, [p.status for p in payments]) == ("submitted", ["failed", "settled"])
    assert charged_amounts(tmp_path) == [FEE]
    assert_in_agreement(session_factory, tmp_path)


def test_a_group_killed_after_giving_back_its_first_fee_is_reconciled_to_the_refund(
        session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    with transaction(session_factory) as session:
        publish_everywhere(session)
        mai = parent_with_id_card(session, wallet_site(session))
        drafts = birth_bundle_charging_for_the_card(session, mai)
        service.record_pending_fees(session, citizen(mai), drafts, "local-treasury")
    with session_factory() as session:  # killed before this transaction commits
        drafts = list(session.scalars(select(Dossier).order_by(Dossier.id)))
        with pytest.raises(service.PaymentRefused):  # the card's fee: over the limit
            service.submit_group(session, wallet_site(session), citizen(mai), drafts,
                                 LocalTreasury(tmp_path / "treasury", limit=15_000))
        session.rollback()
    [residence] = LocalTreasury(tmp_path / "treasury").statement()
    assert residence.refunded

    done = reconcile(session_factory, tmp_path)

    assert (done.refunded, len(done.failed)) == ([residence.reference], 1)
    with transaction(session_factory) as session:
        assert sorted((p.status, p.amount) for p in session.scalars(select(Payment))) == [
            ("failed", 20_000), ("refunded", 10_000)]
    assert_in_agreement(session_factory, tmp_path)


def test_reconcile_payments_on_the_command_line_says_what_it_did(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    receipt, _ = draft_with_a_fee(session_factory, data_dir)
    with transaction(session_factory) as session:
        dossier = session.scalars(select(Dossier).where(Dossier.receipt_code == receipt)).one()
        service.record_pending_fees(session, Actor("citizen", dossier.applicant_pid),
                                    [dossier], "local-treasury")
        session.execute(update(Payment).values(created_at=service.now() - LATER))

    result = CliRunner().invoke(app, ["services", "reconcile-payments"])

    assert result.exit_code == 0, result.output
    assert f"failed    {service.fee_key(receipt, 1)}" in result.output
    assert "payments reconciled: 0 settled, 0 refunded, 1 failed, 0 disagreements" in \
        result.output


def test_the_migration_gives_each_payment_made_before_it_its_dossiers_first_key(
        database_url: str, session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    receipt, _ = draft_with_a_fee(session_factory, tmp_path)
    downgrade(database_url, "0029")
    paid_at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with session_factory() as session, session.begin():
        session.execute(text(
            "INSERT INTO service_payment (dossier_id, amount, channel, reference, status, "
            "settled_at, note) SELECT id, :fee, 'local-treasury', 'KB20261201OLD', 'settled', "
            ":at, '' FROM service_dossier WHERE receipt_code = :receipt"),
            {"fee": FEE, "at": paid_at, "receipt": receipt})
    upgrade(database_url)
    _, payments = stored(session_factory, receipt)
    assert [(p.idempotency_key, p.reference, p.status) for p in payments] == [
        (service.fee_key(receipt, 1), "KB20261201OLD", "settled")]
    assert as_utc(payments[0].created_at) == paid_at


def test_reconcile_payments_on_the_command_line_fails_on_a_payment_the_channel_never_took(
        data_dir: Path, session_factory: sessionmaker[Session]) -> None:
    receipt, pid = draft_with_a_fee(session_factory, data_dir)
    elsewhere = LocalTreasury(data_dir / "another-ledger")  # not the app's channel's ledger
    checkout.submit(session_factory, wallet_site(session_factory), Actor("citizen", pid),
                    receipt, elsewhere)

    result = CliRunner().invoke(app, ["services", "reconcile-payments"])

    assert result.exit_code == 1
    [charge] = elsewhere.statement()
    assert f"disagreement: {charge.reference}: paid here, not on the statement" in \
        result.output
