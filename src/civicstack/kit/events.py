"""In-process domain events: a domain announces a fact inside the caller's transaction, and the
domains that depend on it react in that same transaction (all or nothing).

The subscriber table below is the one place that names both sides, so the register never
imports the wallet (which depends on the register); targets are imported when first used.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache

from sqlalchemy.orm import Session

PERSON_DECEASED = "person.deceased"
ACCOUNT_AWAITS_APPROVAL = "identity.account.awaits_approval"  # a level-1 phone was proven
FACE_TEMPLATE_REVOKED = "biometrics.template.revoked"  # consent withdrawn, or a false identity

SUBSCRIBERS: dict[str, tuple[str, ...]] = {
    PERSON_DECEASED: ("civicstack.wallet.service:revoke_documents_of_deceased",),
    ACCOUNT_AWAITS_APPROVAL: ("civicstack.biometrics.service:queue_registration_match",),
    # Copies made for journeys must not outlive the enrolment they were copied from.
    FACE_TEMPLATE_REVOKED: ("civicstack.travel.service:delete_copies_of",),
}


@cache
def _handler(target: str) -> Callable[[Session, str], object]:
    module, _, name = target.partition(":")
    handler: Callable[[Session, str], object] = getattr(importlib.import_module(module), name)
    return handler


def publish(session: Session, event: str, subject_id: str) -> None:
    for target in SUBSCRIBERS.get(event, ()):
        _handler(target)(session, subject_id)
