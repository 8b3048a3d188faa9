"""The wallet API's JSON shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class CredentialPush(BaseModel):
    document_type: str = Field(min_length=2, max_length=40, examples=["driving_licence"])
    subject_id: str = Field(min_length=10, max_length=14,
                            description="The holder's personal ID number (or an "
                                        "organisation's tax code)")
    claims: dict[str, Any] = Field(description="The document's claims, per its schema")


class CredentialIssued(BaseModel):
    id: str
    document_type: str
    subject_id: str
    status: str
    issued_at: datetime
    expires_at: datetime


class StatusChange(BaseModel):
    status: str = Field(pattern="^(valid|suspended|revoked)$")
    reason: str = Field(min_length=5, max_length=300)


class StatusOut(BaseModel):
    id: str
    status: str
    reason: str


class IntegratedDocumentOut(BaseModel):
    month: str
    agency: str
    agency_en: str
    document_type: str
    name: str
    name_en: str
    kind: str
    issued: int
