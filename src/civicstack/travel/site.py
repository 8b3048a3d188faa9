"""What travel needs at run time: its own sealing key for face-token copies, the biometrics
site (face engine, match threshold, the enrolled templates to copy) and the purge delay.
Made once by the app (and by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from civicstack.biometrics.faces import Embedding, FaceEngine
from civicstack.biometrics.site import BIOMETRICS, BiometricsSite
from civicstack.config import Settings
from civicstack.kit.appservices import AppServices, ServiceKey
from civicstack.kit.sealing import Sealer, sealer
from civicstack.kit.secrets import SecretStore

TOKEN_PURPOSE = b"civicstack travel face token v1"
COPY_SEALING_KEY = "travel-token-key"


@dataclass(frozen=True)
class TravelSite:
    tokens: Sealer  # travel's own key: a copy never opens with the enrolment's key
    biometrics: BiometricsSite
    purge_hours: int

    @property
    def engine(self) -> FaceEngine:
        return self.biometrics.engine

    @property
    def threshold(self) -> float:
        return self.biometrics.threshold

    def seal(self, template: Embedding, owner: str) -> bytes:
        return self.tokens.seal(np.asarray(template, dtype=np.float32).tobytes(),
                                owner.encode())

    def open(self, sealed: bytes, owner: str) -> Embedding:
        return np.frombuffer(self.tokens.open(sealed, owner.encode()), dtype=np.float32)


TRAVEL = ServiceKey[TravelSite]("travel")


def travel_of(services: AppServices) -> TravelSite:
    return travel_site(services.settings, services.secrets, services[BIOMETRICS])


def travel_site(settings: Settings, secrets: SecretStore,
                biometrics: BiometricsSite) -> TravelSite:
    secret = secrets.secret(COPY_SEALING_KEY)
    return TravelSite(sealer(secret, TOKEN_PURPOSE), biometrics, settings.travel_purge_hours)


def booking_owner(booking_id: int) -> str:
    return f"booking:{booking_id}"


def pass_owner(pass_id: int) -> str:
    return f"pass:{pass_id}"
