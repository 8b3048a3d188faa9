"""Finding citizens' eID accounts, for identity's rules and other domains; and the clock that
identity's rules read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from civicstack.identity import repository
from civicstack.identity.models import AccountStatus, CitizenAccount
from civicstack.kit.db import as_utc
from civicstack.kit.errors import NotFound


def now() -> datetime:
    return datetime.now(UTC)


def existing_account(session: Session, personal_id_number: str) -> CitizenAccount:
    account = repository.account_by_number(session, personal_id_number)
    if account is None:
        raise NotFound("no eID account for this ID number")
    return account


def account_by_id(session: Session, account_id: int) -> CitizenAccount:
    """For modules that keep only the account's id, such as relying parties' tokens."""
    account = repository.account_by_id(session, account_id)
    if account is None:
        raise NotFound("no such eID account")
    return account


def active_account(session: Session, account_id: int) -> CitizenAccount | None:
    """The account while it may be used; None once locked (or if it never was approved)."""
    account = repository.account_by_id(session, account_id)
    return account if account is not None and \
        account.status == AccountStatus.ACTIVE.value else None


def account_for_person(session: Session, personal_id_number: str) -> CitizenAccount | None:
    """The eID account of an ID number, whatever its state, for other domains' rules."""
    return repository.account_by_number(session, personal_id_number)


def accounts_by_ids(session: Session, account_ids: set[int]) -> dict[int, CitizenAccount]:
    """Account id -> account, for modules that keep only ids (one query for a list)."""
    if not account_ids:
        return {}
    return {a.id: a for a in repository.accounts_by_ids(session, account_ids)}


@dataclass(frozen=True)
class AccountActivity:
    personal_id_number: str
    phone: str
    last_active_at: datetime  # the last sign-in, else when the account was made


def active_accounts_activity(session: Session) -> list[AccountActivity]:
    """Every active account with its phone and last sign-in, for support's clean-up scan."""
    return [AccountActivity(pid, phone, as_utc(last or created))
            for pid, phone, created, last in repository.active_accounts_with_last_sign_in(session)]
