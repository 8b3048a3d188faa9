"""Face biometrics for agency systems: enrolment from the card-production system and 1:1
verification. Operator keys with the biometrics permissions; no response ever carries a
template."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel

from civicstack.biometrics import service
from civicstack.biometrics.faces import MAX_BYTES
from civicstack.biometrics.site import site_of
from civicstack.kit.deps import DbSession, Operator

router = APIRouter(prefix="/biometrics", tags=["biometrics"])


class EnrolmentOut(BaseModel):
    personal_id_number: str
    status: str  # active, or held for an official's look-alike review


class VerificationOut(BaseModel):
    personal_id_number: str
    decision: service.Decision
    score: float  # 1 identical, 0.5 at the threshold, 0 at twice its distance
    distance: float
    threshold: float


async def _image(upload: UploadFile) -> bytes:
    return await upload.read(MAX_BYTES + 1)  # one byte over is enough to refuse the size


@router.post("/enrolments", status_code=201, response_model=EnrolmentOut)
async def enrol(request: Request, session: DbSession, caller: Operator,
                personal_id_number: Annotated[str, Form()],
                image: Annotated[UploadFile, File()]) -> EnrolmentOut:
    """Enrol the ID-card photo of a person who consented at the card counter."""
    done = service.enrol_from_id_card(session, site_of(request), caller, personal_id_number,
                                      await _image(image))
    return EnrolmentOut(personal_id_number=personal_id_number,
                        status="held" if done.held else "active")


@router.post("/verifications", response_model=VerificationOut)
async def verify(request: Request, session: DbSession, caller: Operator,
                 personal_id_number: Annotated[str, Form()], purpose: Annotated[str, Form()],
                 image: Annotated[UploadFile, File()]) -> VerificationOut:
    """1:1: is the face in this image the enrolled face of this person? Logged either way."""
    found = service.verify(session, site_of(request), caller, personal_id_number,
                           await _image(image), purpose)
    return VerificationOut(personal_id_number=personal_id_number, decision=found.decision,
                           score=found.score, distance=found.distance, threshold=found.threshold)
