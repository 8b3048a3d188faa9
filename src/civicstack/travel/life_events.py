"""What travel does when an eID account closes (the holder died, or closed it themself): the
urban passes bound to it end, and every face copy made for a journey is deleted."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from civicstack.identity.service import AccountClosed
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.installing import Installer
from civicstack.travel import repository
from civicstack.travel.service import local_today, now

LIFE_EVENTS = Actor("system", "life-events")


def subscribe(installer: Installer) -> None:
    installer.subscribe_to(AccountClosed, withdraw_passes)


def withdraw_passes(session: Session, closed: AccountClosed) -> int:
    """A pass is bound to the eID that opened it: with the account closed it ends today (kept
    as history until the purge, like any expired pass) and its face copy is deleted at once.
    Subscribed to `identity.AccountClosed`; a replay finds nothing still valid."""
    today = local_today()
    valid = [found for found, _ in repository.passes_of_person(session,
                                                               closed.personal_id_number)
             if found.valid_until >= today]
    for found in valid:
        found.valid_until = today - timedelta(days=1)
        found.ended_at = now()  # no longer the person's current pass of its operator
    copies = repository.erase_tokens_of_person(session, closed.personal_id_number)
    if valid or copies:
        audit.record(session, LIFE_EVENTS, "travel.pass.withdraw", subject_type="person",
                     subject_id=closed.personal_id_number,
                     purpose=f"eID account closed ({closed.reason.value})",
                     detail={"passes": [found.id for found in valid], "face_copies": copies})
    return len(valid)
