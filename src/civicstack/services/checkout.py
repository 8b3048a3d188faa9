"""Submitting dossiers with their fees, in two transactions that each commit, so that a
process killed at any point never takes a fee twice: first each fee is recorded as a pending
payment under its idempotency key; then the channel is asked under that key, and the submission
commits with the payment settled. Killed in between, the next try asks under the same key,
which the channel answers with the charge it already took; a try nobody makes again is settled
or failed by reconciliation.py."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from civicstack.kit.audit import Actor
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict
from civicstack.services import service
from civicstack.services.payments import PaymentChannel, PaymentSource
from civicstack.wallet.site import WalletSite


def submit(factory: sessionmaker[Session], site: WalletSite, actor: Actor, receipt_code: str,
           payments: PaymentChannel, source: PaymentSource | None = None) -> None:
    """Submit what the receipt code names (one dossier, or a whole group), fees first, paid
    from `source` where the citizen chose one at the payment step. Sent twice at once (a
    double click), the second finds the fee's key already charged and takes nothing."""
    try:
        with transaction(factory) as session:
            dossiers, _ = service.under_receipt(session, actor, receipt_code, lock=True)
            service.record_pending_fees(session, actor, dossiers, payments.name)
    except IntegrityError:
        # A try at once beside this one (a double click) recorded the same pending fee under
        # the same key first: SQLite's lock=True holds no row, so both found none. Go on with
        # the other's, which the key makes the channel charge once.
        pass
    declined: service.PaymentRefused | None = None
    try:
        with transaction(factory) as session:
            dossiers, _ = service.under_receipt(session, actor, receipt_code, lock=True)
            try:
                service.submit_group(session, site, actor, dossiers, payments, source)
            except service.PaymentRefused as exc:
                declined = exc  # the failed payment and the refunds commit: their keys are spent
    except StaleDataError as exc:
        # The same race on SQLite: both read the draft, the channel answered both under the
        # one key, and the other committed the submission first (the dossier's version).
        raise Conflict(service.ALREADY_SUBMITTED) from exc
    if declined is not None:
        raise declined
