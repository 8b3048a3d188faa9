"""Security signals, their thresholds and alerts, and the verification of the logs' chains.

Signals come from where each fact already lives: failed sign-ins and lockouts from the audit log
(identity audits every attempt, and the moment a run of failures locks an account), exchange
refusals from the exchange's message log plus the API's tally of refused member assertions, rate
limit refusals from the limiters' tallies (kit/tally: counted in memory, so that a flood of
refusals is no flood of inserts, and shared through the database within seconds), and the chains
from this domain's own verification records. Every instance of the app reads the same counts.

An alert is raised the first time a signal reaches its threshold and cleared when it falls
back: one audit entry and one message to the security contact per episode, never one per check,
however many instances check.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from civicstack.exchange import service as exchange
from civicstack.kit import audit, outbox, ratelimit, tally
from civicstack.kit.audit import AUDIT_LOG, Actor, AuditEntry
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc
from civicstack.kit.metrics import CHAIN_CHECKED_AT, CHAIN_INTACT, SECURITY_ALERT_ACTIVE
from civicstack.kit.ratelimit import FailureLimiter
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog.log import EntryLog
from civicstack.kit.transparency import LogPublishing
from civicstack.security import repository
from civicstack.security.models import ChainCheck, SecurityAlert

FAILED_SIGN_INS = ("identity.login.wrong_credentials", "identity.official.login.wrong_credentials",
                   "identity.official.login.code_wrong")
LOCKOUTS = ("identity.account.lockout", "identity.official.lockout")
PURPOSE = "security monitoring"
LISTED = 20  # recent events of each kind on the page


class Kind(enum.StrEnum):
    FAILED_LOGINS = "failed_logins"
    LOCKOUTS = "lockouts"
    RATE_LIMIT_REFUSALS = "rate_limit_refusals"
    EXCHANGE_REFUSALS = "exchange_refusals"
    HASH_CHAINS = "hash_chains"  # logs whose last verification failed, is stale, or is missing


WINDOWS = {Kind.FAILED_LOGINS: timedelta(minutes=15), Kind.LOCKOUTS: timedelta(hours=1),
           Kind.RATE_LIMIT_REFUSALS: timedelta(minutes=15),
           Kind.EXCHANGE_REFUSALS: timedelta(hours=1)}
CHAINED_LOGS: dict[str, EntryLog] = {"audit": AUDIT_LOG, "exchange": exchange.MESSAGE_LOG}


@dataclass(frozen=True)
class Thresholds:
    """Alert when a window's count reaches these (settings: CIVICSTACK_SECURITY_*)."""

    failed_logins: int = 50
    lockouts: int = 10
    rate_limit_refusals: int = 100
    exchange_refusals: int = 20
    chain_check_max_age: timedelta = timedelta(hours=12)

    def of(self, kind: Kind) -> int:
        return 1 if kind == Kind.HASH_CHAINS else int(getattr(self, kind.value))


@dataclass(frozen=True)
class Signal:
    kind: Kind
    observed: int
    threshold: int
    window: timedelta | None  # None: a state, not a count over time

    @property
    def alerting(self) -> bool:
        return self.observed >= self.threshold


def now() -> datetime:
    return datetime.now(UTC)


def signals(session: Session, thresholds: Thresholds, at: datetime) -> list[Signal]:
    return _signals(session, thresholds, at, chains_needing_attention(session, thresholds, at))


def _signals(session: Session, thresholds: Thresholds, at: datetime,
             chains_to_check: list[str]) -> list[Signal]:
    observed = {
        Kind.FAILED_LOGINS: audit.count_actions(
            session, FAILED_SIGN_INS, at - WINDOWS[Kind.FAILED_LOGINS]),
        Kind.LOCKOUTS: audit.count_actions(session, LOCKOUTS, at - WINDOWS[Kind.LOCKOUTS]),
        Kind.RATE_LIMIT_REFUSALS: sum(ratelimit.refusals_by_limiter(
            session, at - WINDOWS[Kind.RATE_LIMIT_REFUSALS]).values()),
        Kind.EXCHANGE_REFUSALS: _exchange_refusals(session, at - WINDOWS[Kind.EXCHANGE_REFUSALS]),
        Kind.HASH_CHAINS: len(chains_to_check),
    }
    return [Signal(kind, count, thresholds.of(kind), WINDOWS.get(kind))
            for kind, count in observed.items()]


def _exchange_refusals(session: Session, since: datetime) -> int:
    return exchange.refusal_count(session, since) + _refused_assertions(session, since)


def _refused_assertions(session: Session, since: datetime) -> int:
    return tally.count_since(session, [exchange.AUTHENTICATION_REFUSALS], since)


def chains_needing_attention(session: Session, thresholds: Thresholds,
                             at: datetime) -> list[str]:
    return _needing_attention(repository.latest_checks(session), thresholds, at)


def _needing_attention(latest: dict[str, ChainCheck], thresholds: Thresholds,
                       at: datetime) -> list[str]:
    """Logs whose last verification found a break, is older than allowed, or never ran."""
    return [log for log in CHAINED_LOGS
            if log not in latest or not latest[log].intact
            or at - as_utc(latest[log].checked_at) > thresholds.chain_check_max_age]


# --- alerts -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AlertChange:
    kind: Kind
    raised: bool  # False: cleared
    observed: int
    threshold: int


def evaluate_alerts(session: Session, thresholds: Thresholds, contact: str,
                    at: datetime) -> list[AlertChange]:
    """Raise alerts for signals at their threshold, clear those that fell back; each change is
    audited, and a raise is mailed to `contact` (if any) through the outbox.

    Every instance evaluates from the same counts, and at most one alert of a kind is open (a
    unique index): of two instances raising at the same moment, the second finds it raised
    and sends nothing; a clear waits on the open alert's row lock."""
    open_alerts = repository.open_alerts(session)
    changes = []
    for signal in signals(session, thresholds, at):
        SECURITY_ALERT_ACTIVE.labels(signal.kind.value).set(int(signal.alerting))
        alert = open_alerts.get(signal.kind.value)
        if signal.alerting and alert is None:
            if not _raise(session, signal, contact, at):
                continue  # another instance raised it a moment ago, and mailed
        elif alert is not None and not signal.alerting:
            alert.cleared_at = at
        else:
            continue
        changes.append(AlertChange(signal.kind, signal.alerting, signal.observed,
                                   signal.threshold))
        audit.record(session, audit.SYSTEM,
                     f"security.alert.{'raised' if signal.alerting else 'cleared'}",
                     subject_type="security", subject_id=signal.kind.value, purpose=PURPOSE,
                     detail={"observed": signal.observed, "threshold": signal.threshold})
    return changes


def open_alerts(session: Session) -> list[SecurityAlert]:
    return sorted(repository.open_alerts(session).values(), key=lambda alert: alert.id)


def _raise(session: Session, signal: Signal, contact: str, at: datetime) -> bool:
    """Open the signal's alert and mail it; False if another instance opened it first."""
    if not repository.add_open_alert(session, SecurityAlert(
            kind=signal.kind.value, raised_at=at, observed=signal.observed,
            threshold=signal.threshold)):
        return False
    if contact:
        window = f" in {_minutes(signal.window)} minutes" if signal.window else ""
        outbox.enqueue(session, "email", contact, f"CivicStack security alert: {signal.kind}",
                       f"{signal.kind}: {signal.observed}{window}, threshold "
                       f"{signal.threshold}. Raised {at:%Y-%m-%d %H:%M} UTC; see "
                       "/console/security.")
    return True


def _minutes(window: timedelta) -> int:
    return int(window.total_seconds() // 60)


# --- the logs against their witnessed checkpoints --------------------------------------------

def verify_chains_when_due(session: Session, publishing: LogPublishing, at: datetime,
                           every: timedelta) -> list[ChainCheck]:
    """Verify unless every log was verified within `every`, by this process or another.
    Nothing verified: the metrics still show the latest results."""
    latest = repository.latest_checks(session)
    if any(log not in latest or at - as_utc(latest[log].checked_at) >= every
           for log in CHAINED_LOGS):
        return verify_chains(session, publishing, at)
    for check in latest.values():
        _publish(check)
    return []


def verify_chains(session: Session, publishing: LogPublishing,
                  at: datetime) -> list[ChainCheck]:
    """Check each log's entries sealed since its last check against the newest witnessed
    checkpoint (O(new entries), never a rescan: that is `civicstack audit full-audit`), and
    keep the result. Entries not yet witnessed are not read: writers cause no false alarm."""
    checks = []
    for log, entries in CHAINED_LOGS.items():
        started = time.perf_counter()
        report = tlog.verify(session, entries, publishing.witness, publishing.verifier)
        check = ChainCheck(log=log, checked_at=at, intact=report.ok,
                           entries_checked=report.entries_checked,
                           first_bad_seq=report.first_bad_seq, reason=report.reason[:300],
                           duration_ms=int((time.perf_counter() - started) * 1000))
        session.add(check)
        checks.append(check)
        _publish(check)
    session.flush()
    return checks


def _publish(check: ChainCheck) -> None:
    CHAIN_INTACT.labels(check.log).set(int(check.intact))
    CHAIN_CHECKED_AT.labels(check.log).set(as_utc(check.checked_at).timestamp())


def verify_chains_now(session: Session, publishing: LogPublishing, actor: Actor,
                      at: datetime) -> list[ChainCheck]:
    """An operator's verification from the console: audited with its outcome."""
    actor.require(Permission.SECURITY_READ)
    checks = verify_chains(session, publishing, at)
    audit.record(session, actor, "security.chains.verified", subject_type="security",
                 subject_id="hash_chains", purpose=PURPOSE,
                 detail={check.log: check.intact for check in checks})
    return checks


# --- what the operators' page shows ----------------------------------------------------------

@dataclass(frozen=True)
class SignInEvent:
    occurred_at: datetime
    account: str  # citizen | official
    who: str  # an official's username, or a citizen's ID number masked


@dataclass(frozen=True)
class LimiterState:
    name: str
    refused: int  # in the rate-limit window
    held_back: int  # keys (clients, accounts) refused right now


@dataclass(frozen=True)
class Overview:
    at: datetime
    signals: list[Signal]
    alerts: list[SecurityAlert]
    chains: dict[str, ChainCheck]
    stale_chains: list[str]
    failed_sign_ins: list[SignInEvent]
    lockouts: list[SignInEvent]
    failures_by_hour: list[tuple[datetime, int, int]]  # hour, failed sign-ins, lockouts
    limiters: list[LimiterState]
    exchange_refusals: list[exchange.Refusal]
    exchange_authentication_refusals: int


def overview(session: Session, actor: Actor, limiters: Mapping[str, FailureLimiter],
             thresholds: Thresholds, at: datetime) -> Overview:
    """The page's figures; `limiters` are those this process uses, each listed with the
    counts of every instance."""
    actor.require(Permission.SECURITY_READ)
    day_ago = at - timedelta(days=1)
    refused = ratelimit.refusals_by_limiter(session, at - WINDOWS[Kind.RATE_LIMIT_REFUSALS])
    latest = repository.latest_checks(session)
    stale = _needing_attention(latest, thresholds, at)
    return Overview(
        at=at, signals=_signals(session, thresholds, at, stale),
        alerts=repository.recent_alerts(session, day_ago, LISTED),
        chains=latest, stale_chains=stale,
        failed_sign_ins=_sign_in_events(session, FAILED_SIGN_INS, day_ago),
        lockouts=_sign_in_events(session, LOCKOUTS, day_ago),
        failures_by_hour=_by_hour(session, at),
        limiters=[LimiterState(name, refused.get(name, 0), limiter.held_back(session))
                  for name, limiter in sorted(limiters.items())],
        exchange_refusals=exchange.latest_refusals(session, day_ago, LISTED),
        exchange_authentication_refusals=_refused_assertions(session, day_ago))


def _sign_in_events(session: Session, actions: tuple[str, ...],
                    since: datetime) -> list[SignInEvent]:
    return [_sign_in_event(entry)
            for entry in audit.latest_of_actions(session, actions, since, LISTED)]


def _sign_in_event(entry: AuditEntry) -> SignInEvent:
    citizen = entry.subject_type == "person"
    # Whoever typed a citizen's number may not be that citizen: show only its last digits,
    # so this page reads nobody's data.
    who = "•" * 8 + entry.subject_id[-4:] if citizen else entry.subject_id
    return SignInEvent(as_utc(entry.occurred_at), "citizen" if citizen else "official", who)


def _by_hour(session: Session, at: datetime) -> list[tuple[datetime, int, int]]:
    """The last 24 hours, hour by hour: failed sign-ins and lockouts (the page's chart)."""
    first = at.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    failures = [0] * 24
    lockouts = [0] * 24
    for counted, actions in ((failures, FAILED_SIGN_INS), (lockouts, LOCKOUTS)):
        for moment in audit.moments_of_actions(session, actions, first):
            hour = int((moment - first).total_seconds() // 3600)
            if 0 <= hour < 24:
                counted[hour] += 1
    return [(first + timedelta(hours=n), failures[n], lockouts[n]) for n in range(24)]
