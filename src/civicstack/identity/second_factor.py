"""Level 2's second factors, an authenticator app (TOTP) and passkeys (WebAuthn): enrolled after
an official's activation (identity/approval.py), then used to step a session up to level 2.

Step-ups *return* their outcome instead of raising, because a failed attempt counts toward the
same progressive lock as a wrong password and must be committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from civicstack.identity import passkeys, repository, totp
from civicstack.identity.accounts import now
from civicstack.identity.codes import CodeOutcome
from civicstack.identity.models import CitizenAccount, CitizenPasskey
from civicstack.identity.sessions import (
    PASSWORD_AND_PASSKEY,
    SignedIn,
    live_session,
    raise_to_level_two,
)
from civicstack.identity.signin import count_failure, is_temporarily_locked
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized

# An activation at the police office is an invitation to enrol, not a standing one: whoever
# learns the password later must not be able to bind their own authenticator to the account.
ENROLMENT_WINDOW = timedelta(days=7)


# --- the authenticator app (TOTP) -------------------------------------------------------------

@dataclass(frozen=True)
class TotpEnrolment:
    secret: str  # base32, for typing into an app by hand
    uri: str  # otpauth://, for the QR code


def totp_enrolment(session: Session, totp_key: str, account: CitizenAccount) -> TotpEnrolment:
    """The secret waiting to be confirmed, created on first call. The same one is returned
    until confirmed, so reloading the page does not invalidate a QR code already scanned."""
    check_may_enrol(account)
    if account.totp_secret is None:
        secret = totp.new_secret()
        account.totp_secret = totp.seal(totp_key, secret, account.personal_id_number)
        _record_for(session, account, "identity.totp.enrolment_start", "eID level 2")
    else:
        secret = _secret_of(totp_key, account)
    return TotpEnrolment(secret, totp.provisioning_uri(secret, account.personal_id_number))


def enrol_totp(session: Session, totp_key: str, account: CitizenAccount, code: str,
               session_token: str | None = None) -> CodeOutcome:
    """Confirm the authenticator with its first code; the account becomes level 2, and so
    does the browser session that proved it (`session_token`), which has just shown both."""
    repository.lock_account(session, account)  # one confirmation at a time
    check_may_enrol(account)
    outcome = CodeOutcome.NO_CODE
    if account.totp_secret is not None:
        step = _accepted_step(totp_key, account, code)
        outcome = CodeOutcome.WRONG if step is None else CodeOutcome.ACCEPTED
    if outcome == CodeOutcome.ACCEPTED:
        account.level = 2
        found = live_session(session, session_token) if session_token else None
        if found is not None and found[1].id == account.id:
            raise_to_level_two(found[0])
    _record_for(session, account, "identity.totp.enrol", "eID level 2",
                {"outcome": outcome.value})
    return outcome


def check_may_enrol(account: CitizenAccount) -> None:
    """Refuse (403/409) unless an official's activation is waiting for an authenticator."""
    if account.level == 2:
        raise Conflict("the authenticator is already set up; to replace it, go to a police "
                       "office")
    authorised = account.level2_authorised_at
    if authorised is None:
        raise Forbidden("level 2 must first be activated at a police office")
    if as_utc(authorised) + ENROLMENT_WINDOW < now():
        raise Forbidden("the level 2 activation has expired; ask at a police office again")


def step_up(session: Session, totp_key: str, token: str, code: str) -> CodeOutcome:
    """Raise a signed-in session to level 2 with a code from the account's authenticator.
    Wrong or replayed codes count toward the same progressive lock as wrong passwords."""
    found = live_session(session, token)
    if found is None:
        raise Unauthorized("you are not signed in; sign in again")
    browser, account = found
    if account.level != 2 or account.totp_secret is None:
        raise Conflict("this eID account is level 1; level 2 is activated at a police office")
    # a code is accepted once, even by concurrent requests
    repository.lock_account(session, account)
    outcome = _check_second_factor(totp_key, account, code)
    if outcome == CodeOutcome.ACCEPTED:
        raise_to_level_two(browser)
    _record_for(session, account, "identity.step_up", "sign-in", {"outcome": outcome.value})
    return outcome


def _check_second_factor(totp_key: str, account: CitizenAccount, code: str) -> CodeOutcome:
    if is_temporarily_locked(account):
        return CodeOutcome.EXHAUSTED
    if _accepted_step(totp_key, account, code) is None:
        count_failure(account)
        return CodeOutcome.WRONG
    account.failed_logins = 0
    account.locked_until = None
    return CodeOutcome.ACCEPTED


def _accepted_step(totp_key: str, account: CitizenAccount, code: str) -> int | None:
    """The code's time-step, remembered so that it cannot be replayed (totp.fresh_step)."""
    step = totp.fresh_step(_secret_of(totp_key, account), code, now(), account.totp_last_step)
    if step is not None:
        account.totp_last_step = step
    return step


def _secret_of(totp_key: str, account: CitizenAccount) -> str:
    assert account.totp_secret is not None  # callers check enrolment first
    return totp.unseal(totp_key, account.totp_secret, account.personal_id_number)


# --- passkeys (WebAuthn) ----------------------------------------------------------------------

def my_passkeys(session: Session, account: CitizenAccount) -> list[CitizenPasskey]:
    return repository.passkeys_of(session, account.id)


def check_may_add_passkey(signed: SignedIn) -> None:
    """While a level-2 activation waits for its second factor; afterwards only from a session
    that has itself proven level 2 (a new phone is added with the old one at hand)."""
    if signed.account.level < 2:
        check_may_enrol(signed.account)
    elif signed.level < 2:
        raise Forbidden("confirm it is you with your second factor before adding a passkey")


def passkey_enrolment(session: Session, rp: passkeys.RelyingParty,
                      signed: SignedIn) -> passkeys.Ceremony:
    check_may_add_passkey(signed)
    existing = [p.credential_id for p in my_passkeys(session, signed.account)]
    return passkeys.creation(rp, signed.account.id, signed.account.personal_id_number, existing)


def add_passkey(session: Session, rp: passkeys.RelyingParty, signed: SignedIn,
                challenge: bytes, answer: str, name: str) -> CitizenPasskey:
    """Verify the new credential and keep its public key. As the first second factor it
    completes level 2, and the session that created it (it just used it) becomes level 2."""
    account = signed.account
    repository.lock_account(session, account)
    check_may_add_passkey(signed)
    created = passkeys.verify_creation(rp, challenge, answer)
    if repository.passkey_registered(session, created.credential_id):
        raise Conflict("this passkey is already registered")
    passkey = CitizenPasskey(
        account_id=account.id, credential_id=created.credential_id,
        public_key=created.public_key, sign_count=created.sign_count,
        backed_up=created.backed_up, name=name.strip()[:60] or "Passkey", created_at=now())
    session.add(passkey)
    if account.level < 2:
        account.level = 2
        found = live_session(session, signed.session_id)
        if found is not None:
            raise_to_level_two(found[0], PASSWORD_AND_PASSKEY)
    _record_for(session, account, "identity.passkey.add", "eID level 2",
                {"name": passkey.name, "synced": created.backed_up})
    return passkey


def passkey_step_up(session: Session, rp: passkeys.RelyingParty,
                    account: CitizenAccount) -> passkeys.Ceremony:
    allowed = [p.credential_id for p in my_passkeys(session, account)]
    if account.level != 2 or not allowed:
        raise Conflict("this eID account has no passkey; use your authenticator app")
    return passkeys.request(rp, allowed)


def step_up_with_passkey(session: Session, rp: passkeys.RelyingParty, token: str,
                         challenge: bytes, answer: str) -> CodeOutcome:
    """Like step_up with a code: a failed passkey counts toward the same progressive lock, so
    the outcome is returned, not raised (a raise would roll the count back)."""
    found = live_session(session, token)
    if found is None:
        raise Unauthorized("you are not signed in; sign in again")
    browser, account = found
    repository.lock_account(session, account)
    outcome, reason = _check_passkey(session, rp, account, challenge, answer)
    if outcome == CodeOutcome.ACCEPTED:
        raise_to_level_two(browser, PASSWORD_AND_PASSKEY)
    _record_for(session, account, "identity.step_up", "sign-in",
                {"outcome": outcome.value, "method": "passkey", "reason": reason})
    return outcome


def _check_passkey(session: Session, rp: passkeys.RelyingParty, account: CitizenAccount,
                   challenge: bytes, answer: str) -> tuple[CodeOutcome, str]:
    if account.locked_until and as_utc(account.locked_until) > now():
        return CodeOutcome.EXHAUSTED, "locked"
    try:
        stored = repository.passkey_of(session, account.id, passkeys.credential_id_of(answer))
        if stored is None:
            raise Invalid(passkeys.FIELD, "this passkey is not registered to the account")
        stored.sign_count = passkeys.verify_assertion(rp, challenge, answer, stored.public_key,
                                                      stored.sign_count)
    except Invalid as refused:
        count_failure(account)
        return CodeOutcome.WRONG, refused.errors[0].reason[:200]
    stored.last_used_at = now()
    account.failed_logins = 0
    account.locked_until = None
    return CodeOutcome.ACCEPTED, ""


def remove_passkey(session: Session, signed: SignedIn, passkey_id: int) -> None:
    """From a level-2 session only, and never the last second factor of a level-2 account."""
    account = signed.account
    if signed.level < 2:
        raise Forbidden("confirm it is you with your second factor before removing a passkey")
    repository.lock_account(session, account)
    mine = {p.id: p for p in my_passkeys(session, account)}
    if passkey_id not in mine:
        raise NotFound("no such passkey on your account")
    if len(mine) == 1 and account.totp_last_step is None:  # no confirmed authenticator app
        raise Conflict("this is your only second factor; add another before removing it")
    session.delete(mine[passkey_id])
    _record_for(session, account, "identity.passkey.remove", "eID level 2",
                {"name": mine[passkey_id].name})


def _record_for(session: Session, account: CitizenAccount, action: str, purpose: str,
                detail: dict[str, object] | None = None) -> None:
    audit.record(session, Actor("citizen", account.personal_id_number), action,
                 subject_type="person", subject_id=account.personal_id_number,
                 purpose=purpose, detail=detail or {})
