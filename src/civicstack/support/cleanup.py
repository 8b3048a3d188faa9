"""Clean-up of eID accounts: a scan proposes active accounts that look abandoned (no sign-in
for months) or duplicated (one phone on several accounts); an official with `identity:approve`
reviews each: approve locks the account through identity's service, reject keeps it with a
reason. A proposal is made once per account and reason, so a rejected one does not come back.

A death needs no proposal: the register's `PersonDied` closes the account in the transaction
that records it. What is left is a consistency check (`life_events_check`, a job): an active
account whose holder the register records as deceased means a death that some domain did not
act on (recorded before it subscribed, say), so the death is announced again, and reported."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Permission
from civicstack.kit.errors import Invalid, NotFound
from civicstack.registry import service as registry
from civicstack.support import repository
from civicstack.support.models import CleanupCandidate

INACTIVE_MONTHS = 24
NOTE_LIMIT = 500
PURPOSE_CHECK = "life events: accounts of deceased holders still active"
LIFE_EVENTS_CHECK = Actor("system", "life-events-check", NATIONAL)
PURPOSE_REVIEW = "eID account clean-up: reviewing a proposal"


@dataclass(frozen=True)
class ScanResult:
    inactive: int
    duplicate: int


def scan(session: Session, actor: Actor, inactive_months: int = INACTIVE_MONTHS,
         now: datetime | None = None) -> ScanResult:
    actor.require(Permission.IDENTITY_APPROVE)
    if inactive_months < 1:
        raise Invalid("inactive_months", "at least one month")
    now = now or datetime.now(UTC)
    accounts = identity.active_accounts_activity(session)
    cutoff = now - timedelta(days=30 * inactive_months)
    inactive = {a.personal_id_number: f"last active {a.last_active_at:%Y-%m-%d}"
                for a in accounts if a.last_active_at < cutoff}
    by_phone: defaultdict[str, list[str]] = defaultdict(list)
    for account in accounts:
        by_phone[account.phone].append(account.personal_id_number)
    duplicate = {pid: f"phone {phone} on {len(holders)} accounts"
                 for phone, holders in by_phone.items() if len(holders) > 1 for pid in holders}
    return ScanResult(_propose(session, actor, "inactive", inactive, now),
                      _propose(session, actor, "duplicate", duplicate, now))


def repair_deaths_not_acted_on(session: Session) -> list[str]:
    """The ID numbers of deceased holders whose account was still active; each death is
    announced again, so every domain does what it had not (its subscribers are idempotent)."""
    numbers = [a.personal_id_number for a in identity.active_accounts_activity(session)]
    dead = sorted(registry.deceased_among(session, LIFE_EVENTS_CHECK, numbers, PURPOSE_CHECK))
    for number in dead:
        registry.replay_death(session, LIFE_EVENTS_CHECK, number)
    return dead


def _propose(session: Session, actor: Actor, reason: str, found: dict[str, str],
             now: datetime) -> int:
    known = repository.candidates_known(session, reason)
    new = {pid: evidence for pid, evidence in found.items() if pid not in known}
    for pid, evidence in new.items():
        session.add(CleanupCandidate(personal_id_number=pid, reason=reason, evidence=evidence,
                                     found_at=now, state="proposed", decision_note=""))
        audit.record(session, actor, "support.cleanup.propose", subject_type="person",
                     subject_id=pid, purpose="eID account clean-up",
                     detail={"reason": reason, "evidence": evidence})
    session.flush()
    return len(new)


def proposals(session: Session, official: Actor) -> list[tuple[CleanupCandidate, str]]:
    """Proposals waiting for review, of people within the official's scope, with their
    names (an audited read)."""
    official.require(Permission.IDENTITY_APPROVE)
    waiting = repository.proposed_candidates(session)
    names = registry.names_in_scope(session, official, sorted(
        {c.personal_id_number for c in waiting}), PURPOSE_REVIEW)
    return [(c, names[c.personal_id_number]) for c in waiting if c.personal_id_number in names]


def approve(session: Session, official: Actor, candidate_id: int, note: str = "") -> None:
    """Lock the account (identity checks the official's permission and scope)."""
    found = _proposed(session, official, candidate_id)
    identity.lock(session, official, found.personal_id_number,
                  f"account clean-up ({found.reason}): {found.evidence}")
    _decide(session, official, found, "approved", note)


def reject(session: Session, official: Actor, candidate_id: int, note: str) -> None:
    """Keep the account; the reason is required so the next reviewer knows why."""
    found = _proposed(session, official, candidate_id)
    if not note.strip():
        raise Invalid("note", "say why this account is kept")
    registry.get_person(session, official, found.personal_id_number, PURPOSE_REVIEW)  # scope
    _decide(session, official, found, "rejected", note)


def _proposed(session: Session, official: Actor, candidate_id: int) -> CleanupCandidate:
    official.require(Permission.IDENTITY_APPROVE)
    found = repository.candidate(session, candidate_id)
    if found is None or found.state != "proposed":
        raise NotFound("no proposal waiting with this number")
    return found


def _decide(session: Session, official: Actor, found: CleanupCandidate, state: str,
            note: str) -> None:
    if len(note.strip()) > NOTE_LIMIT:
        raise Invalid("note", f"at most {NOTE_LIMIT} characters")
    found.state, found.decision_note = state, note.strip()
    found.reviewed_by, found.reviewed_at = str(official), datetime.now(UTC)
    audit.record(session, official, f"support.cleanup.{state}", subject_type="person",
                 subject_id=found.personal_id_number, purpose=PURPOSE_REVIEW,
                 detail={"reason": found.reason, "candidate": found.id,
                         "note": found.decision_note})
