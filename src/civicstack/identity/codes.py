"""One-time codes sent by SMS (to prove a phone, to reset a password), and CodeOutcome, what
every code check of identity answers.

Code checks *return* their outcome instead of raising, because a failed attempt must be counted
and committed: raising would roll the counter back with everything else.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from civicstack.identity import repository
from civicstack.identity.accounts import now
from civicstack.identity.models import CitizenAccount, PhoneChallenge
from civicstack.kit import outbox
from civicstack.kit.db import as_utc

CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=5)
CODE_ATTEMPTS = 5
CODES_PER_HOUR = 3


class CodeOutcome(enum.StrEnum):
    ACCEPTED = "accepted"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"  # too many wrong tries: ask for a new code
    NO_CODE = "no_code"


def send_phone_code(session: Session, pepper: str, account: CitizenAccount,
                    purpose: str) -> None:
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    session.add(PhoneChallenge(account_id=account.id, purpose=purpose,
                               code_digest=_code_digest(pepper, account.id, code),
                               expires_at=now() + CODE_LIFETIME, attempts=0))
    outbox.enqueue(session, "sms", account.phone, "CivicStack",
                   f"Ma xac minh CivicStack: {code}. Het han sau 5 phut. "
                   f"Your CivicStack code: {code} (valid 5 minutes).")


def send_within_allowance(session: Session, pepper: str, account: CitizenAccount,
                          purpose: str) -> bool:
    """Send a code unless CODES_PER_HOUR went out already (each SMS costs money and each code
    is a guess budget); whether it was sent."""
    sent_last_hour = repository.codes_expiring_after(
        session, account.id, purpose, now() + CODE_LIFETIME - timedelta(hours=1))
    if sent_last_hour >= CODES_PER_HOUR:
        return False
    send_phone_code(session, pepper, account, purpose)
    return True


def consume_code(session: Session, pepper: str, account: CitizenAccount | None, purpose: str,
                 code: str) -> CodeOutcome:
    """Try `code` against the account's latest code for `purpose`, counting the attempt."""
    challenge = repository.latest_challenge(session, account.id, purpose) if account else None
    if account is None or challenge is None:
        return CodeOutcome.NO_CODE
    return _check_code(challenge, _code_digest(pepper, account.id, code.strip()))


def _code_digest(pepper: str, challenge_owner: int, code: str) -> str:
    return hmac.new(pepper.encode(), f"{challenge_owner}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _check_code(challenge: PhoneChallenge, digest: str) -> CodeOutcome:
    if challenge.attempts >= CODE_ATTEMPTS:
        return CodeOutcome.EXHAUSTED
    if as_utc(challenge.expires_at) < now():
        return CodeOutcome.EXPIRED
    challenge.attempts += 1
    if not hmac.compare_digest(challenge.code_digest, digest):
        return CodeOutcome.WRONG
    challenge.used_at = now()
    return CodeOutcome.ACCEPTED
