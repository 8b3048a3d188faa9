"""Face biometrics for agency systems: enrolment from the card-production system and 1:1
verification. Operator keys with the biometrics permissions; no response ever carries a
template."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from pydantic import BaseModel

from civicstack.biometrics import service
from civicstack.biometrics.site import image_bytes, site_of
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


@router.post("/enrolments", status_code=201, response_model=EnrolmentOut)
async def enrol(request: Request, session: DbSession, caller: Operator,
                personal_id_number: Annotated[str, Form()],
                image: Annotated[UploadFile, File()]) -> EnrolmentOut:
    """Enrol the ID-card photo of a person who consented at the card counter."""
    done = service.enrol_from_id_card(session, site_of(request), caller, personal_id_number,
                                      await image_bytes(image))
    return EnrolmentOut(personal_id_number=personal_id_number,
                        status="held" if done.held else "active")


@router.post("/verifications", response_model=VerificationOut)
async def verify(request: Request, session: DbSession, caller: Operator,
                 personal_id_number: Annotated[str, Form()], purpose: Annotated[str, Form()],
                 image: Annotated[UploadFile, File()]) -> VerificationOut:
    """1:1: is the face in this image the enrolled face of this person? Logged either way."""
    found = service.verify(session, site_of(request), caller, personal_id_number,
                           await image_bytes(image), purpose)
    return _verification_out(personal_id_number, found)


def _verification_out(personal_id_number: str, found: service.Verification) -> VerificationOut:
    return VerificationOut(personal_id_number=personal_id_number, decision=found.decision,
                           score=found.score, distance=found.distance, threshold=found.threshold)


class ChallengeOut(BaseModel):
    challenge_id: str
    steps: list[str]  # look_straight, turn_left, turn_right: one camera frame for each, in order
    expires_at: datetime


class LivenessOut(BaseModel):
    passed: bool
    failure: str | None
    step: int | None  # the frame that failed, from 1
    reason: str | None


class LiveVerificationOut(BaseModel):
    personal_id_number: str
    liveness: LivenessOut
    verification: VerificationOut | None  # only when the liveness check passed


@router.post("/liveness-challenges", status_code=201, response_model=ChallengeOut)
def start_liveness(session: DbSession, caller: Operator) -> ChallengeOut:
    """A random order of head poses, single-use, valid two minutes (docs/biometrics.md)."""
    challenge = service.start_liveness(session, caller)
    return ChallengeOut(challenge_id=challenge.id, steps=challenge.steps.split(","),
                        expires_at=challenge.expires_at)


@router.post("/live-verifications", response_model=LiveVerificationOut)
async def verify_live(request: Request, session: DbSession, caller: Operator,
                      challenge_id: Annotated[str, Form()],
                      personal_id_number: Annotated[str, Form()],
                      purpose: Annotated[str, Form()],
                      frames: Annotated[list[UploadFile], File()]) -> LiveVerificationOut:
    """The challenge's frames, in order: liveness first, then 1:1 on the most frontal frame."""
    images = [await image_bytes(frame) for frame in frames[:service.MAX_FRAMES + 1]]
    found = service.verify_live(session, site_of(request), caller, challenge_id,
                                personal_id_number, images, purpose)
    checked = found.liveness
    matched = found.verification
    return LiveVerificationOut(
        personal_id_number=personal_id_number,
        liveness=LivenessOut(passed=checked.passed,
                             failure=checked.failure.value if checked.failure else None,
                             step=checked.step, reason=checked.reason),
        verification=None if matched is None else _verification_out(personal_id_number, matched))
