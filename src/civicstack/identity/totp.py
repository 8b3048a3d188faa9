"""Time-based one-time codes (RFC 6238) for eID level 2, and the sealing of their secrets.

A TOTP secret is as good as the second factor itself, so the database keeps it only sealed
with AES-GCM under a key from the data directory, bound to the account it belongs to: a dump
of the database alone mints no codes, and a sealed secret copied onto another row does not open.
"""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime

import pyotp

from civicstack.kit.sealing import sealer

ISSUER = "CivicStack"
STEP_SECONDS = 30
DIGITS = 6
# One step either side forgives a phone clock that is up to 30 s off, and a code typed as
# its step ends; a wider window only gives a guesser more live codes.
VALID_WINDOW = 1
_CODE = re.compile(rf"[0-9]{{{DIGITS}}}")  # not \d: it also matches non-ASCII digits


def new_secret() -> str:
    """160 random bits (RFC 4226's recommended length) in unpadded base32, as apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


SEALING_PURPOSE = b"civicstack totp secret"


def seal(key: str, secret: str, owner: str) -> str:
    return base64.b64encode(sealer(key, SEALING_PURPOSE).seal(secret.encode(),
                                                              owner.encode())).decode()


def unseal(key: str, stored: str, owner: str) -> str:
    return sealer(key, SEALING_PURPOSE).open(base64.b64decode(stored), owner.encode()).decode()


def provisioning_uri(secret: str, label: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=label, issuer_name=ISSUER)


def step_of(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, at: datetime) -> int | None:
    """The time-step whose code this is, within the window around `at`; None when it matches
    none. The step is what replay protection remembers."""
    typed = re.sub(r"\s", "", code)
    if not _CODE.fullmatch(typed):
        return None
    generator = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_of(at)
    # Newest first, so a code valid in two steps (a one-in-a-million collision) is recorded
    # at the later one and cannot be replayed in it.
    for step in range(current + VALID_WINDOW, current - VALID_WINDOW - 1, -1):
        if generator.verify(typed, for_time=step * STEP_SECONDS):  # constant-time compare
            return step
    return None


def fresh_step(secret: str, code: str, at: datetime, last_step: int | None) -> int | None:
    """The code's time-step if it is right and later than `last_step`, the last one accepted:
    neither a code already used nor an older one (seen over a shoulder, or phished a minute
    ago) is accepted again. None for a wrong or spent code."""
    step = matching_step(secret, code, at)
    if step is None or (last_step is not None and step <= last_step):
        return None
    return step
