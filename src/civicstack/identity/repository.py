"""Identity's queries: citizens' eID accounts, their phone codes, sessions, passkeys and face
photos, and officials' console accounts."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity.models import (
    AccountStatus,
    CitizenAccount,
    CitizenFacePhoto,
    CitizenNotice,
    CitizenPasskey,
    CitizenSession,
    OfficialAccount,
    PhoneChallenge,
)
from civicstack.kit.db import delete_in_batches

NOTICES_SHOWN = 50

# --- citizens' accounts -----------------------------------------------------------------------

# Built once: every password sign-in runs it (building a statement costs ~100 µs of CPU).
ACCOUNT_BY_NUMBER = select(CitizenAccount).where(
    CitizenAccount.personal_id_number == bindparam("number"))


def account_by_number(session: Session, personal_id_number: str) -> CitizenAccount | None:
    return session.execute(ACCOUNT_BY_NUMBER,
                           {"number": personal_id_number}).scalar_one_or_none()


def account_by_id(session: Session, account_id: int) -> CitizenAccount | None:
    return session.get(CitizenAccount, account_id)


def accounts_by_ids(session: Session, account_ids: Collection[int]) -> list[CitizenAccount]:
    return list(session.execute(
        select(CitizenAccount).where(CitizenAccount.id.in_(account_ids))).scalars())


def accounts_awaiting_approval(session: Session) -> list[CitizenAccount]:
    """Oldest first."""
    return list(session.execute(
        select(CitizenAccount).where(CitizenAccount.status == AccountStatus.PENDING_APPROVAL.value)
        .order_by(CitizenAccount.created_at)).scalars())


def active_accounts_with_last_sign_in(
        session: Session) -> list[tuple[str, str, datetime, datetime | None]]:
    """(ID number, phone, created at, last session started or None) of every active account."""
    last_sign_in = func.max(CitizenSession.created_at)
    return [(pid, phone, created, last) for pid, phone, created, last in session.execute(
        select(CitizenAccount.personal_id_number, CitizenAccount.phone,
               CitizenAccount.created_at, last_sign_in)
        .outerjoin(CitizenSession, CitizenSession.account_id == CitizenAccount.id)
        .where(CitizenAccount.status == AccountStatus.ACTIVE.value)
        .group_by(CitizenAccount.id, CitizenAccount.personal_id_number,
                  CitizenAccount.phone, CitizenAccount.created_at)
        .order_by(CitizenAccount.id))]


def lock_account(session: Session, account: CitizenAccount) -> None:
    """Lock the account's row and re-read it, so that concurrent requests are checked one
    after the other (a TOTP code against the last accepted step, say). Flushed first, because
    a refresh discards unflushed changes."""
    session.flush()
    session.refresh(account, with_for_update=True)


def face_photo_of(session: Session, account_id: int) -> CitizenFacePhoto | None:
    return session.get(CitizenFacePhoto, account_id)


# --- phone codes ------------------------------------------------------------------------------

def codes_expiring_after(session: Session, account_id: int, purpose: str,
                         moment: datetime) -> int:
    return session.execute(select(func.count()).select_from(PhoneChallenge).where(
        PhoneChallenge.account_id == account_id, PhoneChallenge.purpose == purpose,
        PhoneChallenge.expires_at > moment)).scalar_one()


def latest_challenge(session: Session, account_id: int, purpose: str) -> PhoneChallenge | None:
    """The last unused code sent for `purpose`, its row locked until the transaction ends."""
    return session.execute(
        select(PhoneChallenge).where(PhoneChallenge.account_id == account_id,
                                     PhoneChallenge.purpose == purpose,
                                     PhoneChallenge.used_at.is_(None))
        .order_by(PhoneChallenge.id.desc()).limit(1).with_for_update()
    ).scalar_one_or_none()


# --- signed-in devices ------------------------------------------------------------------------

def open_session_with_account(session: Session, token: str,
                              ) -> tuple[CitizenSession, CitizenAccount] | None:
    """The session behind `token`, idle or not, with its account; None once ended."""
    found = session.execute(
        select(CitizenSession, CitizenAccount)
        .join(CitizenAccount, CitizenAccount.id == CitizenSession.account_id)
        .where(CitizenSession.id == token, CitizenSession.ended_at.is_(None))).first()
    return (found[0], found[1]) if found else None


def live_sessions_of(session: Session, account_id: int,
                     seen_since: datetime) -> list[CitizenSession]:
    """The account's sessions not ended and seen after `seen_since`, latest seen first."""
    return list(session.execute(
        select(CitizenSession).where(CitizenSession.account_id == account_id,
                                     CitizenSession.ended_at.is_(None),
                                     CitizenSession.last_seen_at > seen_since)
        .order_by(CitizenSession.last_seen_at.desc())).scalars())


def end_sessions_of(session: Session, account_id: int, ended_at: datetime) -> list[str]:
    """End the account's open sessions; the ids of those this call ended (RETURNING, so a
    session opened meanwhile is either ended and named, or left alone)."""
    return list(session.execute(update(CitizenSession).where(
        CitizenSession.account_id == account_id, CitizenSession.ended_at.is_(None))
        .values(ended_at=ended_at).returning(CitizenSession.id)).scalars())


def lower_open_sessions(session: Session, account_id: int, level: int, amr: str) -> list[str]:
    """Bring the account's open sessions above `level` down to it; the ids of those lowered."""
    return list(session.execute(update(CitizenSession).where(
        CitizenSession.account_id == account_id, CitizenSession.ended_at.is_(None),
        CitizenSession.level > level).values(level=level, amr=amr)
        .returning(CitizenSession.id)).scalars())


# --- passkeys ---------------------------------------------------------------------------------

def passkeys_of(session: Session, account_id: int) -> list[CitizenPasskey]:
    """Oldest first."""
    return list(session.execute(select(CitizenPasskey).where(
        CitizenPasskey.account_id == account_id).order_by(CitizenPasskey.created_at)).scalars())


def passkey_registered(session: Session, credential_id: bytes) -> bool:
    """Whether any account holds this credential."""
    return session.execute(select(CitizenPasskey.id).where(
        CitizenPasskey.credential_id == credential_id)).first() is not None


def passkey_of(session: Session, account_id: int, credential_id: bytes) -> CitizenPasskey | None:
    return session.execute(select(CitizenPasskey).where(
        CitizenPasskey.account_id == account_id,
        CitizenPasskey.credential_id == credential_id)).scalar_one_or_none()


# --- officials' accounts ----------------------------------------------------------------------

def official_by_username(session: Session, username: str) -> OfficialAccount | None:
    return session.execute(select(OfficialAccount).where(
        OfficialAccount.username == username)).scalar_one_or_none()


def official_by_id(session: Session, official_id: int) -> OfficialAccount | None:
    return session.get(OfficialAccount, official_id)


def locked_official(session: Session, official_id: int) -> OfficialAccount | None:
    """The official's row, locked until the transaction ends."""
    return session.get(OfficialAccount, official_id, with_for_update=True)


def all_officials(session: Session) -> list[OfficialAccount]:
    """Every official, ordered by username."""
    return list(session.execute(
        select(OfficialAccount).order_by(OfficialAccount.username)).scalars())


def purge_expired(factory: sessionmaker[Session], before: datetime) -> int:
    """Delete phone challenges (registration and reset codes) expired before `before`, and
    sessions ended or idle since then, in batches."""
    return (delete_in_batches(factory, PhoneChallenge.id, PhoneChallenge.expires_at < before)
            + delete_in_batches(factory, CitizenSession.id, or_(
                CitizenSession.ended_at < before, CitizenSession.last_seen_at < before)))


def notices_of(session: Session, personal_id_number: str) -> list[CitizenNotice]:
    """The latest notices told to the person, newest first."""
    return list(session.scalars(
        select(CitizenNotice).where(CitizenNotice.personal_id_number == personal_id_number)
        .order_by(CitizenNotice.created_at.desc(), CitizenNotice.id.desc())
        .limit(NOTICES_SHOWN)))
