"""Our SD-JWT VC verifier refuses every forgery and misuse the field notes list, each with a
reason a verifier can act on; and no input, however broken, makes it fail any other way."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jwt
from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK

from civicstack.kit.b64 import b64url_decode, b64url_encode
from civicstack.wallet import sdjwt, statuslist
from civicstack.wallet.jws import PresentationRefused, digest
from civicstack.wallet.trust import BundleTrust
from tests.support.wallet import re_encoded_key_bindings

ISSUER = "https://civicstack.test/wallet/issuers/bo-cong-an"
STATUS_URI = f"{ISSUER}/status/1"
VERIFIER = "https://bank.example"
NONCE = "n-0S6_WzA2Mj"
REVOKED, SUSPENDED = 5, 6
ISSUER_KEY = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
HOLDER = sdjwt.new_holder_key()
CLAIMS = {"personal_id_number": "001090000001", "full_name": "Nguyễn Văn An",
          "date_of_birth": "1990-05-17", "sex": "M"}


def now() -> int:
    return int(time.time())


def bundle(list_expires_in: int = 3600) -> dict[str, Any]:
    signed = statuslist.sign(statuslist.ListClaims(STATUS_URI, now(), now() + list_expires_in,
                                                   300),
                             statuslist.encode({REVOKED: 1, SUSPENDED: 2}), ISSUER_KEY)
    return {"issuers": {ISSUER: {"keys": [ISSUER_KEY.as_dict(private=False)]}},
            "status_lists": {STATUS_URI: signed}}


def issuance(signer: ECKey = ISSUER_KEY, index: int = 0, issued: int | None = None,
             expires: int | None = None) -> str:
    moment = now() if issued is None else issued
    draft = sdjwt.CredentialDraft(ISSUER, "urn:vn:civicstack:id_card:1", CLAIMS, moment,
                                  expires or moment + 3600, STATUS_URI, index,
                                  json.loads(HOLDER.export_public()))
    return sdjwt.issue(draft, JWK(**signer.as_dict(private=True)), "k1")


def presentation(credential: str | None = None, disclose: tuple[str, ...] = ("full_name",),
                 audience: str = VERIFIER, nonce: str = NONCE) -> str:
    return sdjwt.present(credential or issuance(), list(disclose), HOLDER, audience, nonce)


def key_binding(presented: str, *, key: JWK = HOLDER, made_at: int | None = None,
                typ: str = "kb+jwt", audience: str = VERIFIER) -> str:
    """A key-binding JWT written by hand, for the cases the holder library won't produce."""
    signer = ECKey.import_key(json.loads(key.export_private()))
    return presented + jwt.encode({"alg": "ES256", "typ": typ}, {
        "aud": audience, "nonce": NONCE, "iat": made_at or now(),
        "sd_hash": digest(presented)}, signer)


def without_key_binding(shown: str) -> str:
    return shown[: shown.rindex("~") + 1]


def verify(shown: str, trust_bundle: dict[str, Any] | None = None) -> sdjwt.VerifiedPresentation:
    return sdjwt.verify(shown, BundleTrust(trust_bundle or bundle(), now()),
                        sdjwt.Expectations(VERIFIER, now(), NONCE))


def test_a_presentation_discloses_only_what_the_holder_chose() -> None:
    verified = verify(presentation(disclose=("full_name", "date_of_birth")))
    assert verified.claims == {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17"}
    assert verified.withheld == 2
    assert verified.issuer == ISSUER


def _replace_payload(shown: str, change: Callable[[dict[str, Any]], None]) -> str:
    credential, rest = shown.split("~", 1)
    header, payload, signature = credential.split(".")
    claims = json.loads(b64url_decode(payload))
    change(claims)
    return f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}~{rest}"


def _swap_header(shown: str, **header: str) -> str:
    credential, rest = shown.split("~", 1)
    _, payload, signature = credential.split(".")
    return f"{b64url_encode(json.dumps(header).encode())}.{payload}.{signature}~{rest}"


def _tamper_disclosure(shown: str) -> str:
    parts = shown.split("~")
    salt, name, _ = json.loads(b64url_decode(parts[1]))
    parts[1] = b64url_encode(json.dumps([salt, name, "Trần Văn Giả"]).encode())
    return "~".join(parts)


def _inject_disclosure(shown: str) -> str:
    foreign = b64url_encode(json.dumps(["c2FsdA", "nationality", "XX"]).encode())
    credential, rest = shown.split("~", 1)
    return key_binding(f"{credential}~{foreign}~{without_key_binding(rest)}")


def _repeat_disclosure(shown: str) -> str:
    parts = without_key_binding(shown).split("~")
    return key_binding("~".join([parts[0], parts[1], parts[1], ""]))


def _drop_disclosure_after_binding(shown: str) -> str:
    parts = shown.split("~")
    return "~".join([parts[0], *parts[2:]])


def _other_issuer_key() -> str:
    impostor = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    return presentation(issuance(signer=impostor))


REFUSALS: list[tuple[str, Callable[[], str], str]] = [
    ("tampered claim in the signed payload",
     lambda: _replace_payload(presentation(), lambda c: c.update(vct="urn:x")),
     "the credential signature does not verify"),
    ("tampered disclosure value", lambda: _tamper_disclosure(presentation()),
     "a disclosure is not part of this credential"),
    ("disclosure the issuer never committed to", lambda: _inject_disclosure(presentation()),
     "a disclosure is not part of this credential"),
    ("repeated disclosure", lambda: _repeat_disclosure(presentation()),
     "a disclosure is repeated"),
    ("signed by another key under the same key id", _other_issuer_key,
     "the credential signature does not verify"),
    ("unknown key id", lambda: _swap_header(presentation(), alg="ES256", typ="dc+sd-jwt",
                                            kid="k9"), "is not trusted here"),
    ("alg none", lambda: _swap_header(presentation(), alg="none", typ="dc+sd-jwt", kid="k1"),
     "must be signed with ES256"),
    ("wrong typ", lambda: _swap_header(presentation(), alg="ES256", typ="example+sd-jwt",
                                       kid="k1"), "type must be 'dc+sd-jwt'"),
    ("expired", lambda: presentation(issuance(issued=now() - 7200, expires=now() - 3600)),
     "the credential has expired"),
    ("issued in the future", lambda: presentation(issuance(issued=now() + 3600)),
     "the credential is issued in the future"),
    ("revoked", lambda: presentation(issuance(index=REVOKED)),
     "the credential has been revoked"),
    ("suspended", lambda: presentation(issuance(index=SUSPENDED)),
     "the credential is suspended"),
    ("no key binding", lambda: without_key_binding(presentation()),
     "the presentation has no key-binding JWT"),
    ("key binding by someone else's key",
     lambda: key_binding(without_key_binding(presentation()), key=sdjwt.new_holder_key()),
     "the key-binding JWT signature does not verify"),
    ("key binding with the wrong typ",
     lambda: key_binding(without_key_binding(presentation()), typ="JWT"),
     "type must be 'kb+jwt'"),
    ("made for another verifier", lambda: presentation(audience="https://other.example"),
     "made for another verifier"),
    ("answers another request", lambda: presentation(nonce="another-nonce"),
     "answers another request"),
    ("stale key binding",
     lambda: key_binding(without_key_binding(presentation()), made_at=now() - 600),
     "too old"),
    ("disclosure removed after binding",
     lambda: _drop_disclosure_after_binding(presentation(disclose=("full_name", "sex"))),
     "does not cover these disclosures"),
    ("not an SD-JWT at all", lambda: "hello", "not an SD-JWT presentation"),
]


@pytest.mark.parametrize(("case", "make", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_a_forged_or_misused_presentation_is_refused_with_its_reason(
        case: str, make: Callable[[], str], reason: str) -> None:
    with pytest.raises(PresentationRefused) as refused:
        verify(make())
    assert reason in refused.value.reason


def test_an_expired_status_list_in_the_cache_is_refused() -> None:
    with pytest.raises(PresentationRefused, match="cached status list has expired"):
        verify(presentation(), bundle(list_expires_in=-1))
    empty = {**bundle(), "status_lists": {}}
    with pytest.raises(PresentationRefused, match="not in the cached bundle"):
        verify(presentation(), empty)


def test_the_status_list_keeps_two_bits_per_credential() -> None:
    array = statuslist.decode(statuslist.encode({0: 1, 3: 2, 4: 1, 131_071: 2}))
    assert [statuslist.status_at(array, i) for i in (0, 1, 2, 3, 4, 131_071)] == [1, 0, 0, 2,
                                                                                   1, 2]
    assert len(array) == 131_072 // 4
    with pytest.raises(ValueError, match="outside the list"):
        statuslist.encode({131_072: 1})


VALID = presentation()


@settings(max_examples=150, deadline=None)
@given(position=st.integers(0, len(VALID) - 1), replacement=st.characters(
    codec="ascii", categories=["L", "N", "P"]))
def test_changing_any_character_is_refused_or_changes_nothing(position: int,
                                                              replacement: str) -> None:
    """Base64 has a few bits of slack in a last character; anything else must be refused,
    and always as a PresentationRefused (a 4xx at the HTTP edge, never a 500)."""
    changed = VALID[:position] + replacement + VALID[position + 1:]
    trust = BundleTrust(bundle(), now())
    try:
        verified = sdjwt.verify(changed, trust, sdjwt.Expectations(VERIFIER, now(), NONCE))
    except PresentationRefused:
        return
    assert verified.claims == {"full_name": "Nguyễn Văn An"}


def test_a_credential_shown_again_skips_only_the_issuer_signature_it_already_checked() -> None:
    credential = issuance()
    first, again = presentation(credential), presentation(credential)
    assert verify(first).claims == verify(again).claims == {"full_name": "Nguyễn Văn An"}
    impostor = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    distrusting = {**bundle(), "issuers": {ISSUER: {"keys": [impostor.as_dict(private=False)]}}}
    with pytest.raises(PresentationRefused, match="signature does not verify"):
        verify(presentation(credential), distrusting)  # same bytes, a key no longer trusted
    with pytest.raises(PresentationRefused, match="made for another verifier"):
        verify(presentation(credential, audience="https://other.example"))


def test_a_credential_changed_after_it_was_verified_once_is_parsed_and_checked_again() -> None:
    credential = issuance()
    verify(presentation(credential))  # now remembered as verified
    header, payload, signature = credential.split("~")[0].split(".")
    claims = json.loads(b64url_decode(payload))
    forged = ".".join((header, b64url_encode(json.dumps({**claims, "exp": claims["exp"] + 10**8})
                                             .encode()), signature))
    with pytest.raises(PresentationRefused, match="signature does not verify"):
        verify(presentation(forged + credential[credential.index("~"):]))


def test_a_re_encoded_key_binding_signature_is_the_same_presentation_or_refused() -> None:
    shown = presentation()
    first = verify(shown)
    variants = re_encoded_key_bindings(shown)
    assert verify(variants.pop("s -> n - s")).presentation_id == first.presentation_id
    for re_encoded in variants.values():
        with pytest.raises(PresentationRefused, match="signature is not base64url"):
            verify(re_encoded)


def test_a_remembered_choice_of_disclosures_still_needs_a_key_binding_over_it() -> None:
    credential = issuance()
    both = presentation(credential, disclose=("full_name", "sex"))
    assert verify(both).claims == {"full_name": "Nguyễn Văn An", "sex": "M"}  # remembered
    name_only = presentation(credential, disclose=("full_name",))
    assert verify(name_only).claims == {"full_name": "Nguyễn Văn An"}
    bound_to_name_only = without_key_binding(both) + name_only[name_only.rindex("~") + 1:]
    with pytest.raises(PresentationRefused, match="does not cover these disclosures"):
        verify(bound_to_name_only)
    with pytest.raises(PresentationRefused, match="not part of this credential"):
        verify(_tamper_disclosure(presentation(credential, disclose=("full_name", "sex"))))


def test_a_status_list_verified_once_is_not_trusted_past_a_change_of_list_or_key() -> None:
    shown = presentation(issuance(index=7))
    verify(shown)  # its list now verified and remembered
    revoking = statuslist.sign(statuslist.ListClaims(STATUS_URI, now(), now() + 3600, 300),
                               statuslist.encode({7: 1}), ISSUER_KEY)
    with pytest.raises(PresentationRefused, match="has been revoked"):
        verify(presentation(issuance(index=7)), {**bundle(), "status_lists": {
            STATUS_URI: revoking}})
    same_list, other_key = bundle(), ECKey.generate_key("P-256", parameters={"kid": "k1"},
                                                        private=True)
    verify(presentation(), same_list)
    credential = issuance(signer=other_key)
    rekeyed = {**same_list, "issuers": {ISSUER: {"keys": [other_key.as_dict(private=False)]}}}
    with pytest.raises(PresentationRefused, match="status list signature does not verify"):
        verify(presentation(credential), rekeyed)


def test_a_changed_key_is_never_the_remembered_one() -> None:
    """Issuer keys are remembered by their point; a holder's key is made anew."""
    jwk = json.loads(HOLDER.export_public())
    other = json.loads(sdjwt.new_holder_key().export_public())
    for make in (sdjwt.issuer_key, sdjwt.public_key):
        remembered = make(jwk)
        assert make(other) != remembered
        with pytest.raises(PresentationRefused, match="not a valid P-256 point"):
            make({**jwk, "y": other["y"]})  # off the curve: checked, not remembered


def test_a_credential_bound_to_no_holder_key_is_refused_each_time_it_is_shown() -> None:
    signed = jwt.encode({"alg": "ES256", "typ": "dc+sd-jwt", "kid": "k1"}, {
        "iss": ISSUER, "vct": "urn:vn:civicstack:id_card:1", "iat": now(), "exp": now() + 3600,
        "status": {"status_list": {"idx": 0, "uri": STATUS_URI}}, "_sd": []}, ISSUER_KEY)
    for _ in range(2):  # the second time from the remembered credential
        with pytest.raises(PresentationRefused, match="not bound to a holder key"):
            verify(key_binding(f"{signed}~"))
