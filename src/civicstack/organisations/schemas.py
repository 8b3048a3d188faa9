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


class OrganisationOut(BaseModel):
    tax_code: str = Field(examples=["0314409058", "0314409058-001"])
    name: str
    english_name: str
    short_name: str
    status: Literal["pending", "active", "suspended"]
    parent_tax_code: str | None = Field(description="the parent organisation of a branch")
    head_office: HeadOfficeOut
    legal_representative: RepresentativeOut
    activated_at: datetime | None
