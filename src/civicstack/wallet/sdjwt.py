"""SD-JWT VC (RFC 9901 and draft-ietf-oauth-sd-jwt-vc): issuing, presenting, verifying.

Issuing and presenting use the reference implementation (`sd-jwt` 0.10). Verifying is our own
code path, for two reasons found by testing and measuring it: the reference verifier checks
neither `exp`/`nbf`/`iat` nor the key-binding JWT's age, does not refuse a disclosure that the
credential never committed to, and spends most of its time in JOSE object overhead (0.15 x the
raw ES256 rate). Here a presentation costs two ECDSA verifications plus hashing and JSON, and
refuses what a verifier must: unknown or repeated disclosures, a wrong nonce or audience, a
stale, missing or wrongly signed key-binding JWT, `alg=none`, a wrong `typ`, a missing `vct`,
an expired, not yet valid, revoked or suspended credential. This module knows nothing about
the database or the web; `Trust` supplies issuer keys and statuses.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from threading import Lock
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer

from civicstack.kit.b64 import b64url_decode, b64url_encode
from civicstack.kit.i18n import N_
from civicstack.wallet.jws import (
    ALGORITHM,
    PresentationRefused,
    check_header,
    check_signature,
    digest,
    int_claim,
    json_part,
    signed_parts,
)

CREDENTIAL_TYP = "dc+sd-jwt"
KEY_BINDING_TYP = "kb+jwt"
CLOCK_SKEW_S = 60
SEPARATOR = "~"
# Claims that are about the credential, never about the person: always visible.
REGISTERED_CLAIMS = frozenset({"iss", "iat", "nbf", "exp", "vct", "vct#integrity", "cnf",
                               "status", "sub", "_sd", "_sd_alg"})


class Trust(Protocol):
    def issuer_key(self, issuer: str, kid: str) -> ec.EllipticCurvePublicKey | None:
        """The issuer's public key with this id, or None when the issuer or key is unknown."""

    def status(self, uri: str, index: int) -> int:
        """The entry at `index` of the status list at `uri` (0 valid, 1 revoked, 2 suspended);
        raises PresentationRefused when the list is unknown or stale."""


# --- keys -----------------------------------------------------------------------------------

def new_holder_key() -> JWK:
    return JWK.generate(kty="EC", crv="P-256")


def jwcrypto_key(jwk: Mapping[str, Any]) -> JWK:
    return JWK(**dict(jwk))


def _key_from_point(x: str, y: str) -> ec.EllipticCurvePublicKey:
    point = b"\x04" + b64url_decode(x) + b64url_decode(y)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)


# Issuer keys recur (a verifier's trust is rebuilt from the same few JWKs for each request), so
# they are made once; a holder's key is made once per credential and remembered with it
# (VerifiedCredentials), and would only push the issuers' keys out of this cache.
_issuer_key_from_point = lru_cache(maxsize=256)(_key_from_point)


def _checked_point(jwk: Mapping[str, Any]) -> tuple[str, str]:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256" or "d" in jwk:
        raise PresentationRefused("the key is not a public P-256 key")
    try:
        return str(jwk["x"]), str(jwk["y"])
    except KeyError as exc:
        raise PresentationRefused("the key is not a valid P-256 point") from exc


def _key(make: Callable[[str, str], ec.EllipticCurvePublicKey],
         jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    x, y = _checked_point(jwk)
    try:
        return make(x, y)
    except ValueError as exc:
        raise PresentationRefused("the key is not a valid P-256 point") from exc


def public_key(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its JWK; anything else is refused."""
    return _key(_key_from_point, jwk)


def issuer_key(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """`public_key` for a key that recurs, an issuer's: made once per distinct point."""
    return _key(_issuer_key_from_point, jwk)


# --- issuing and presenting (reference implementation) --------------------------------------

@dataclass(frozen=True)
class CredentialDraft:
    issuer: str
    vct: str
    claims: Mapping[str, Any]  # each one selectively disclosable
    issued_at: int
    expires_at: int
    status_uri: str
    status_index: int
    holder_jwk: Mapping[str, Any]  # public


def issue(draft: CredentialDraft, issuer_key: JWK, kid: str) -> str:
    """The SD-JWT with every disclosure, ending in '~' (no key binding yet)."""
    registered: dict[Any, Any] = {
        "iss": draft.issuer, "vct": draft.vct, "iat": draft.issued_at, "exp": draft.expires_at,
        "status": {"status_list": {"idx": draft.status_index, "uri": draft.status_uri}},
    }
    personal = {SDObj(name): value for name, value in draft.claims.items()}
    issuer = SDJWTIssuer({**registered, **personal}, issuer_key,
                         holder_key=jwcrypto_key(draft.holder_jwk), sign_alg=ALGORITHM,
                         extra_header_parameters={"typ": CREDENTIAL_TYP, "kid": kid})
    return str(issuer.sd_jwt_issuance)


def present(issuance: str, disclose: list[str], holder_key: JWK, audience: str,
            nonce: str) -> str:
    """The SD-JWT with only the chosen disclosures and a key-binding JWT over them."""
    holder = SDJWTHolder(issuance)
    holder.create_presentation(dict.fromkeys(disclose, True), nonce=nonce, aud=audience,
                               holder_key=holder_key, sign_alg=ALGORITHM)
    return str(holder.sd_jwt_presentation)


def disclosed_claims(issuance: str) -> dict[str, Any]:
    """Every claim in an SD-JWT the holder holds, for showing the card (not a verification)."""
    _, *disclosures = issuance.rstrip(SEPARATOR).split(SEPARATOR)
    return {name: value for _, name, value in
            (json_part(d, "a disclosure") for d in disclosures)}


def credential_payload(issuance: str) -> dict[str, Any]:
    payload: dict[str, Any] = json_part(issuance.split(".")[1], "the credential")
    return payload


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


# --- verifying (our own code path) ----------------------------------------------------------

@dataclass(frozen=True)
class VerifiedPresentation:
    issuer: str
    vct: str
    claims: dict[str, Any]  # the disclosed personal claims only
    issued_at: int
    expires_at: int
    holder_jwk: dict[str, Any]
    nonce: str
    audience: str
    key_binding_issued_at: int
    # The digest of what the holder signed in the key-binding JWT (its header and payload, with
    # a fresh nonce and `sd_hash`): one per act of showing, unlike `sd_hash` alone, which is the
    # same whenever the same fields of the same card are shown. Replay guards key on this, never
    # on the signature: an ECDSA signature (r, s) has a twin (r, n - s) that verifies as well.
    presentation_id: str
    withheld: int = field(default=0)  # how many claims the holder did not disclose


@dataclass(frozen=True)
class Expectations:
    audience: str
    now: int
    nonce: str | None = None  # None only in person, where the wallet chose the nonce
    max_key_binding_age_s: int = 300


def _check_validity(payload: dict[str, Any], now: int) -> tuple[int, int]:
    issued_at = int_claim(payload, "iat", "the credential")
    expires_at = int_claim(payload, "exp", "the credential")
    if issued_at > now + CLOCK_SKEW_S:
        raise PresentationRefused("the credential is issued in the future")
    not_before = payload.get("nbf")
    if isinstance(not_before, int) and not_before > now + CLOCK_SKEW_S:
        raise PresentationRefused("the credential is not valid yet")
    if expires_at <= now - CLOCK_SKEW_S:
        raise PresentationRefused("the credential has expired")
    return issued_at, expires_at


def _disclosures_by_digest(disclosures: list[str]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for encoded in disclosures:
        decoded = json_part(encoded, "a disclosure")
        if (not isinstance(decoded, list) or len(decoded) != 3 or not isinstance(decoded[1], str)
                or decoded[1] in REGISTERED_CLAIMS or decoded[1] == "..."):
            raise PresentationRefused("a disclosure is not a [salt, claim name, value] triple "
                                      "for a personal claim")
        key = digest(encoded)
        if key in found:
            raise PresentationRefused("a disclosure is repeated")
        found[key] = decoded
    return found


def _disclosed(payload: dict[str, Any], disclosures: dict[str, list[Any]]) -> tuple[
        dict[str, Any], int]:
    """The claims whose disclosures the issuer committed to in `_sd`; a disclosure that is not
    committed to is a forgery attempt, not something to drop silently."""
    if payload.get("_sd_alg", "sha-256") != "sha-256":
        raise PresentationRefused("only sha-256 disclosure digests are accepted")
    committed = payload.get("_sd", [])
    if not isinstance(committed, list):
        raise PresentationRefused("the credential's '_sd' is not a list")
    claims: dict[str, Any] = {}
    for key in committed:
        disclosure = disclosures.get(key)
        if disclosure is not None:
            claims[disclosure[1]] = disclosure[2]
    if len(claims) != len(disclosures):
        raise PresentationRefused("a disclosure is not part of this credential")
    return claims, len(committed) - len(claims)


def _member(payload: dict[str, Any], name: str) -> dict[str, Any]:
    """A JSON object member of the payload, or an empty one (never a crash on odd input)."""
    value = payload.get(name)
    return value if isinstance(value, dict) else {}


def _check_status(payload: dict[str, Any], trust: Trust) -> None:
    reference = _member(payload, "status").get("status_list")
    if not isinstance(reference, dict) or not isinstance(reference.get("idx"), int):
        raise PresentationRefused("the credential carries no status list reference")
    state = trust.status(str(reference.get("uri")), reference["idx"])
    if state == 1:
        raise PresentationRefused("the credential has been revoked")
    if state == 2:
        raise PresentationRefused("the credential is suspended")
    if state != 0:
        raise PresentationRefused(f"the credential's status is {state}, not valid")


def _check_key_binding(key_binding: str, credential: _Checked, sd_hash: str,
                       expect: Expectations) -> tuple[dict[str, Any], bytes]:
    """The key-binding JWT's payload and what the holder signed (its header and payload: the
    same act of showing has no other)."""
    if not key_binding:
        raise PresentationRefused("the presentation has no key-binding JWT")
    holder_key = credential.holder_key()
    header, payload, signing_input, signature = signed_parts(key_binding, "the key-binding JWT")
    check_header(header, KEY_BINDING_TYP, "the key-binding JWT")
    check_signature(holder_key, signing_input, signature, "the key-binding JWT",
                    N_("the key-binding JWT signature does not verify"))
    if payload.get("aud") != expect.audience:
        raise PresentationRefused("the presentation was made for another verifier (audience)")
    if expect.nonce is not None and payload.get("nonce") != expect.nonce:
        raise PresentationRefused("the presentation answers another request (nonce)")
    if not isinstance(payload.get("nonce"), str) or not payload["nonce"]:
        raise PresentationRefused("the key-binding JWT has no nonce")
    made_at = int_claim(payload, "iat", "the key-binding JWT")
    if made_at > expect.now + CLOCK_SKEW_S:
        raise PresentationRefused("the presentation is dated in the future")
    if made_at < expect.now - expect.max_key_binding_age_s:
        raise PresentationRefused("the presentation is too old; ask for a fresh one")
    if payload.get("sd_hash") != sd_hash:
        raise PresentationRefused("the key-binding JWT does not cover these disclosures")
    return payload, signing_input


# Plain slotted dataclasses: a frozen one costs four times as much to make, on every first
# showing. Callers only read them.
@dataclass(slots=True)
class _Shown:
    """One choice of disclosures of a checked credential: the claims they reveal, how many the
    holder withheld, and the digest a key binding over them must carry (`sd_hash`)."""
    claims: dict[str, Any]
    withheld: int
    sd_hash: str


# A holder shows a few field choices of one credential (name and birth date at a bank,
# everything at a counter); past that many, the choices are forgotten and worked out again.
CHOICES_PER_CREDENTIAL = 4


@dataclass(slots=True)
class _Checked:
    payload: dict[str, Any]
    issuer: str
    kid: str
    key: ec.EllipticCurvePublicKey  # the key its signature verified with
    # Disclosure choices that passed, by their exact text ("~d1~d2~"): the same text always
    # hashes to the same digests, so a repeat showing skips decoding and hashing them.
    choices: dict[str, _Shown] = field(default_factory=dict)
    _holder_key: ec.EllipticCurvePublicKey | None = None

    def holder_key(self) -> ec.EllipticCurvePublicKey:
        """The key the issuer bound the credential to (`cnf.jwk`), made once; a refusal is
        not remembered."""
        if self._holder_key is None:
            jwk = _member(self.payload, "cnf").get("jwk")
            if not isinstance(jwk, dict):
                raise PresentationRefused("the credential is not bound to a holder key")
            self._holder_key = public_key(jwk)
        return self._holder_key

    def shown(self, presented: str, choice: str) -> _Shown:
        """The disclosures `choice` (the part of `presented` after the credential), refused
        unless each one is a committed claim; worked out once per distinct text."""
        known = self.choices.get(choice)
        if known is None:
            claims, withheld = _disclosed(self.payload, _disclosures_by_digest(
                choice.split(SEPARATOR)[1:-1]))
            known = _Shown(claims, withheld, digest(presented))
            if len(self.choices) >= CHOICES_PER_CREDENTIAL:
                self.choices.clear()
            self.choices[choice] = known
        return known


class VerifiedCredentials:
    """Credentials whose header, issuer and issuer signature passed, by their exact text, with
    their parsed payload, the key that verified them, the holder's key and the disclosure
    choices already worked out. A holder shows the same credential again and again (a daily metro
    gate, a bank at every sign-in): parsing the same text and re-checking the issuer's
    signature over identical bytes with the identical key can only give the same answer, so
    only validity, status and the key binding are checked anew. A changed credential is
    another text and never matches; a key no longer trusted no longer matches. Callers only
    read what is handed back. About 6 kB an entry shown with one choice of fields, 60 MB
    when full (the text itself is the key: comparing it costs less than hashing it with
    SHA-256, and no collision can match)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._verified: OrderedDict[str, _Checked] = OrderedDict()
        self._lock = Lock()

    def check(self, credential: str, trust: Trust) -> _Checked:
        known = self._verified.get(credential)
        if known is not None and trust.issuer_key(known.issuer, known.kid) == known.key:
            with self._lock:
                if credential in self._verified:
                    self._verified.move_to_end(credential)
            return known
        checked = _check_credential(credential, trust)
        with self._lock:
            self._verified[credential] = checked
            if len(self._verified) > self._capacity:
                self._verified.popitem(last=False)
        return checked

    def clear(self) -> None:
        with self._lock:
            self._verified.clear()


VERIFIED_CREDENTIALS = VerifiedCredentials()


def _check_credential(credential: str, trust: Trust) -> _Checked:
    """The issuer-signed part: its header, a named issuer and type, and the signature of a key
    the issuer is trusted with."""
    header, payload, signing_input, signature = signed_parts(credential, "the credential")
    check_header(header, CREDENTIAL_TYP, "the credential")
    issuer, vct = payload.get("iss"), payload.get("vct")
    if not isinstance(issuer, str) or not isinstance(vct, str) or not vct:
        raise PresentationRefused("the credential names no issuer or no type (vct)")
    kid = str(header.get("kid", ""))
    key = trust.issuer_key(issuer, kid)
    if key is None:
        raise PresentationRefused(f"the issuer {issuer} or its key is not trusted here")
    check_signature(key, signing_input, signature, "the credential",
                    N_("the credential signature does not verify"))
    return _Checked(payload, issuer, kid, key)


def verify(presentation: str, trust: Trust, expect: Expectations) -> VerifiedPresentation:
    """Every check a verifier owes: signature by a known issuer key, header type, validity
    period, status, disclosures committed to, and key binding with audience, nonce and age."""
    presentation = presentation.strip()
    credential, separator, _ = presentation.partition(SEPARATOR)
    if not separator:
        raise PresentationRefused("this is not an SD-JWT presentation")
    bound = presentation.rindex(SEPARATOR) + 1  # the key binding signs everything before it
    presented, key_binding = presentation[:bound], presentation[bound:]
    checked = VERIFIED_CREDENTIALS.check(credential, trust)
    payload = checked.payload
    issued_at, expires_at = _check_validity(payload, expect.now)
    shown = checked.shown(presented, presented[len(credential):])
    binding, signed = _check_key_binding(key_binding, checked, shown.sd_hash, expect)
    _check_status(payload, trust)
    return VerifiedPresentation(checked.issuer, payload["vct"], dict(shown.claims),
                                issued_at, expires_at, dict(payload["cnf"]["jwk"]),
                                binding["nonce"], expect.audience, binding["iat"],
                                b64url_encode(hashlib.sha256(signed).digest()), shown.withheld)
