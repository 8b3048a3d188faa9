"""Biometrics' background work in the app: level-1 selfies matched against the ID-card face
(about a second each, so never inside a request), and the gallery saved at shutdown."""

from __future__ import annotations

from civicstack.biometrics import service
from civicstack.biometrics.site import BIOMETRICS
from civicstack.identity.photos import PHOTO_VAULT
from civicstack.kit.appservices import AppServices

EVERY_TICK = 3.0  # as often as the worker looks: an applicant is waiting for the answer


def match_registrations(services: AppServices) -> object:
    outcomes = service.run_registration_matches(services.session_factory, services[BIOMETRICS],
                                                services[PHOTO_VAULT])
    return {pid: outcome.value for pid, outcome in outcomes.items()} or None


def save_gallery(services: AppServices) -> None:
    site = services.built(BIOMETRICS)
    if site is not None:
        site.gallery.save()
