"""Demo faces: labelled photos of public figures (not part of the repository; `civicstack
biometrics demo --faces` says where they are) enrolled as the ID-card faces of a few demo
adults, so the kiosk, the gates and the 1:1 API can be tried with a person's other photo. Not
real data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from civicstack.biometrics import service
from civicstack.biometrics.site import BiometricsSite
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction

DEMO_POLICE = Actor("official", "demo-card-counter", role=Role.POLICE)


@dataclass(frozen=True)
class DemoFace:
    personal_id_number: str
    full_name: str
    enrolled_photo: Path
    other_photos: tuple[Path, ...]  # to present at a gate or to the API


def labelled_people(faces_dir: Path) -> list[list[Path]]:
    """One list of photos per person folder, skipping the folder of group photos."""
    return [sorted(folder.glob("*.jpg")) for folder in sorted(faces_dir.iterdir())
            if folder.is_dir() and folder.name != "multi" and any(folder.glob("*.jpg"))]


def seed_faces(factory: sessionmaker[Session], site: BiometricsSite, population: Path,
               faces_dir: Path) -> list[DemoFace]:
    with population.open(encoding="utf-8", newline="") as handle:
        adults = [row for row in csv.DictReader(handle) if row["date_of_birth"] < "2000-01-01"]
    seeded = []
    for row, photos in zip(adults, labelled_people(faces_dir), strict=False):
        with transaction(factory) as session:
            service.enrol_from_id_card(session, site, DEMO_POLICE, row["personal_id_number"],
                                       photos[0].read_bytes())
        seeded.append(DemoFace(row["personal_id_number"], row["full_name"], photos[0],
                               tuple(photos[1:])))
    site.gallery.save()
    return seeded
