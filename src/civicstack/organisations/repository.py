"""The only place that builds queries over organisations and their members."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civicstack.kit.authz import Scope, ScopeLevel
from civicstack.organisations.models import Organisation, OrganisationMember, OrganisationStatus


def by_tax_code(session: Session, tax_code: str, *, lock: bool = False) -> Organisation | None:
    query = select(Organisation).where(Organisation.tax_code == tax_code)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def by_id(session: Session, organisation_id: int) -> Organisation | None:
    return session.get(Organisation, organisation_id)


def live_membership(session: Session, organisation_id: int,
                    account_id: int) -> OrganisationMember | None:
    return session.execute(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation_id,
        OrganisationMember.account_id == account_id,
        OrganisationMember.revoked_at.is_(None))).scalar_one_or_none()


def live_members(session: Session, organisation_id: int) -> list[OrganisationMember]:
    """Representative first, then by date granted."""
    return list(session.execute(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation_id,
        OrganisationMember.revoked_at.is_(None))
        .order_by(OrganisationMember.role.desc(), OrganisationMember.granted_at,
                  OrganisationMember.id)).scalars())


def member(session: Session, member_id: int) -> OrganisationMember | None:
    return session.get(OrganisationMember, member_id)


def memberships_of(session: Session,
                   account_id: int) -> list[tuple[OrganisationMember, Organisation]]:
    rows = session.execute(
        select(OrganisationMember, Organisation)
        .join(Organisation, Organisation.id == OrganisationMember.organisation_id)
        .where(OrganisationMember.account_id == account_id,
               OrganisationMember.revoked_at.is_(None))
        .order_by(Organisation.name, Organisation.tax_code))
    return [(m, o) for m, o in rows]


def pending_in(session: Session, scope: Scope) -> list[Organisation]:
    """Organisations waiting for a check whose head office is within `scope`, oldest first."""
    return _within(session, scope, select(Organisation).where(
        Organisation.status == OrganisationStatus.PENDING.value))


def awaiting_succession_in(session: Session, scope: Scope) -> list[Organisation]:
    """Organisations whose representative's account closed, head office within `scope`."""
    return _within(session, scope, select(Organisation).where(
        Organisation.succession_needed_since.is_not(None)))


def representing(session: Session, account_id: int) -> list[Organisation]:
    return list(session.execute(select(Organisation).where(
        Organisation.representative_account_id == account_id)).scalars())


def _within(session: Session, scope: Scope, query: Select[Organisation],
            ) -> list[Organisation]:
    if scope.level == ScopeLevel.PROVINCE:
        query = query.where(Organisation.head_office_province_code == scope.province_code)
    elif scope.level == ScopeLevel.WARD:
        query = query.where(Organisation.head_office_ward_code == scope.ward_code)
    return list(session.execute(query.order_by(Organisation.created_at,
                                               Organisation.id)).scalars())
