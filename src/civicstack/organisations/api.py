"""Read-only JSON for agencies and relying parties (`/api/v1/organisations`), by operator key
with the `organisation:read` scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from civicstack.kit.deps import DbSession, Operator
from civicstack.organisations import service
from civicstack.organisations.schemas import (
    HeadOfficeOut,
    MemberOut,
    OrganisationOut,
    RepresentativeOut,
)

router = APIRouter(prefix="/organisations", tags=["organisations"])
Purpose = Annotated[str, Query(min_length=5, max_length=500,
                               description="Why you read this organisation; written to the "
                                           "audit log with the representative's name read.")]


@router.get("/{tax_code}", response_model=OrganisationOut)
def get_organisation(tax_code: str, purpose: Purpose, session: DbSession,
                     principal: Operator) -> OrganisationOut:
    """Name, status, head office, legal representative's name and the members who act for it
    with their roles and permissions; refused registrations are not found."""
    found = service.public_record(session, principal, tax_code, purpose)
    organisation = found.organisation
    place = found.place
    return OrganisationOut(
        tax_code=organisation.tax_code, name=organisation.name,
        english_name=organisation.english_name, short_name=organisation.short_name,
        status=organisation.status,  # never "rejected": those are not found
        parent_tax_code=found.parent_tax_code,
        head_office=HeadOfficeOut(
            ward_code=organisation.head_office_ward_code,
            ward_name=place.ward_name if place else "",
            province_code=organisation.head_office_province_code,
            province_name=place.province_name if place else "",
            address_line=organisation.address_line),
        legal_representative=RepresentativeOut(full_name=found.representative_name),
        members=[_member_out(m) for m in found.members],
        activated_at=organisation.activated_at)


@router.get("/{tax_code}/members/{personal_id_number}", response_model=MemberOut)
def get_member_authority(tax_code: str, personal_id_number: str, purpose: Purpose,
                         session: DbSession, principal: Operator) -> MemberOut:
    """Whether this citizen acts for the organisation now, with their role and permissions;
    404 when they do not."""
    return _member_out(service.member_authority(session, principal, tax_code,
                                                personal_id_number, purpose))


def _member_out(member: service.PublicMember) -> MemberOut:
    return MemberOut.model_validate(member, from_attributes=True)
