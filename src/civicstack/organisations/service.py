"""Rules of organisation eID accounts: registration by a level-2 legal representative, an
official's check, the citizens authorised to act for the organisation, and what relying
parties may read.

Services never commit; every change and every read of a person's data is audited in the
caller's transaction. Citizens are reached through identity.service, wards and names through
registry.service.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.identity.models import AccountStatus, CitizenAccount
from civicstack.kit import audit, events
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from civicstack.kit.i18n import N_
from civicstack.organisations import repository, taxcode
from civicstack.organisations.models import (
    MemberPermission,
    MemberRole,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
)
from civicstack.registry import service as registry

SUBJECT = "organisation"
MIN_REASON_LENGTH = 5
PERSONAL_ID_NUMBER = re.compile(r"[0-9]{12}")
LIMITS = {"name": 300, "english_name": 300, "short_name": 100, "address_line": 300}
# Reasons a citizen reads next to a field or on a page: fixed sentences, so pages translate them.
TOO_LONG = {300: N_("At most 300 characters."), 100: N_("At most 100 characters.")}
REQUIRED = N_("Required.")
ALREADY_REGISTERED = N_("An organisation with this tax code is already registered.")
NOT_MEMBER = N_("You do not represent or act for an organisation with this tax code.")
NOT_ACTIVE = N_("This organisation is not active: nobody can act for it until an official "
                "approves or reinstates it.")
NOT_PERMITTED = {
    MemberPermission.DOCUMENTS_VIEW: N_("Your authorisation does not let you see this "
                                        "organisation's documents; ask its legal "
                                        "representative."),
    MemberPermission.SERVICES_FILE: N_("Your authorisation does not let you file public "
                                       "services for this organisation; ask its legal "
                                       "representative."),
}


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class AuthorisationEnded:
    """Someone stopped acting for the organisation: one member (`member_id`: authorisation
    withdrawn, representative replaced, registration reopened) or every member at once
    (None: the organisation suspended). The wallet revokes the authorisation credentials it
    issued for them."""

    tax_code: str
    member_id: int | None
    reason: str


class NeedsStepUp(Forbidden):
    """The account is level 2 but this sign-in is not yet: confirm with the authenticator."""


@dataclass(frozen=True)
class OrganisationDetails:
    """What the representative types; checked and cleaned by `register`."""

    tax_code: str
    name: str
    head_office_ward_code: str
    address_line: str
    english_name: str = ""
    short_name: str = ""


# --- who may act -------------------------------------------------------------------------

def _level_two_citizen(session: Session, signed: identity.SignedIn) -> tuple[CitizenAccount,
                                                                             Actor]:
    """The signed-in citizen, if their account is active and level 2 and this sign-in proved
    level 2: acting for a business binds it, so a password alone is not enough."""
    account = identity.active_account(session, signed.account.id)  # re-read: may be locked now
    if account is None:
        raise Forbidden(N_("Your eID account is not active."))
    if account.level != 2:
        raise Forbidden(N_("Acting for an organisation needs a level-2 eID account. To activate "
                           "level 2, go to a police office with your chip-based ID card."))
    if signed.level < 2:
        raise NeedsStepUp(N_("Confirm this sign-in with your authenticator app first."))
    return account, Actor("citizen", account.personal_id_number)


def check_may_act(session: Session, signed: identity.SignedIn) -> None:
    """Refuse (403; NeedsStepUp when only the sign-in falls short) unless this citizen may
    register or manage an organisation now."""
    _level_two_citizen(session, signed)


def _reason(reason: str) -> str:
    cleaned = " ".join(reason.split())
    if len(cleaned) < MIN_REASON_LENGTH:
        raise Invalid("reason", "give the reason for this decision (at least 5 characters)")
    return cleaned[:500]


# --- registration ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Checked:
    tax_code: str
    province_code: str
    parent: Organisation | None


def _check_details(session: Session, details: OrganisationDetails) -> _Checked:
    """Every field's error at once, so the form shows them all next to their fields."""
    errors: list[FieldError] = []
    tax_code, parent = "", None
    try:
        tax_code = taxcode.normalise(details.tax_code)
    except taxcode.InvalidTaxCode as exc:
        errors.append(FieldError("tax_code", str(exc)))
    parent_code = taxcode.parent_of(tax_code) if tax_code else None
    if parent_code:
        parent = repository.by_tax_code(session, parent_code)
        if parent is None or parent.status != OrganisationStatus.ACTIVE.value:
            errors.append(FieldError("tax_code", N_("A branch needs its parent organisation "
                                                    "(the first 10 digits) registered and "
                                                    "active first.")))
    for field_name, value in (("name", details.name), ("address_line", details.address_line)):
        if not value.strip():
            errors.append(FieldError(field_name, REQUIRED))
    for field_name, limit in LIMITS.items():
        if len(getattr(details, field_name).strip()) > limit:
            errors.append(FieldError(field_name, TOO_LONG[limit]))
    place = registry.ward(session, details.head_office_ward_code.strip())
    if place is None:
        errors.append(FieldError("head_office_ward_code",
                                 N_("Unknown ward code: use the 5-digit code of a ward or "
                                    "commune in force since 1 July 2025.")))
    if errors:
        raise Invalid.of_fields(errors)
    assert place is not None
    return _Checked(tax_code, place.province_code, parent)


def register(session: Session, signed: identity.SignedIn,
             details: OrganisationDetails) -> Organisation:
    """The representative registers the organisation; it waits, pending, for an official.
    A tax code refused before may be registered again: the same record is reopened."""
    account, actor = _level_two_citizen(session, signed)
    checked = _check_details(session, details)
    organisation = repository.by_tax_code(session, checked.tax_code, lock=True)
    reopened = organisation is not None
    if organisation is not None and organisation.status != OrganisationStatus.REJECTED.value:
        raise Conflict(ALREADY_REGISTERED)
    if organisation is None:
        organisation = Organisation(tax_code=checked.tax_code, created_at=now())
    organisation.parent_id = checked.parent.id if checked.parent else None
    organisation.name = " ".join(details.name.split())
    organisation.english_name = " ".join(details.english_name.split())
    organisation.short_name = " ".join(details.short_name.split())
    organisation.head_office_ward_code = details.head_office_ward_code.strip()
    organisation.head_office_province_code = checked.province_code
    organisation.address_line = " ".join(details.address_line.split())
    organisation.representative_account_id = account.id
    organisation.status = OrganisationStatus.PENDING.value
    organisation.status_reason = ""
    _insert(session, organisation)
    for previous in repository.live_members(session, organisation.id):
        # whoever held a refused registration holds nothing now
        _revoke(session, organisation, previous, actor, "registration reopened")
    _grant(session, organisation, account, MemberRole.REPRESENTATIVE, actor)
    _record(session, actor, "organisation.register", organisation, "organisation registration",
            {"name": organisation.name, "ward_code": organisation.head_office_ward_code,
             "parent": checked.parent.tax_code if checked.parent else None,
             "reopened": reopened})
    return organisation


def _insert(session: Session, organisation: Organisation) -> None:
    session.add(organisation)
    try:
        with session.begin_nested():  # a concurrent registration of the same code
            session.flush()
    except IntegrityError as exc:
        raise Conflict(ALREADY_REGISTERED) from exc


def _grant(session: Session, organisation: Organisation, account: CitizenAccount,
           role: MemberRole, actor: Actor) -> OrganisationMember:
    member = OrganisationMember(organisation_id=organisation.id, account_id=account.id,
                                role=role.value, granted_by=str(actor)[:200], granted_at=now())
    session.add(member)
    session.flush()
    return member


def _revoke(session: Session, organisation: Organisation, member: OrganisationMember,
            actor: Actor, reason: str) -> None:
    member.revoked_at = now()
    member.revoked_by = str(actor)[:200]
    events.announce(session, AuthorisationEnded(organisation.tax_code, member.id, reason))


def _record(session: Session, actor: Actor, action: str, organisation: Organisation,
            purpose: str, detail: dict[str, object] | None = None) -> None:
    audit.record(session, actor, action, subject_type=SUBJECT, subject_id=organisation.tax_code,
                 purpose=purpose, detail=detail or {})


# --- the representative's members --------------------------------------------------------

def _organisation(session: Session, tax_code: str, *, lock: bool = False) -> Organisation:
    try:
        code = taxcode.normalise(tax_code)
    except taxcode.InvalidTaxCode:
        raise NotFound(f"no organisation with tax code {tax_code}") from None
    organisation = repository.by_tax_code(session, code, lock=lock)
    if organisation is None:
        raise NotFound(f"no organisation with tax code {code}")
    return organisation


def _membership(session: Session, account: CitizenAccount, tax_code: str, *,
                lock: bool = False) -> tuple[Organisation, OrganisationMember]:
    """The organisation and the citizen's live role in it; one 404 whether the organisation
    does not exist or the citizen has no part in it."""
    try:
        organisation = _organisation(session, tax_code, lock=lock)
    except NotFound:
        raise NotFound(NOT_MEMBER) from None
    membership = repository.live_membership(session, organisation.id, account.id)
    if membership is None:
        raise NotFound(NOT_MEMBER)
    return organisation, membership


def _represented(session: Session, signed: identity.SignedIn,
                 tax_code: str) -> tuple[Organisation, Actor]:
    """The active organisation this citizen represents, locked for the change."""
    account, actor = _level_two_citizen(session, signed)
    organisation, membership = _membership(session, account, tax_code, lock=True)
    if membership.role != MemberRole.REPRESENTATIVE.value:
        raise Forbidden(N_("Only the organisation's legal representative may change who acts "
                           "for it."))
    if organisation.status != OrganisationStatus.ACTIVE.value:
        raise Conflict(N_("Members can be changed only while the organisation is active."))
    return organisation, actor


def _chosen_permissions(permissions: Collection[str]) -> str:
    """The permissions ticked, in a fixed order; at least one, each one we know."""
    known = [p.value for p in MemberPermission]
    if not permissions or set(permissions) - set(known):
        raise Invalid("permissions", N_("Choose what this member may do for the "
                                        "organisation."))
    return " ".join(p for p in known if p in permissions)


def add_member(session: Session, signed: identity.SignedIn, tax_code: str,
               personal_id_number: str, permissions: Collection[str]) -> OrganisationMember:
    """Authorise a citizen holding an active eID account to act for the organisation, with
    the permissions the representative chose."""
    organisation, actor = _represented(session, signed, tax_code)
    number = personal_id_number.strip()
    if not PERSONAL_ID_NUMBER.fullmatch(number):
        raise Invalid("personal_id_number", N_("A personal ID number is 12 digits."))
    granted = _chosen_permissions(permissions)
    account = identity.account_for_person(session, number)
    if account is None or account.status != AccountStatus.ACTIVE.value:
        raise Invalid("personal_id_number", N_("This ID number has no active eID account."))
    if repository.live_membership(session, organisation.id, account.id) is not None:
        raise Conflict(N_("This citizen already acts for the organisation."))
    member = _grant(session, organisation, account, MemberRole.AUTHORISED, actor)
    member.permissions = granted
    _record(session, actor, "organisation.member.add", organisation, "organisation members",
            {"member": number, "permissions": granted})
    audit.record(session, actor, "organisation.member.authorised", subject_type="person",
                 subject_id=number, purpose="organisation members",
                 detail={"organisation": organisation.tax_code, "permissions": granted})
    return member


def revoke_member(session: Session, signed: identity.SignedIn, tax_code: str,
                  member_id: int) -> None:
    organisation, actor = _represented(session, signed, tax_code)
    member = repository.member(session, member_id)
    if member is None or member.organisation_id != organisation.id or \
            member.revoked_at is not None:
        raise NotFound(N_("No such member of this organisation."))
    if member.role == MemberRole.REPRESENTATIVE.value:
        raise Conflict(N_("The legal representative is changed only by an official."))
    _revoke(session, organisation, member, actor, "authorisation withdrawn by the legal "
                                                  "representative")
    number = identity.account_by_id(session, member.account_id).personal_id_number
    _record(session, actor, "organisation.member.revoke", organisation, "organisation members",
            {"member": number})
    audit.record(session, actor, "organisation.member.revoked", subject_type="person",
                 subject_id=number, purpose="organisation members",
                 detail={"organisation": organisation.tax_code})


# --- acting for the organisation -----------------------------------------------------------

def permissions_of(member: OrganisationMember) -> frozenset[MemberPermission]:
    """The representative holds every permission; an authorised member those granted."""
    if member.role == MemberRole.REPRESENTATIVE.value:
        return frozenset(MemberPermission)
    return frozenset(MemberPermission(p) for p in member.permissions.split())


@dataclass(frozen=True)
class Acting:
    """A citizen's standing in an active organisation: what other domains check before they
    let the citizen see its documents, file for it or sign in as it."""

    organisation: Organisation
    member_id: int  # the membership: a new authorisation is a new one
    role: str
    permissions: frozenset[MemberPermission]

    @property
    def tax_code(self) -> str:
        return self.organisation.tax_code

    @property
    def permission_names(self) -> list[str]:
        return sorted(p.value for p in self.permissions)


def acting_for(session: Session, account_id: int, tax_code: str,
               permission: MemberPermission | None = None) -> Acting:
    """The citizen's live role in this organisation, which must be active, and must include
    `permission` when one is named. Not a member: 404, as if the organisation did not
    exist; a suspended organisation or a missing permission: 403, saying why."""
    account = identity.active_account(session, account_id)  # re-read: may be locked now
    if account is None:
        raise Forbidden(N_("Your eID account is not active."))
    organisation, membership = _membership(session, account, tax_code)
    if organisation.status != OrganisationStatus.ACTIVE.value:
        raise Forbidden(NOT_ACTIVE)
    acting = Acting(organisation, membership.id, membership.role, permissions_of(membership))
    if permission is not None and permission not in acting.permissions:
        raise Forbidden(NOT_PERMITTED[permission])
    return acting


def organisations_acting(session: Session, account_id: int,
                         permission: MemberPermission | None = None) -> list[Acting]:
    """The active organisations the citizen may act for (with `permission`, when named)."""
    found = [Acting(o, m.id, m.role, permissions_of(m))
             for m, o in repository.memberships_of(session, account_id)
             if o.status == OrganisationStatus.ACTIVE.value]
    return [a for a in found if permission is None or permission in a.permissions]


def require_active(session: Session, tax_code: str) -> Organisation:
    """For an issuing agency: an organisation's document is issued only to one registered
    here and active. Unknown or refused: 422 on the subject; pending or suspended: 409."""
    organisation = repository.by_tax_code(session, tax_code)
    if organisation is None or organisation.status == OrganisationStatus.REJECTED.value:
        raise Invalid("subject", N_("No organisation with this tax code is registered: an "
                                    "organisation's documents are issued only to a "
                                    "registered organisation."))
    if organisation.status != OrganisationStatus.ACTIVE.value:
        raise Conflict(N_("This organisation's registration is not active (waiting for an "
                          "official's check, or suspended): no document can be issued to "
                          "it now."))
    return organisation


# --- the citizen's own view ----------------------------------------------------------------

@dataclass(frozen=True)
class MyOrganisation:
    organisation: Organisation
    role: str


def my_organisations(session: Session, account: CitizenAccount) -> list[MyOrganisation]:
    """Organisations the citizen represents or acts for, whatever their status."""
    return [MyOrganisation(o, m.role) for m, o in
            repository.memberships_of(session, account.id)]


@dataclass(frozen=True)
class MemberView:
    member: OrganisationMember
    personal_id_number: str
    full_name: str


@dataclass(frozen=True)
class OrganisationView:
    organisation: Organisation
    role: str  # the viewer's
    permissions: frozenset[MemberPermission]  # the viewer's
    place: registry.WardPlace | None
    representative_name: str
    parent_tax_code: str | None
    members: list[MemberView]  # only for the representative
    history: list[audit.AuditEntry]  # only for the representative


def organisation_page(session: Session, account: CitizenAccount,
                      tax_code: str) -> OrganisationView:
    """What a member sees; the member list (names are audited reads) and the organisation's
    history only for the representative. Not a member: 404, as if it did not exist."""
    organisation, membership = _membership(session, account, tax_code)
    actor = Actor("citizen", account.personal_id_number)
    representing = membership.role == MemberRole.REPRESENTATIVE.value
    shown = repository.live_members(session, organisation.id) if representing else []
    representative_id = organisation.representative_account_id
    accounts = identity.accounts_by_ids(session, {m.account_id for m in shown} |
                                        {representative_id})
    names = registry.names_of_role_holders(
        session, actor, sorted({a.personal_id_number for a in accounts.values()}),
        "organisation members")
    numbers = {i: a.personal_id_number for i, a in accounts.items()}
    parent = repository.by_id(session, organisation.parent_id) if organisation.parent_id else None
    return OrganisationView(
        organisation, membership.role, permissions_of(membership),
        registry.ward(session, organisation.head_office_ward_code),
        names.get(numbers[representative_id], ""), parent.tax_code if parent else None,
        [MemberView(m, numbers[m.account_id], names.get(numbers[m.account_id], ""))
         for m in shown],
        audit.entries_for_subject(session, SUBJECT, organisation.tax_code, limit=50)
        if representing else [])


# --- officials ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PendingOrganisation:
    organisation: Organisation
    place: registry.WardPlace | None
    representative_pid: str
    representative_name: str


def pending(session: Session, actor: Actor) -> list[PendingOrganisation]:
    """Registrations waiting for a check, with head offices in the official's provinces."""
    actor.require(Permission.ORGANISATION_APPROVE)
    found = repository.pending_in(session, actor.scope)
    accounts = identity.accounts_by_ids(session, {o.representative_account_id for o in found})
    numbers = {i: a.personal_id_number for i, a in accounts.items()}
    names = registry.names_of_role_holders(session, actor, sorted(set(numbers.values())),
                                           "organisation approval queue")
    return [PendingOrganisation(o, registry.ward(session, o.head_office_ward_code),
                                numbers[o.representative_account_id],
                                names.get(numbers[o.representative_account_id], ""))
            for o in found]


# action -> (states it may start from, state it leads to)
DECISIONS: dict[str, tuple[frozenset[OrganisationStatus], OrganisationStatus]] = {
    "approve": (frozenset({OrganisationStatus.PENDING}), OrganisationStatus.ACTIVE),
    "reject": (frozenset({OrganisationStatus.PENDING}), OrganisationStatus.REJECTED),
    "suspend": (frozenset({OrganisationStatus.ACTIVE}), OrganisationStatus.SUSPENDED),
    "reinstate": (frozenset({OrganisationStatus.SUSPENDED}), OrganisationStatus.ACTIVE),
}


def _in_scope(session: Session, actor: Actor, tax_code: str) -> Organisation:
    actor.require(Permission.ORGANISATION_APPROVE)
    organisation = _organisation(session, tax_code, lock=True)
    if not actor.may_see(organisation.head_office_province_code,
                         organisation.head_office_ward_code):
        raise Forbidden("this organisation's head office is outside your scope")
    return organisation


def decide(session: Session, actor: Actor, tax_code: str, action: str,
           reason: str) -> Organisation:
    """An official approves or rejects a registration, or suspends or reinstates an active
    organisation, with a recorded reason; only from the states the table above allows."""
    if action not in DECISIONS:
        raise Invalid("action", f"choose one of {', '.join(DECISIONS)}")
    reason = _reason(reason)
    organisation = _in_scope(session, actor, tax_code)
    sources, target = DECISIONS[action]
    if OrganisationStatus(organisation.status) not in sources:
        raise Conflict(f"cannot {action} an organisation that is {organisation.status}")
    if target == OrganisationStatus.ACTIVE and \
            identity.active_account(session, organisation.representative_account_id) is None:
        raise Conflict("the legal representative's eID account is not active; change the "
                       "representative first")
    organisation.status = target.value
    organisation.status_reason = "" if target == OrganisationStatus.ACTIVE else reason
    if target == OrganisationStatus.ACTIVE and organisation.activated_at is None:
        organisation.activated_at = now()
    _record(session, actor, f"organisation.{action}", organisation, reason,
            {"status": target.value})
    if target == OrganisationStatus.SUSPENDED:
        events.announce(session, AuthorisationEnded(organisation.tax_code, None,
                                                    f"organisation suspended: {reason}"))
    return organisation


def change_representative(session: Session, actor: Actor, tax_code: str,
                          personal_id_number: str, reason: str) -> Organisation:
    """An official records a new legal representative (after a change in the business
    registration). They must hold an active level-2 eID account; the previous one loses every
    right at once."""
    reason = _reason(reason)
    organisation = _in_scope(session, actor, tax_code)
    if organisation.status == OrganisationStatus.REJECTED.value:
        raise Conflict("this registration was rejected; it can be registered again instead")
    account = identity.account_for_person(session, personal_id_number.strip())
    if account is None or account.status != AccountStatus.ACTIVE.value or account.level != 2:
        raise Invalid("personal_id_number",
                      "the new representative needs an active level-2 eID account")
    if account.id == organisation.representative_account_id:
        raise Conflict("this citizen is already the legal representative")
    previous = identity.account_by_id(session, organisation.representative_account_id)
    for member in repository.live_members(session, organisation.id):
        if member.role == MemberRole.REPRESENTATIVE.value or member.account_id == account.id:
            _revoke(session, organisation, member, actor, "legal representative changed")
    session.flush()  # the partial unique indexes see the revocations before the new row
    _grant(session, organisation, account, MemberRole.REPRESENTATIVE, actor)
    organisation.representative_account_id = account.id
    organisation.succession_needed_since = None
    _record(session, actor, "organisation.representative.change", organisation, reason,
            {"from": previous.personal_id_number, "to": account.personal_id_number})
    for number, action in ((previous.personal_id_number, "organisation.representative.end"),
                           (account.personal_id_number, "organisation.representative.start")):
        audit.record(session, actor, action, subject_type="person", subject_id=number,
                     purpose=reason, detail={"organisation": organisation.tax_code})
    return organisation


def flag_succession(session: Session, closed: identity.AccountClosed) -> int:
    """The representative's eID account closed: each organisation they represent is flagged
    for an official to record the successor, and their own right to act ends with the account
    (subscribed to `identity.AccountClosed`; a replay finds the flag already set)."""
    flagged = [o for o in repository.representing(session, closed.account_id)
               if o.succession_needed_since is None]
    for organisation in flagged:
        organisation.succession_needed_since = now()
        _record(session, Actor("system", "life-events"), "organisation.succession.flag",
                organisation, f"legal representative's eID account closed "
                              f"({closed.reason.value})",
                {"representative": closed.personal_id_number})
    return len(flagged)


def awaiting_succession(session: Session, actor: Actor) -> list[Organisation]:
    """Organisations in the official's provinces whose representative must be replaced."""
    actor.require(Permission.ORGANISATION_APPROVE)
    return repository.awaiting_succession_in(session, actor.scope)


# --- relying parties and agencies --------------------------------------------------------

@dataclass(frozen=True)
class PublicMember:
    """Who acts for the organisation and what they may do, as a relying party reads it."""

    full_name: str
    role: str
    permissions: list[str]
    since: datetime


@dataclass(frozen=True)
class PublicRecord:
    organisation: Organisation
    place: registry.WardPlace | None
    representative_name: str
    parent_tax_code: str | None
    members: list[PublicMember]  # the representative first


def _readable(session: Session, actor: Actor, tax_code: str) -> Organisation:
    """An organisation a key holding organisation:read may know: no refused registration,
    head office within the key's scope."""
    actor.require(Permission.ORGANISATION_READ)
    try:
        code = taxcode.normalise(tax_code)
    except taxcode.InvalidTaxCode as exc:
        raise Invalid("tax_code", str(exc)) from None
    organisation = repository.by_tax_code(session, code)
    if organisation is None or organisation.status == OrganisationStatus.REJECTED.value:
        raise NotFound(f"no organisation with tax code {code}")
    if not actor.may_see(organisation.head_office_province_code,
                         organisation.head_office_ward_code):
        raise Forbidden("this organisation's head office is outside your scope")
    return organisation


def public_record(session: Session, actor: Actor, tax_code: str, purpose: str) -> PublicRecord:
    """What an agency or relying party may know of an organisation: its facts, and who acts
    for it with which role and permissions (names as an audited read of each person's data,
    never their ID numbers), so a bank can check a member's authority."""
    purpose = registry.require_purpose(purpose)
    organisation = _readable(session, actor, tax_code)
    _record(session, actor, "organisation.read", organisation, purpose)
    live = repository.live_members(session, organisation.id)
    accounts = identity.accounts_by_ids(session, {m.account_id for m in live} |
                                        {organisation.representative_account_id})
    numbers = {i: a.personal_id_number for i, a in accounts.items()}
    names = registry.names_of_role_holders(session, actor, sorted(set(numbers.values())),
                                           purpose)
    parent = repository.by_id(session, organisation.parent_id) if organisation.parent_id else None
    return PublicRecord(
        organisation, registry.ward(session, organisation.head_office_ward_code),
        names.get(numbers[organisation.representative_account_id], ""),
        parent.tax_code if parent else None,
        [PublicMember(names.get(numbers[m.account_id], ""), m.role,
                      sorted(p.value for p in permissions_of(m)), m.granted_at) for m in live])


def member_authority(session: Session, actor: Actor, tax_code: str, personal_id_number: str,
                     purpose: str) -> PublicMember:
    """Whether the citizen the relying party already knows (by ID number, e.g. from their
    own sign-in) acts for the organisation, and how: 404 when they do not. An answer is
    audited on the organisation and, through the name read, on the person."""
    purpose = registry.require_purpose(purpose)
    organisation = _readable(session, actor, tax_code)
    number = personal_id_number.strip()
    account = identity.account_for_person(session, number) \
        if PERSONAL_ID_NUMBER.fullmatch(number) else None
    found = repository.live_membership(session, organisation.id, account.id) \
        if account is not None else None
    if found is None:
        raise NotFound("this citizen does not act for the organisation")
    _record(session, actor, "organisation.member.check", organisation, purpose,
            {"member": number})
    names = registry.names_of_role_holders(session, actor, [number], purpose)
    return PublicMember(names.get(number, ""), found.role,
                        sorted(p.value for p in permissions_of(found)), found.granted_at)
