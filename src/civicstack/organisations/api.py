"""Read-only JSON for agencies and relying parties (`/api/v1/organisations`), by operator key
with the `organisation:read` scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from civicstack.kit.deps import DbSession, Operator
from civicstack.organisations import service
from civicstack.organisations.schemas import HeadOfficeOut, OrganisationOut, RepresentativeOut

router = APIRouter(prefix="/organisations", tags=["organisations"])
Purpose = Annotated[str, Query(min_length=5, max_length=500,
                               description="Why you read this organisation; written to the "
                                           "audit log with the representative's name read.")]


@router.get("/{tax_code}", response_model=OrganisationOut)
def get_organisation(tax_code: str, purpose: Purpose, session: DbSession,
                     principal: Operator) -> OrganisationOut:
    """Name, status, head office and legal representative's name; refused registrations are
    not found."""
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
        activated_at=organisation.activated_at)
