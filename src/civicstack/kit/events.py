"""In-process domain events: a domain announces a fact inside the caller's transaction, and the
domains that depend on it react in that same transaction (all or nothing).

The publisher names only the event; each subscriber subscribes itself when it is installed
(its `install`), so the register never imports the wallet that depends on it.

An event that must say more than whose it is (which sessions ended, and why) is a *fact*: a
frozen dataclass defined by the publishing domain, announced with `announce` and received,
typed, by whoever subscribed to its class with `subscribe_to`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

ACCOUNT_AWAITS_APPROVAL = "identity.account.awaits_approval"  # a level-1 phone was proven
FACE_CONSENT_GIVEN = "identity.face_consent.given"  # ticked at eID registration
FACE_TEMPLATE_REVOKED = "biometrics.template.revoked"  # consent withdrawn, or a false identity

Handler = Callable[[Session, str], object]
_subscribers: dict[str, list[Handler]] = {}


def subscribe(event: str, handler: Handler) -> None:
    """Idempotent: every app and CLI in one process installs the domains again."""
    handlers = _subscribers.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def publish(session: Session, event: str, subject_id: str) -> None:
    for handler in _subscribers.get(event, ()):
        handler(session, subject_id)


Fact = TypeVar("Fact")
_fact_subscribers: dict[type[Any], list[Callable[[Session, Any], object]]] = {}


def subscribe_to(kind: type[Fact], handler: Callable[[Session, Fact], object]) -> None:
    """Idempotent, like `subscribe`."""
    handlers = _fact_subscribers.setdefault(kind, [])
    if handler not in handlers:
        handlers.append(handler)


def announce(session: Session, fact: object) -> None:
    """Every subscriber to the fact's class reacts, in the caller's transaction."""
    for handler in _fact_subscribers.get(type(fact), ()):
        handler(session, fact)
