"""Who may do what, and to whom: the officials' roles, their permissions, and their scope.

One model for the console (official accounts) and the JSON API (operator keys): an official
holds one role, which grants a fixed set of permissions (ROLE_PERMISSIONS, the only such table;
docs/officials.md shows it), and one scope, which bounds whose data they reach. Every check of
either goes through `require` and `Scope.covers` (called through audit.Actor).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from sqlalchemy import CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.errors import Forbidden
from civicstack.kit.i18n import N_, Message


class Role(enum.StrEnum):
    POLICE = "police"
    SERVICE_CLERK = "service_clerk"
    AGENCY_APPROVER = "agency_approver"
    SUPPORT_AGENT = "support_agent"  # the hotline and the support queue
    PROGRAMME_OFFICER = "programme_officer"  # runs programmes' tasks and learning courses
    TRAVEL_OFFICER = "travel_officer"  # an airport's staffed lanes: bag drops, manual checks
    ADMIN = "admin"


class Permission(enum.StrEnum):
    REGISTRY_READ = "registry:read"
    # Births, deaths, marriages, divorces, and adding a person who already holds an ID number.
    REGISTRY_CIVIL_STATUS = "registry:write:civil-status"
    REGISTRY_RESIDENCE = "registry:write:residence"  # residence registration: the police's
    REGISTRY_ID_CARDS = "registry:write:id-cards"  # a card lost or revoked: the police's
    IDENTITY_APPROVE = "identity:approve"  # approve, lock and unlock eID accounts
    IDENTITY_LEVEL2 = "identity:level2"  # activate eID level 2 after an in-person check
    ORGANISATION_APPROVE = "organisation:approve"  # approve, suspend; change representative
    ORGANISATION_READ = "organisation:read"  # the API's organisation look-up
    OIDC_CLIENTS = "oidc:clients"  # register and disable relying parties (single sign-on)
    WALLET_STATUS = "wallet:status"  # revoke, suspend, reinstate wallet documents
    WALLET_VERIFY = "wallet:verify"  # check a citizen's wallet presentation at a counter
    WALLET_ISSUE = "wallet:issue"  # an issuing agency's system pushing documents
    DOSSIER_PROCESS = "dossier:process"  # receive, assign, ask for supplements; assisted channel
    DOSSIER_DECIDE = "dossier:decide"  # approve or refuse, for the competent agency's procedures
    CATALOGUE_MANAGE = "catalogue:manage"  # the procedure catalogue and its provinces
    BIOMETRICS_ENROL = "biometrics:enrol"  # enrol a face from the ID-card photo
    BIOMETRICS_REVIEW = "biometrics:review"  # decide de-duplication cases
    BIOMETRICS_VERIFY = "biometrics:verify"  # 1:1 face verification against an enrolment
    EXCHANGE_MANAGE = "exchange:manage"  # data-exchange members and sharing agreements
    TASKS_REPORT = "tasks:report"  # post progress on the tasks one is responsible for
    TASKS_MANAGE = "tasks:manage"  # programmes and tasks: assign, import, accept, remind
    LEARNING_MANAGE = "learning:manage"  # courses, lessons, quizzes, enrolment of cohorts
    SUPPORT_HANDLE = "support:handle"  # open tickets for callers, answer, route, escalate
    SECURITY_READ = "security:read"  # the operators' view of security events
    AUDIT_READ = "audit:read"
    OFFICIALS_MANAGE = "officials:manage"
    TRAVEL_OPERATE = "travel:operate"  # record bag drops and manual checks at airports' lanes


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.POLICE: frozenset({
        Permission.REGISTRY_READ, Permission.REGISTRY_RESIDENCE, Permission.REGISTRY_ID_CARDS,
        Permission.IDENTITY_APPROVE, Permission.IDENTITY_LEVEL2, Permission.ORGANISATION_APPROVE,
        Permission.WALLET_STATUS, Permission.WALLET_VERIFY, Permission.DOSSIER_PROCESS,
        Permission.DOSSIER_DECIDE, Permission.BIOMETRICS_ENROL, Permission.BIOMETRICS_REVIEW,
        Permission.BIOMETRICS_VERIFY, Permission.TASKS_REPORT}),
    Role.SERVICE_CLERK: frozenset({
        Permission.REGISTRY_READ, Permission.REGISTRY_CIVIL_STATUS,
        Permission.IDENTITY_APPROVE, Permission.WALLET_VERIFY, Permission.DOSSIER_PROCESS,
        Permission.TASKS_REPORT}),
    Role.AGENCY_APPROVER: frozenset({
        Permission.REGISTRY_READ, Permission.ORGANISATION_READ, Permission.WALLET_STATUS,
        Permission.WALLET_VERIFY, Permission.WALLET_ISSUE, Permission.DOSSIER_PROCESS,
        Permission.DOSSIER_DECIDE, Permission.TASKS_REPORT}),
    Role.SUPPORT_AGENT: frozenset({
        Permission.REGISTRY_READ, Permission.SUPPORT_HANDLE, Permission.TASKS_REPORT}),
    Role.PROGRAMME_OFFICER: frozenset({
        Permission.TASKS_REPORT, Permission.TASKS_MANAGE, Permission.LEARNING_MANAGE}),
    Role.TRAVEL_OFFICER: frozenset({Permission.TRAVEL_OPERATE, Permission.TASKS_REPORT}),
    Role.ADMIN: frozenset(Permission),
}


# What a person reads for a role or a permission (translated where shown), never its code.
ROLE_LABELS: dict[Role, str] = {
    Role.POLICE: N_("Police"), Role.SERVICE_CLERK: N_("Service-centre clerk"),
    Role.AGENCY_APPROVER: N_("Agency approver"), Role.SUPPORT_AGENT: N_("Support agent"),
    Role.PROGRAMME_OFFICER: N_("Programme officer"), Role.TRAVEL_OFFICER: N_("Travel officer"),
    Role.ADMIN: N_("Administrator"),
}
PERMISSION_LABELS: dict[Permission, str] = {
    Permission.REGISTRY_READ: N_("read the population register"),
    Permission.REGISTRY_CIVIL_STATUS: N_("record births, deaths, marriages and divorces"),
    Permission.REGISTRY_RESIDENCE: N_("register residence"),
    Permission.IDENTITY_APPROVE: N_("approve, lock and unlock eID accounts"),
    Permission.IDENTITY_LEVEL2: N_("activate eID level 2"),
    Permission.ORGANISATION_APPROVE: N_("approve and suspend organisations"),
    Permission.ORGANISATION_READ: N_("look up organisations"),
    Permission.OIDC_CLIENTS: N_("manage relying parties"),
    Permission.WALLET_STATUS: N_("revoke, suspend and reinstate wallet documents"),
    Permission.WALLET_VERIFY: N_("check wallet documents"),
    Permission.WALLET_ISSUE: N_("issue wallet documents"),
    Permission.DOSSIER_PROCESS: N_("process dossiers"),
    Permission.DOSSIER_DECIDE: N_("approve or refuse dossiers"),
    Permission.CATALOGUE_MANAGE: N_("manage the procedure catalogue"),
    Permission.BIOMETRICS_ENROL: N_("enrol faces"),
    Permission.BIOMETRICS_REVIEW: N_("decide look-alike faces"),
    Permission.BIOMETRICS_VERIFY: N_("verify faces"),
    Permission.EXCHANGE_MANAGE: N_("manage the data exchange"),
    Permission.TASKS_REPORT: N_("report on tasks"),
    Permission.TASKS_MANAGE: N_("manage programmes and tasks"),
    Permission.LEARNING_MANAGE: N_("manage courses"),
    Permission.SUPPORT_HANDLE: N_("handle support requests"),
    Permission.SECURITY_READ: N_("read security events"),
    Permission.AUDIT_READ: N_("read the audit log"),
    Permission.OFFICIALS_MANAGE: N_("manage officials"),
    Permission.TRAVEL_OPERATE: N_("record bag drops and manual checks at airports"),
}


def allows(role: Role | None, permission: Permission) -> bool:
    """No role (a citizen, a relying party) holds no official permission."""
    return role is not None and permission in ROLE_PERMISSIONS[role]


def require(role: Role | None, permission: Permission) -> None:
    if not allows(role, permission):
        action = Message(PERMISSION_LABELS[permission])
        if role is None:
            raise Forbidden(N_("this caller may not %(action)s"), action=action)
        raise Forbidden(N_("the %(role)s role may not %(action)s"),
                        role=Message(ROLE_LABELS[role]), action=action)


class ScopeLevel(enum.StrEnum):
    NATIONAL = "national"
    PROVINCE = "province"
    WARD = "ward"


@dataclass(frozen=True)
class Scope:
    """Where an official works. A ward scope keeps its province too, so that "is this ward
    scope inside that province scope" needs no lookup."""

    level: ScopeLevel = ScopeLevel.NATIONAL
    province_code: str | None = None
    ward_code: str | None = None

    @classmethod
    def national(cls) -> Scope:
        return cls()

    @classmethod
    def province(cls, province_code: str) -> Scope:
        return cls(ScopeLevel.PROVINCE, province_code)

    @classmethod
    def ward(cls, province_code: str, ward_code: str) -> Scope:
        return cls(ScopeLevel.WARD, province_code, ward_code)

    def covers(self, province_code: str | None, ward_code: str | None = None) -> bool:
        """Whether a person living (permanently) in this province and ward is within scope."""
        if self.level == ScopeLevel.NATIONAL:
            return True
        if self.level == ScopeLevel.PROVINCE:
            return province_code == self.province_code
        return ward_code is not None and ward_code == self.ward_code

    def covers_province(self, province_code: str) -> bool:
        """Whether the whole province is within scope (a ward scope covers none)."""
        return self.level == ScopeLevel.NATIONAL or (
            self.level == ScopeLevel.PROVINCE and province_code == self.province_code)

    def includes(self, other: Scope) -> bool:
        """Whether `other` lies wholly within this scope: an admin grants only such scopes."""
        if other.level == ScopeLevel.NATIONAL:
            return self.level == ScopeLevel.NATIONAL
        if other.level == ScopeLevel.PROVINCE:
            return self.covers_province(str(other.province_code))
        return self.covers(other.province_code, other.ward_code)

    @property
    def code(self) -> str | None:
        return self.ward_code or self.province_code

    def __str__(self) -> str:
        return self.level.value if self.code is None else f"{self.level.value} {self.code}"


NATIONAL = Scope.national()


class HasRoleAndScope:
    """Columns of anything that acts with a role and scope: official accounts, operator keys."""

    role_name: Mapped[str] = mapped_column("role", String(20))
    scope_level: Mapped[str] = mapped_column(String(10))
    scope_province_code: Mapped[str | None] = mapped_column(String(2), nullable=True)
    scope_ward_code: Mapped[str | None] = mapped_column(String(5), nullable=True)

    @property
    def role(self) -> Role:
        return Role(self.role_name)

    @property
    def scope(self) -> Scope:
        return Scope(ScopeLevel(self.scope_level), self.scope_province_code,
                     self.scope_ward_code)

    def set_role_and_scope(self, role: Role, scope: Scope) -> None:
        self.role_name, self.scope_level = role.value, scope.level.value
        self.scope_province_code, self.scope_ward_code = scope.province_code, scope.ward_code


def role_and_scope_checks() -> tuple[CheckConstraint, ...]:
    """The database refuses an unknown role, or a scope whose codes do not fit its level."""
    roles = ", ".join(f"'{role.value}'" for role in Role)
    return (
        CheckConstraint(f"role IN ({roles})", name="role_known"),
        CheckConstraint(
            "(scope_level = 'national' AND scope_province_code IS NULL AND scope_ward_code IS NULL)"
            " OR (scope_level = 'province' AND scope_province_code IS NOT NULL"
            " AND scope_ward_code IS NULL)"
            " OR (scope_level = 'ward' AND scope_province_code IS NOT NULL"
            " AND scope_ward_code IS NOT NULL)", name="scope_consistent"),
    )
