"""Online services' background work in the app: payments reconciled with the payment
channel's statement (also `civicstack services reconcile-payments`)."""

from __future__ import annotations

from civicstack.kit.appservices import AppServices
from civicstack.kit.db import transaction
from civicstack.services import reconciliation, service
from civicstack.services.site import PAYMENTS


def reconcile_payments(services: AppServices) -> object:
    with transaction(services.session_factory) as session:
        done = reconciliation.reconcile_payments(session, services[PAYMENTS], service.now())
    return str(done) if done.changed or done.disagreements else None
