"""Reconciling the payment channel's statement with the payments table, for what a crash left
between them: a charge the database never recorded, a pending payment whose charge was taken,
or never was. Run by the worker (jobs.py) and by `civicstack services reconcile-payments`, in
the caller's transaction; each run says what it did and what it leaves to a person."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from civicstack.kit.db import as_utc
from civicstack.services import repository, service
from civicstack.services.models import Dossier, Payment, PaymentStatus
from civicstack.services.payments import Charge, PaymentChannel
from civicstack.services.states import State

# Younger than this, a charge or a pending payment may belong to a submission still under
# way (its transaction not yet committed): left for the next run.
IN_FLIGHT = timedelta(minutes=10)
UNRECORDED = "charged, but no payment was recorded for it"


@dataclass
class Reconciliation:
    settled: list[str] = field(default_factory=list)  # charges now recorded as paid
    refunded: list[str] = field(default_factory=list)  # given back, now or by the channel
    failed: list[str] = field(default_factory=list)  # keys of pending payments never charged
    disagreements: list[str] = field(default_factory=list)  # for a person to look into

    def __str__(self) -> str:
        return (f"{len(self.settled)} settled, {len(self.refunded)} refunded, "
                f"{len(self.failed)} failed, {len(self.disagreements)} disagreements")

    @property
    def changed(self) -> bool:
        return bool(self.settled or self.refunded or self.failed)


def reconcile_payments(session: Session, channel: PaymentChannel,
                       moment: datetime) -> Reconciliation:
    """Bring the channel's payments into agreement with its statement, as of `moment`."""
    done = Reconciliation()
    statement = channel.statement()
    payments = repository.payments_through(session, channel.name)
    by_reference = {p.reference: p for p in payments if p.reference}
    by_key = {p.idempotency_key: p for p in payments}
    in_flight_since = moment - IN_FLIGHT
    for charge in statement:
        if as_utc(charge.at) > in_flight_since:
            continue
        payment = by_reference.get(charge.reference) or by_key.get(charge.idempotency_key)
        if payment is None:
            _unrecorded(session, channel, charge, done)
        else:
            _recorded(session, channel, charge, payment, done)
    _uncharged(session, statement, payments, in_flight_since, done)
    return done


def _recorded(session: Session, channel: PaymentChannel, charge: Charge, payment: Payment,
              done: Reconciliation) -> None:
    """A charge with its payment: the payment says what the channel did."""
    repository.lock_payment(session, payment)
    status = PaymentStatus(payment.status)
    if charge.refunded and status in (PaymentStatus.PENDING, PaymentStatus.FAILED):
        payment.status, payment.reference = PaymentStatus.REFUNDED.value, charge.reference
        payment.note = "given back by the channel before this payment was settled"
        done.refunded.append(charge.reference)
    elif charge.refunded and status == PaymentStatus.SETTLED:
        done.disagreements.append(f"{charge.reference}: refunded by the channel, settled here")
    elif not charge.refunded and status == PaymentStatus.PENDING:
        # Killed after the charge, before the submission committed: the draft is paid for,
        # and its next submission takes this payment instead of asking the channel again.
        service.settle(payment, charge.reference, as_utc(charge.at))
        done.settled.append(charge.reference)
    elif not charge.refunded and status in (PaymentStatus.FAILED, PaymentStatus.REFUNDED):
        payment.reference = charge.reference
        service.refund(channel, payment, "its payment had ended: " + status.value)
        done.refunded.append(charge.reference)


def _unrecorded(session: Session, channel: PaymentChannel, charge: Charge,
                done: Reconciliation) -> None:
    """A charge without a payment: recorded against its dossier if that is a draft still
    waiting for this very fee, else given back (and recorded so, its key being spent)."""
    receipt_code = service.receipt_of_fee_key(charge.idempotency_key)
    dossier = repository.dossier(session, receipt_code, lock=True) if receipt_code else None
    if dossier is not None and not charge.refunded and _waits_for(session, dossier, charge):
        _record(session, channel.name, dossier, charge, PaymentStatus.SETTLED)
        done.settled.append(charge.reference)
        return
    if not charge.refunded:
        channel.refund(charge.reference, charge.amount, UNRECORDED)
    if dossier is not None:
        _record(session, channel.name, dossier, charge, PaymentStatus.REFUNDED)
    if dossier is not None or not charge.refunded:
        done.refunded.append(charge.reference)


def _record(session: Session, channel_name: str, dossier: Dossier, charge: Charge,
            status: PaymentStatus) -> None:
    session.add(Payment(dossier_id=dossier.id, amount=charge.amount, channel=channel_name,
                        idempotency_key=charge.idempotency_key, reference=charge.reference,
                        status=status.value, created_at=as_utc(charge.at),
                        settled_at=as_utc(charge.at), note=UNRECORDED))
    session.flush()


def _waits_for(session: Session, dossier: Dossier, charge: Charge) -> bool:
    return (dossier.state == State.DRAFT.value and dossier.fee == charge.amount
            and dossier.applicant_pid == charge.payer
            and repository.open_payment(session, dossier.id) is None)


def _uncharged(session: Session, statement: list[Charge], payments: list[Payment],
               in_flight_since: datetime, done: Reconciliation) -> None:
    """Pending payments the channel never charged fail (their keys are spent); a payment
    that took money the statement does not show is for a person to look into."""
    keys = {charge.idempotency_key for charge in statement}
    references = {charge.reference for charge in statement}
    for payment in payments:
        if payment.reference in references or payment.idempotency_key in keys:
            continue
        if payment.status == PaymentStatus.PENDING.value and \
                as_utc(payment.created_at) <= in_flight_since:
            repository.lock_payment(session, payment)
            if payment.status == PaymentStatus.PENDING.value:
                payment.status, payment.note = PaymentStatus.FAILED.value, "never charged"
                done.failed.append(payment.idempotency_key)
        elif payment.status in (PaymentStatus.SETTLED.value, PaymentStatus.REFUNDED.value):
            done.disagreements.append(f"{payment.reference}: paid here, not on the statement")
