"""An offline verifier (a gate, a counter without network): a cached trust bundle, a file of
presentations already accepted, and the same SD-JWT checks the server runs, on the text under
the QR code (`VN1:`) or on raw SD-JWT text."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicstack.wallet import qr, sdjwt
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.site import IN_PERSON_AUDIENCE, KEY_BINDING_MAX_AGE_S
from civicstack.wallet.trust import BundleTrust

REPLAY_MARGIN_S = 60


def read_bundle(path: Path) -> dict[str, Any]:
    try:
        bundle: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PresentationRefused(f"cannot read the trust bundle {path}: {exc}") from exc
    if not isinstance(bundle.get("issuers"), dict):
        raise PresentationRefused(f"{path} is not a CivicStack trust bundle")
    return bundle


@dataclass(frozen=True)
class ReplayFile:
    """Presentation id -> until when it is remembered; older entries are dropped on save."""

    path: Path

    def _load(self, now: int) -> dict[str, int]:
        if not self.path.exists():
            return {}
        seen: dict[str, int] = json.loads(self.path.read_text(encoding="utf-8"))
        return {key: until for key, until in seen.items() if until > now}

    def accept(self, verified: sdjwt.VerifiedPresentation, now: int) -> None:
        seen = self._load(now)
        if verified.presentation_id in seen:
            raise PresentationRefused("this presentation was already shown here (replay)")
        seen[verified.presentation_id] = (verified.key_binding_issued_at + KEY_BINDING_MAX_AGE_S
                                  + REPLAY_MARGIN_S)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(seen), encoding="utf-8")
        os.replace(temporary, self.path)


def verify_offline(presentation: str, bundle: dict[str, Any], now: int,
                   replays: ReplayFile | None = None, audience: str = IN_PERSON_AUDIENCE,
                   nonce: str | None = None) -> sdjwt.VerifiedPresentation:
    verified = sdjwt.verify(qr.decode(presentation), BundleTrust(bundle, now),
                            sdjwt.Expectations(audience, now, nonce, KEY_BINDING_MAX_AGE_S))
    if replays is not None:
        replays.accept(verified, now)
    return verified
