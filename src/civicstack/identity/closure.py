"""The end of an eID account, and of the level 2 that rested on an ID card: a death in the
register or the holder's own request closes the account for good; a card lost or revoked
withdraws level 2. Each announces what the other domains act on (`AccountClosed`, and
`SessionsEnded` for the relying parties), in the caller's transaction.

Closing keeps the account row and its audit trail: the population register and the audit log
are kept because the law requires them (the Law on Identification 2023 for the register;
Decree 13/2023 on personal data, art. 16, does not erase on request what a law requires to
keep), and the row lets sign-in say why it is refused afterwards.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicstack.identity import passwords, repository
from civicstack.identity.accounts import now
from civicstack.identity.models import AccountStatus, CitizenAccount, ClosureReason
from civicstack.identity.sessions import CLOSED, SignedIn, end_all_sessions, lower_all_sessions
from civicstack.identity.signin import count_failure, is_temporarily_locked
from civicstack.kit import audit, events
from civicstack.kit.audit import Actor
from civicstack.kit.errors import Conflict
from civicstack.registry import service as registry

LIFE_EVENTS = Actor("system", "life-events")


@dataclass(frozen=True)
class AccountClosed:
    """A citizen's eID account closed for good. Its sessions have ended (`SessionsEnded` was
    announced before this); whoever keeps something for the account (consents, wallet copies,
    face templates, passes, an organisation's representative) lets it go."""

    account_id: int
    personal_id_number: str
    reason: ClosureReason


def _close(session: Session, account: CitizenAccount, reason: ClosureReason, actor: Actor,
           purpose: str) -> None:
    account.status = AccountStatus.CLOSED.value
    account.closed_at, account.closure_reason = now(), reason.value
    end_all_sessions(session, account, CLOSED)
    audit.record(session, actor, "identity.account.close", subject_type="person",
                 subject_id=account.personal_id_number, purpose=purpose,
                 detail={"reason": reason.value})
    events.announce(session, AccountClosed(account.id, account.personal_id_number, reason))


def close_for_death(session: Session, died: registry.PersonDied) -> None:
    """The register recorded the death: nobody may sign in as the person any more (subscribed
    to `registry.PersonDied`; a replay finds the account closed and does nothing)."""
    account = repository.account_by_number(session, died.personal_id_number)
    if account is None or account.status == AccountStatus.CLOSED.value:
        return
    _close(session, account, ClosureReason.DECEASED, LIFE_EVENTS,
           f"holder recorded as deceased on {died.died_on.isoformat()}")


class ClosureOutcome(enum.StrEnum):
    CLOSED = "closed"
    WRONG_NUMBER = "wrong_number"  # the ID number typed is not this account's
    WRONG_PASSWORD = "wrong_password"  # noqa: S105 (an outcome) counted as a failed sign-in
    TEMPORARILY_LOCKED = "temporarily_locked"


def close_my_account(session: Session, signed: SignedIn, typed_number: str,
                     password: str) -> ClosureOutcome:
    """The citizen closes their own account, irreversibly: they type their ID number and their
    password again (someone at an unlocked browser knows neither). A wrong password counts as
    a failed sign-in, so the form cannot be used to guess it; the outcome is returned, not
    raised, so that the count commits."""
    account = signed.account
    if account.status != AccountStatus.ACTIVE.value:
        raise Conflict("this account is not active")
    if typed_number.strip() != account.personal_id_number:
        return ClosureOutcome.WRONG_NUMBER
    if is_temporarily_locked(account):
        return ClosureOutcome.TEMPORARILY_LOCKED
    if not passwords.verify_password(account.password_hash, password):
        count_failure(account)
        return ClosureOutcome.WRONG_PASSWORD
    _close(session, account, ClosureReason.OWN_REQUEST,
           Actor("citizen", account.personal_id_number), "closed at the holder's request")
    return ClosureOutcome.CLOSED


def withdraw_level_two(session: Session, ended: registry.IdCardRevoked) -> None:
    """Level 2 was activated on the card, seen in person: with the card lost or revoked the
    account falls back to level 1 (its authenticator forgotten, a new activation needed at a
    police office) and every session above level 1 ends (subscribed to
    `registry.IdCardRevoked`; nothing to do for an account already at level 1)."""
    account = repository.account_by_number(session, ended.personal_id_number)
    if account is None or (account.level == 1 and account.level2_authorised_at is None):
        return
    account.level, account.totp_secret, account.totp_last_step = 1, None, None
    account.level2_authorised_at = account.level2_authorised_by = None
    lower_all_sessions(session, account)
    audit.record(session, LIFE_EVENTS, "identity.level2.withdraw", subject_type="person",
                 subject_id=account.personal_id_number, purpose=f"ID card {ended.ending.value}",
                 detail={"card_number": ended.card_number})
