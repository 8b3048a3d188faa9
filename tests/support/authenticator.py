"""A software WebAuthn authenticator (P-256, "none" attestation), written from the spec with
`cryptography` and `cbor2`: an implementation independent of py_webauthn, which the server
uses to check what this one makes. It answers the JSON options the server sends the browser
with the JSON a browser's PublicKeyCredential.toJSON() would post back."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

USER_PRESENT, USER_VERIFIED, ATTESTED_DATA = 0x01, 0x04, 0x40


@dataclass
class Authenticator:
    origin: str
    verifies_user: bool = True
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    counter: int = 0

    def create(self, options: dict[str, Any]) -> dict[str, Any]:
        """navigator.credentials.create: a new credential for options["rp"]["id"]."""
        client_data = self._client_data("webauthn.create", options["challenge"])
        numbers = self.key.public_key().public_numbers()
        cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                                -3: numbers.y.to_bytes(32, "big")})
        attested = (bytes(16) + struct.pack(">H", len(self.credential_id))
                    + self.credential_id + cose_key)
        auth_data = self._auth_data(options["rp"]["id"], ATTESTED_DATA) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return self._credential({"clientDataJSON": bytes_to_base64url(client_data),
                                 "attestationObject": bytes_to_base64url(attestation),
                                 "transports": ["internal"]})

    def get(self, options: dict[str, Any]) -> dict[str, Any]:
        """navigator.credentials.get: a signed assertion over the server's challenge."""
        client_data = self._client_data("webauthn.get", options["challenge"])
        auth_data = self._auth_data(options["rpId"], 0)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return self._credential({"clientDataJSON": bytes_to_base64url(client_data),
                                 "authenticatorData": bytes_to_base64url(auth_data),
                                 "signature": bytes_to_base64url(signature)})

    def _client_data(self, kind: str, challenge: str) -> bytes:
        base64url_to_bytes(challenge)  # a browser refuses a challenge it cannot decode
        return json.dumps({"type": kind, "challenge": challenge, "origin": self.origin,
                           "crossOrigin": False}).encode()

    def _auth_data(self, rp_id: str, extra_flags: int) -> bytes:
        self.counter += 1
        flags = USER_PRESENT | (USER_VERIFIED if self.verifies_user else 0) | extra_flags
        return (hashlib.sha256(rp_id.encode()).digest() + bytes([flags])
                + struct.pack(">I", self.counter))

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        handle = bytes_to_base64url(self.credential_id)
        return {"id": handle, "rawId": handle, "type": "public-key", "response": response,
                "clientExtensionResults": {}, "authenticatorAttachment": "platform"}
