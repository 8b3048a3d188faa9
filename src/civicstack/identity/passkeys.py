"""WebAuthn ceremonies for passkeys, on py_webauthn; the rules about who may use them are in
identity/second_factor.py.

A passkey is a level-2 second factor like the authenticator app: user verification (the
device's PIN or biometric) is required, so it proves possession and the user in one gesture.
Options go to the browser as JSON; the challenge stays with the server (in the signed session
cookie) and is spent on the first answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from civicstack.kit.b64 import b64url_decode
from civicstack.kit.errors import Invalid

FIELD = "passkey"
ALGORITHMS = [COSEAlgorithmIdentifier.ECDSA_SHA_256, COSEAlgorithmIdentifier.EDDSA,
              COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256]
TIMEOUT_MS = 120_000
MAX_RESPONSE = 16_384  # a credential answer is a few hundred bytes; attestation a few KiB


@dataclass(frozen=True)
class RelyingParty:
    """Who the passkeys are for: the site's host name (the WebAuthn RP ID) and its origin."""

    rp_id: str
    origin: str
    name: str = "CivicStack eID"

    @classmethod
    def for_site(cls, public_url: str) -> RelyingParty:
        parts = urlsplit(public_url)
        return cls(parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}")


@dataclass(frozen=True)
class Ceremony:
    options_json: str  # for navigator.credentials.create/get
    challenge: bytes  # kept by the server until the answer comes


@dataclass(frozen=True)
class NewPasskey:
    credential_id: bytes
    public_key: bytes  # COSE
    sign_count: int
    backed_up: bool  # synced by the platform (a multi-device passkey)


def user_handle(account_id: int) -> bytes:
    """The WebAuthn user.id: stable per account, and no personal data (spec §14.6.1)."""
    return hashlib.sha256(f"civicstack eID account {account_id}".encode()).digest()


def creation(rp: RelyingParty, account_id: int, user_name: str,
             existing: list[bytes]) -> Ceremony:
    options = generate_registration_options(
        rp_id=rp.rp_id, rp_name=rp.name, user_id=user_handle(account_id), user_name=user_name,
        user_display_name=user_name, timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in existing],
        supported_pub_key_algs=ALGORITHMS)
    return Ceremony(options_to_json(options), options.challenge)


def verify_creation(rp: RelyingParty, challenge: bytes, answer: str) -> NewPasskey:
    _check_size(answer)
    try:
        verified = verify_registration_response(
            credential=answer, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, require_user_verification=True,
            supported_pub_key_algs=ALGORITHMS)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise Invalid(FIELD, f"the passkey could not be verified: {exc}") from None
    return NewPasskey(verified.credential_id, verified.credential_public_key,
                      verified.sign_count, verified.credential_backed_up)


def request(rp: RelyingParty, allowed: list[bytes]) -> Ceremony:
    options = generate_authentication_options(
        rp_id=rp.rp_id, timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in allowed],
        user_verification=UserVerificationRequirement.REQUIRED)
    return Ceremony(options_to_json(options), options.challenge)


def credential_id_of(answer: str) -> bytes:
    """Which passkey answered, read before verifying so its public key can be looked up."""
    _check_size(answer)
    try:
        raw_id = json.loads(answer)["rawId"]
        return b64url_decode(str(raw_id))  # strictly: one passkey id, one spelling
    except (ValueError, KeyError, TypeError):
        raise Invalid(FIELD, "the passkey answer is malformed") from None


def verify_assertion(rp: RelyingParty, challenge: bytes, answer: str, public_key: bytes,
                     sign_count: int) -> int:
    """The authenticator's new signature counter, or Invalid. A counter that did not move
    forward (when the authenticator keeps one) means a cloned key and is refused."""
    try:
        verified = verify_authentication_response(
            credential=answer, expected_challenge=challenge, expected_rp_id=rp.rp_id,
            expected_origin=rp.origin, credential_public_key=public_key,
            credential_current_sign_count=sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise Invalid(FIELD, f"the passkey could not be verified: {exc}") from None
    return int(verified.new_sign_count)


def _check_size(answer: str) -> None:
    if len(answer) > MAX_RESPONSE:
        raise Invalid(FIELD, "the passkey answer is too large")
