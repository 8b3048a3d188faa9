"""What the biometrics domain needs from the running deployment, built once per app: the face
engine (loaded on first use: a second and 100 MB), the template and photo sealers and the
gallery."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from fastapi import Request, UploadFile

from civicstack.biometrics.faces import MAX_BYTES, Embedding, FaceEngine, engine
from civicstack.biometrics.gallery import Gallery
from civicstack.config import Settings
from civicstack.kit.appservices import ServiceKey, services_of
from civicstack.kit.sealing import Sealer, sealer
from civicstack.kit.secrets import SecretStore


@dataclass
class BiometricsSite:
    sealer: Sealer
    photo_sealer: Sealer
    gallery: Gallery
    threshold: float
    _engine: FaceEngine | None = field(default=None, repr=False)

    @property
    def engine(self) -> FaceEngine:
        if self._engine is None:
            self._engine = engine()
        return self._engine

    def seal(self, personal_id_number: str, embedding: Embedding) -> bytes:
        return self.sealer.seal(embedding.astype(np.float32).tobytes(), personal_id_number.encode())

    def open(self, personal_id_number: str, sealed: bytes) -> Embedding:
        raw = self.sealer.open(sealed, personal_id_number.encode())
        return np.frombuffer(raw, dtype=np.float32).copy()

    def seal_photo(self, personal_id_number: str, photo: bytes) -> bytes:
        return self.photo_sealer.seal(photo, personal_id_number.encode())

    def open_photo(self, personal_id_number: str, sealed: bytes) -> bytes:
        return self.photo_sealer.open(sealed, personal_id_number.encode())


BIOMETRICS = ServiceKey[BiometricsSite]("biometrics")
TEMPLATE_KEY = "face-template-key"


def biometrics_site(settings: Settings, secrets: SecretStore) -> BiometricsSite:
    secret = secrets.secret(TEMPLATE_KEY)
    return BiometricsSite(sealer(secret, b"civicstack face template v1"),
                          sealer(secret, b"civicstack face enrolment photo v1"),
                          Gallery(settings.data_dir / "biometrics" / "gallery.faiss",
                                  settings.face_index_lists, settings.face_index_probes,
                                  settings.face_index_rerank),
                          settings.face_match_threshold)


def site_of(request: Request) -> BiometricsSite:
    """The app's biometrics, for the routes (made once per app)."""
    return services_of(request.app)[BIOMETRICS]


async def image_bytes(upload: UploadFile) -> bytes:
    """An uploaded photo or camera frame, read to at most one byte over the limit: enough for
    the face pipeline to refuse it as too large without the whole upload in memory."""
    return await upload.read(MAX_BYTES + 1)
