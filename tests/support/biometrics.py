"""Face photos for tests (the labelled images of face_images.py, read where they lie, never
copied into the repository) and enrolment through the real biometrics service."""

from __future__ import annotations

from functools import cache

from civicstack.biometrics import service
from civicstack.biometrics.faces import FaceReading, engine
from civicstack.biometrics.site import BIOMETRICS
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from tests.support.face_images import FACES
from tests.support.web import Site

ENROLLING_POLICE = Actor("official", "card-police", role=Role.POLICE)


@cache
def face_photo(name: str) -> bytes:
    """e.g. "obama/1.jpg"; images of one folder are one person."""
    return (FACES / name).read_bytes()


def enrolled(site: Site, personal_id_number: str, photo: str = "obama/1.jpg") -> service.Enrolment:
    """The person's ID-card face enrolled by a police official, as at the card counter."""
    with transaction(site.services.session_factory) as session:
        return service.enrol_from_id_card(session, site.services[BIOMETRICS], ENROLLING_POLICE,
                                          personal_id_number, face_photo(photo))


@cache
def reading(name: str) -> FaceReading:
    """One photo read once per test process (a read costs about half a second)."""
    return engine().read(face_photo(name))
