"""The biometrics domain's tables: consent, encrypted face templates, de-duplication cases and
the queue of level-1 registrations waiting for a face match."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from civicstack.kit.db import Base


class FaceConsent(Base):
    """The person's recorded, withdrawable consent to keep a face template (sensitive personal
    data); enrolment needs it, withdrawal deletes the template."""

    __tablename__ = "face_consent"

    personal_id_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str] = mapped_column(String(20))  # registration, police, portal
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class FaceTemplate(Base):
    """One person's 128-d embedding, sealed with AES-GCM (the ID number is the associated data,
    so a template copied onto another row does not open). The row id is the FAISS id: the
    gallery holds ids and vectors, never names."""

    __tablename__ = "face_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), unique=True)
    source: Mapped[str] = mapped_column(String(10))  # id_card, selfie
    status: Mapped[str] = mapped_column(String(10))  # active, held (de-duplication review)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sharpness: Mapped[float] = mapped_column(Float)
    face_pixels: Mapped[int] = mapped_column(Integer)
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    enrolled_by: Mapped[str] = mapped_column(String(120))


class EnrolmentPhoto(Base):
    """The photo a template was made from, re-encoded and sealed like the template (the ID
    number is the associated data): an official deciding a look-alike case compares faces, not
    128 numbers. It lives and dies with its template (docs/biometrics.md, "Enrolment photos")."""

    __tablename__ = "face_enrolment_photo"

    template_id: Mapped[int] = mapped_column(ForeignKey("face_template.id"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class DuplicateCase(Base):
    """A newly enrolled face that lies within the threshold of another person's: held for an
    official, never refused on the face alone (twins exist)."""

    __tablename__ = "face_duplicate_case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    personal_id_number: Mapped[str] = mapped_column(String(12), index=True)  # the newcomer
    resembles: Mapped[str] = mapped_column(String(12))
    distance: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), index=True)  # open, cleared, confirmed, ...
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_by: Mapped[str] = mapped_column(String(120), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")


class RegistrationMatch(Base):
    """A level-1 registration whose selfie waits to be compared with the ID-card face; the
    worker takes rows off this queue (the face pipeline is too slow for the request)."""

    __tablename__ = "face_registration_match"

    personal_id_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    queued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LivenessChallenge(Base):
    """The poses asked of one camera session: single-use and short-lived, so a recorded answer
    to an earlier challenge cannot be sent again."""

    __tablename__ = "face_liveness_challenge"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, given to the caller
    steps: Mapped[str] = mapped_column(String(60))  # poses, comma-separated
    issued_to: Mapped[str] = mapped_column(String(120))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
