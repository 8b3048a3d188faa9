"""What officials decide about citizens' accounts (approval, lock, unlock, level-2
activation, the face photo), and the citizen's own view (self-lock, audit trail)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from civicstack.identity import photos, repository
from civicstack.identity.accounts import existing_account, now
from civicstack.identity.face_holds import FaceHolds
from civicstack.identity.models import AccountStatus, CitizenAccount, CitizenNotice
from civicstack.identity.sessions import LOCKED, end_all_sessions, lower_all_sessions
from civicstack.kit import audit, outbox
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Conflict, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.tlog import log as tlog
from civicstack.kit.transparency import LogPublishing
from civicstack.registry import service as registry


def pending_approval(session: Session, actor: Actor) -> list[tuple[CitizenAccount, str]]:
    """Accounts whose phone is proven, with the holder's name, within the official's scope."""
    actor.require(Permission.IDENTITY_APPROVE)
    accounts = repository.accounts_awaiting_approval(session)
    names = registry.names_in_scope(session, actor, [a.personal_id_number for a in accounts],
                                    "eID account approval queue")
    return [(a, names[a.personal_id_number]) for a in accounts if a.personal_id_number in names]


def approve(session: Session, actor: Actor, holds: FaceHolds, personal_id_number: str,
            reason: str) -> None:
    """An official confirms the applicant when no ID-card face could settle it (biometrics);
    never while the applicant's face is held as a look-alike of another person's: the account
    would open on a face that may be someone else's."""
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, reason)  # audited, scope-checked
    if holds(session, [personal_id_number]):
        raise Conflict("this applicant's face is held as a look-alike of another person's: "
                       "approve only after the look-alike case is decided (Face biometrics)")
    _activate(session, actor, personal_id_number, reason, {})


def approve_by_face(session: Session, personal_id_number: str, matcher: Actor,
                    distance: float) -> None:
    """The rule of level 1: the account is approved when its selfie matches the ID-card face."""
    _activate(session, matcher, personal_id_number, "eID registration: face match",
              {"method": "face", "distance": distance})


@dataclass(frozen=True)
class Notice:
    """What a person is told: `sms`, the text sent to their phone (ASCII Vietnamese: every
    phone shows it), and `message`, the portal's sentence (an English template marked for
    translation, with `%(name)s` values), shown in the reader's language."""

    sms: str
    message: str
    values: dict[str, str] = field(default_factory=dict)

    def filled(self, **values: str) -> Notice:
        """The notice with its values: `{name}` in the SMS, `%(name)s` in the message."""
        return Notice(self.sms.format(**values), self.message, values)


APPROVED_NOTICE = Notice(
    "Tai khoan dinh danh dien tu cua ban da duoc phe duyet; ban co the dang nhap. Your eID "
    "account is approved; you can sign in.",
    N_("Your eID account is approved; you can sign in."))


def _activate(session: Session, actor: Actor, personal_id_number: str, purpose: str,
              detail: dict[str, object]) -> None:
    """The account opens, and its holder is told: the approval may come minutes after they
    left the page that said it was waiting."""
    account = _waiting_account(session, personal_id_number)
    if account is None:
        raise Conflict("this account is not waiting for approval")
    account.status = AccountStatus.ACTIVE.value
    tell(session, personal_id_number, account.phone, APPROVED_NOTICE)
    audit.record(session, actor, "identity.account.approve", subject_type="person",
                 subject_id=personal_id_number, purpose=purpose,
                 detail={"level": account.level, **detail})


def _waiting_account(session: Session, personal_id_number: str) -> CitizenAccount | None:
    account = repository.account_by_number(session, personal_id_number)
    waiting = account is not None and account.status == AccountStatus.PENDING_APPROVAL.value
    return account if waiting else None


def awaits_approval(session: Session, personal_id_number: str) -> bool:
    return _waiting_account(session, personal_id_number) is not None


def is_active(session: Session, personal_id_number: str) -> bool:
    account = repository.account_by_number(session, personal_id_number)
    return account is not None and account.status == AccountStatus.ACTIVE.value


def tell(session: Session, personal_id_number: str, phone: str | None, notice: Notice) -> None:
    """Tell the person something: kept for their portal's notifications and sent by SMS when a
    phone is known."""
    session.add(CitizenNotice(personal_id_number=personal_id_number, body=notice.sms,
                              message=notice.message, message_values=notice.values,
                              created_at=now()))
    if phone:
        outbox.enqueue(session, "sms", phone, "CivicStack", notice.sms)


def my_notifications(session: Session, account: CitizenAccount) -> list[CitizenNotice]:
    """What the account's holder was told (dossier steps, the approval), newest first."""
    return repository.notices_of(session, account.personal_id_number)


def registration_selfie(session: Session, vault: photos.PhotoVault, personal_id_number: str,
                        matcher: Actor) -> bytes | None:
    """The selfie of an account still waiting for approval, opened for the face matcher (an
    audited read); None once the account is no longer waiting."""
    account = _waiting_account(session, personal_id_number)
    photo = repository.face_photo_of(session, account.id) if account is not None else None
    if account is None or photo is None:
        return None
    audit.record(session, matcher, "identity.face_photo.read", subject_type="person",
                 subject_id=personal_id_number, purpose="eID registration: face match")
    return vault.open(account.id, photo.sealed)


def lock_myself(session: Session, personal_id_number: str) -> None:
    """A citizen who lost their phone stops all use of the account at once; only an official,
    seeing them in person, unlocks it."""
    account = _lockable_account(session, personal_id_number)
    account.status = AccountStatus.LOCKED.value
    end_all_sessions(session, account, LOCKED)
    audit.record(session, Actor("citizen", personal_id_number), "identity.account.self_lock",
                 subject_type="person", subject_id=personal_id_number, purpose="account security")


def lock(session: Session, actor: Actor, personal_id_number: str, reason: str) -> None:
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, reason)  # audited, scope-checked
    account = _lockable_account(session, personal_id_number)
    account.status = AccountStatus.LOCKED.value
    end_all_sessions(session, account, LOCKED)
    audit.record(session, actor, "identity.account.lock", subject_type="person",
                 subject_id=personal_id_number, purpose=reason)


def _lockable_account(session: Session, personal_id_number: str) -> CitizenAccount:
    """A closed account stays closed: locking it would let an unlock open it again."""
    account = existing_account(session, personal_id_number)
    if account.status == AccountStatus.CLOSED.value:
        raise Conflict("this account is closed")
    return account


def unlock(session: Session, actor: Actor, personal_id_number: str, reason: str) -> None:
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, reason)
    account = existing_account(session, personal_id_number)
    if account.status != AccountStatus.LOCKED.value:
        raise Conflict("this account is not locked")
    account.status = AccountStatus.ACTIVE.value
    account.failed_logins = 0
    account.locked_until = None
    audit.record(session, actor, "identity.account.unlock", subject_type="person",
                 subject_id=personal_id_number, purpose=reason)


def authorise_level_two(session: Session, actor: Actor, personal_id_number: str,
                        reason: str) -> None:
    """A police official, having seen the citizen in person, lets the account enrol an
    authenticator. Doing it again for a level-2 account replaces a lost authenticator: the
    old secret stops working and every session falls back to level 1."""
    actor.require(Permission.IDENTITY_LEVEL2)
    registry.get_person(session, actor, personal_id_number, reason)  # audited, scope-checked
    account = existing_account(session, personal_id_number)
    if account.status != AccountStatus.ACTIVE.value:
        raise Conflict("only an active eID account can be raised to level 2")
    replaced = account.level == 2  # not a secret still waiting for its first code
    account.level2_authorised_at = now()
    account.level2_authorised_by = str(actor)[:100]
    account.level = 1
    account.totp_secret = None
    account.totp_last_step = None
    if replaced:
        lower_all_sessions(session, account)
    audit.record(session, actor, "identity.level2.authorise", subject_type="person",
                 subject_id=personal_id_number, purpose=reason,
                 detail={"replaces_authenticator": replaced})


def face_photo(session: Session, actor: Actor, vault: photos.PhotoVault,
               personal_id_number: str, purpose: str) -> tuple[bytes, str]:
    """The registration photo, opened for an official comparing it with the person's record
    (scope-checked and audited like any read of the person); (image bytes, content type)."""
    actor.require(Permission.IDENTITY_APPROVE)
    registry.get_person(session, actor, personal_id_number, purpose)
    account = existing_account(session, personal_id_number)
    photo = repository.face_photo_of(session, account.id)
    if photo is None:
        raise NotFound("this account has no face photo")
    audit.record(session, actor, "identity.face_photo.read", subject_type="person",
                 subject_id=personal_id_number, purpose=purpose)
    return vault.open(account.id, photo.sealed), photo.content_type


TRAIL_PAGE_SIZE = 50
# Being one row of an official's search result says little and comes often: hidden unless asked.
SEARCH_LISTINGS = ("registry.person.listed",)


@dataclass(frozen=True)
class TrailPage:
    entries: list[audit.AuditEntry]
    page: int  # from 1
    has_next: bool
    with_listings: bool  # whether "listed in a search result" entries are shown


def my_audit_trail(session: Session, personal_id_number: str, page: int = 1,
                   with_listings: bool = False) -> TrailPage:
    """Everything recorded about this person, a page at a time, newest first: who read their
    data and why, and every security event of their account. Shown to the citizen themself."""
    page = max(page, 1)
    found = audit.entries_for_subject(
        session, "person", personal_id_number, limit=TRAIL_PAGE_SIZE + 1,
        offset=(page - 1) * TRAIL_PAGE_SIZE,
        without_actions=() if with_listings else SEARCH_LISTINGS)
    return TrailPage(found[:TRAIL_PAGE_SIZE], page, len(found) > TRAIL_PAGE_SIZE, with_listings)


def proof_of_my_data_use(session: Session, publishing: LogPublishing, personal_id_number: str,
                         seq: int) -> str:
    """The inclusion proof (C2SP tlog-proof@v1) of one entry of this person's own trail, for
    them to keep or to check with the published key; someone else's entry reads as missing."""
    entry = audit.entry(session, seq)
    if entry is None or (entry.subject_type, entry.subject_id) != ("person", personal_id_number):
        raise NotFound("no such use of your data")
    try:
        return tlog.prove(session, audit.AUDIT_LOG, seq, publishing.witness,
                          publishing.verifier).text()
    except tlog.NotSealed as exc:
        raise NotFound("this use is not in a signed checkpoint yet: try again in a minute") \
            from exc
