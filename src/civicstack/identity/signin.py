"""Citizens' password sign-in, and the progressive lock that a run of failures puts on a
citizen's or an official's account, or on an identifier that has none.

Sign-in *returns* its outcome instead of raising, because a failed attempt must be counted and
committed: raising would roll the counter back with everything else.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from threading import Lock
from typing import Protocol

from sqlalchemy.orm import Session

from civicstack.identity import passwords, repository
from civicstack.identity.accounts import now
from civicstack.identity.models import AccountStatus, CitizenAccount
from civicstack.kit import audit
from civicstack.kit.appservices import ServiceKey
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.metrics import LOCKOUTS, LOGIN_FAILURES

FREE_LOGIN_FAILURES = 5  # then each failure doubles the lock: 1, 2, 4 ... minutes
LONGEST_LOCK = timedelta(hours=24)
_DUMMY_HASH = passwords.hash_password("timing-equaliser-not-a-password")


class LoginOutcome(enum.StrEnum):
    SIGNED_IN = "signed_in"
    WRONG_CREDENTIALS = "wrong_credentials"  # unknown ID number or wrong password: one answer
    TEMPORARILY_LOCKED = "temporarily_locked"
    LOCKED = "locked"
    NOT_ACTIVE = "not_active"  # right password, account still pending
    CLOSED = "closed"  # right password, account closed for good (identity/closure.py)


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    account: CitizenAccount | None = None
    retry_after: datetime | None = None


def sign_in(session: Session, unknown: UnknownIdentifiers, personal_id_number: str,
            password: str) -> LoginResult:
    account = repository.account_by_number(session, personal_id_number)
    locked_before = account.locked_until if account else None
    result = _sign_in(account, password) if account is not None else \
        _sign_in_without_account(unknown.stand_in(f"citizen:{personal_id_number}"), password)
    actor = Actor("citizen", personal_id_number)
    audit.record(session, actor, f"identity.login.{result.outcome}",
                 subject_type="person", subject_id=personal_id_number, purpose="sign-in")
    if result.outcome == LoginOutcome.WRONG_CREDENTIALS:
        LOGIN_FAILURES.labels("citizen").inc()
    if account is not None:
        record_lockout(session, actor, account, locked_before, "person", "identity.account")
    return result


def _sign_in_without_account(stand_in: Lockable, password: str) -> LoginResult:
    if fails_as_an_account_would(stand_in, password):
        return LoginResult(LoginOutcome.WRONG_CREDENTIALS, retry_after=stand_in.locked_until)
    return LoginResult(LoginOutcome.TEMPORARILY_LOCKED, retry_after=stand_in.locked_until)


def _sign_in(account: CitizenAccount, password: str) -> LoginResult:
    if account.status == AccountStatus.LOCKED.value:
        return LoginResult(LoginOutcome.LOCKED)
    if is_temporarily_locked(account):
        return LoginResult(LoginOutcome.TEMPORARILY_LOCKED, retry_after=account.locked_until)
    if not passwords.verify_password(account.password_hash, password):
        count_failure(account)
        return LoginResult(LoginOutcome.WRONG_CREDENTIALS, retry_after=account.locked_until)
    account.failed_logins = 0
    account.locked_until = None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    if account.status == AccountStatus.CLOSED.value:  # said only to who knows the password
        return LoginResult(LoginOutcome.CLOSED, account)
    if account.status != AccountStatus.ACTIVE.value:
        return LoginResult(LoginOutcome.NOT_ACTIVE, account)
    return LoginResult(LoginOutcome.SIGNED_IN, account)


class Lockable(Protocol):
    """An account that a run of failed sign-ins locks: a citizen's or an official's, or the
    stand-in of an identifier that has none."""

    failed_logins: int
    locked_until: datetime | None


@dataclass
class StandIn:
    """Takes the place of an account that does not exist."""

    failed_logins: int = 0
    locked_until: datetime | None = None


class UnknownIdentifiers:
    """The failures against ID numbers and usernames that have no account, so that each locks
    after the same run of failures as a real account and the answers never tell which ones are
    real. Kept in memory, never a row per guess; past `capacity` the least recently tried are
    forgotten (the per-address limit keeps anyone from trying that many quickly)."""

    def __init__(self, capacity: int = 100_000) -> None:
        self.capacity = capacity
        self._stand_ins: OrderedDict[str, StandIn] = OrderedDict()
        self._lock = Lock()

    def stand_in(self, identifier: str) -> StandIn:
        with self._lock:
            found = self._stand_ins.pop(identifier, None) or StandIn()
            self._stand_ins[identifier] = found
            while len(self._stand_ins) > self.capacity:
                self._stand_ins.popitem(last=False)
            return found


UNKNOWN_IDENTIFIERS = ServiceKey[UnknownIdentifiers]("unknown_sign_in_identifiers")


def fails_as_an_account_would(stand_in: Lockable, password: str) -> bool:
    """An identifier with no account answers as an account whose every password is wrong:
    False while its stand-in is locked, else True after a password check's time, the failure
    counted like a real one."""
    if is_temporarily_locked(stand_in):
        return False
    passwords.verify_password(_DUMMY_HASH, password)  # same time as a real check
    count_failure(stand_in)
    return True


def is_temporarily_locked(account: Lockable) -> bool:
    return account.locked_until is not None and as_utc(account.locked_until) > now()


def record_lockout(session: Session, actor: Actor, account: Lockable,
                   locked_before: datetime | None, subject_type: str, action_prefix: str) -> None:
    """Audit the moment a run of failures locks an account (`<prefix>.lockout`), for the
    security view's lockout count: the failure that locks is audited like any other."""
    if account.locked_until is None or account.locked_until == locked_before:
        return
    LOCKOUTS.labels(actor.kind).inc()
    audit.record(session, actor, f"{action_prefix}.lockout", subject_type=subject_type,
                 subject_id=actor.name, purpose="sign-in",
                 detail={"locked_until": account.locked_until.isoformat(),
                         "failed_logins": account.failed_logins})


def count_failure(account: Lockable) -> None:
    """The first failures are free, then each one doubles the lock, up to a day."""
    account.failed_logins += 1
    beyond = account.failed_logins - FREE_LOGIN_FAILURES
    if beyond >= 0:
        account.locked_until = now() + min(timedelta(minutes=2 ** min(beyond, 11)), LONGEST_LOCK)
