"""JSON shapes of the organisations API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class HeadOfficeOut(BaseModel):
    ward_code: str = Field(examples=["00004"])
    ward_name: str
    province_code: str = Field(examples=["01"])
    province_name: str
    address_line: str


class RepresentativeOut(BaseModel):
    full_name: str


class MemberOut(BaseModel):
    full_name: str
    role: Literal["representative", "authorised"]
    permissions: list[Literal["documents:view", "services:file"]] = Field(
        description="what the member may do for the organisation; the legal representative "
                    "holds every permission")
    since: datetime


class OrganisationOut(BaseModel):
    tax_code: str = Field(examples=["0314409058", "0314409058-001"])
    name: str
    english_name: str
    short_name: str
    status: Literal["pending", "active", "suspended"]
    parent_tax_code: str | None = Field(description="the parent organisation of a branch")
    head_office: HeadOfficeOut
    legal_representative: RepresentativeOut
    members: list[MemberOut] = Field(description="who acts for the organisation now, the legal "
                                                 "representative first")
    activated_at: datetime | None
