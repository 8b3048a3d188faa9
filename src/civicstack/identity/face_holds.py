"""Whether an applicant's face is held as a look-alike of another person's. Biometrics owns the
look-alike cases and provides this at install time (biometrics already depends on identity, so
identity asks through this door instead of importing it): an account must not open on a face
that may be someone else's while an official has not decided."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from civicstack.kit.appservices import ServiceKey


class FaceHolds(Protocol):
    def __call__(self, session: Session, personal_id_numbers: list[str]) -> dict[str, int]:
        """ID number -> the open look-alike case holding that person's face, for those held."""


FACE_HOLDS = ServiceKey[FaceHolds]("face_holds")
