"""Benchmark: wallet presentations verified per second per core, against the raw ES256 verify
rate of `cryptography` measured in the same run; issuance per second; QR payload sizes.

1. Verify: N distinct holders, each with its own ID-card credential and a presentation of two
   claims with a key-binding JWT, checked by our verifier (`wallet.sdjwt.verify`) against an
   offline trust bundle with a signed status list, and by the SD-JWT reference
   implementation's verifier on the same presentations. A first showing needs two ECDSA P-256
   verifications (issuer, holder), so 0.5 x the raw rate would be the ceiling for any verifier
   if the holder's key were already made and used; the holder's key is new on a first
   showing, so the run also times those two verifications alone, the holder's key made from
   its point each time (the true ceiling: nothing else of a presentation is parsed or
   checked). Our caches are cleared before each first showing. Then the same credentials
   shown a second time (a new key binding each): the credential was parsed and its issuer
   signature checked already (sdjwt.VerifiedCredentials), so one ECDSA verification remains
   and the ceiling is 1.0.
2. Issue: SD-JWT VC issuance alone (reference library, one ES256 signature), and the whole
   `wallet.service.issue_credential` on SQLite (schema and register checks, status index,
   sealing, audit entry, commit).
3. QR: for each document type, the presentation's size with the usual fields and with every
   field disclosed, raw and as the `VN1:` text the wallet shows (wallet/qr.py: zlib + Base45,
   alphanumeric mode), and the QR version that holds each at error correction L (a phone
   screen is not a scratched card); version 40, the largest, holds 2,953 bytes or 4,296
   alphanumeric characters at L.

4. With `--against PATH` (another checkout's `src/civicstack/wallet/sdjwt.py`, e.g. main's),
   a paired A/B in this one process instead: that verifier and ours alternate in blocks on the
   same presentations, each block's rate divided by the raw ES256 rate measured just before,
   so a busy machine moves both sides of each pair alike; medians of the paired ratios.

    .venv/bin/python benchmarks/wallet.py --presentations 3000
    .venv/bin/python benchmarks/wallet.py --against OTHER/src/civicstack/wallet/sdjwt.py
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import segno
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from joserfc.jwk import ECKey
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support builds people through the register's service

from tests.support.people import make_person  # noqa: E402
from tests.support.wallet import give_id_card, wallet_site  # noqa: E402

from civicstack.kit.audit import Actor  # noqa: E402
from civicstack.kit.b64 import b64url_decode  # noqa: E402
from civicstack.kit.db import make_engine, make_session_factory, transaction  # noqa: E402
from civicstack.kit.migrate import upgrade  # noqa: E402
from civicstack.registry.units import sync_reference_units  # noqa: E402
from civicstack.wallet import catalogue, demo, qr, sdjwt, service, statuslist  # noqa: E402
from civicstack.wallet.site import WalletSite  # noqa: E402
from civicstack.wallet.trust import BundleTrust  # noqa: E402

ISSUER = "https://civicstack.test/wallet/issuers/bo-cong-an"
STATUS_URI = f"{ISSUER}/status/1"
VERIFIER = "https://bank.example"
ROUNDS = 5
ID_CARD = {"personal_id_number": "001090000001", "full_name": "Nguyễn Thị Thanh Hương",
           "date_of_birth": "1990-05-17", "sex": "F", "nationality": "VN",
           "place_of_origin": "Xã Tân Hội, Thành phố Hà Nội",
           "permanent_address": "12 Phố Huế, Phường Hai Bà Trưng, Thành phố Hà Nội",
           "card_number": "001190000001", "issued_on": "2021-03-01",
           "card_expires_on": "2036-03-01"}


def rate(work: Callable[[], None], count: int) -> float:
    """Operations per second over one timed round of `count` operations."""
    started = time.perf_counter()
    for _ in range(count):
        work()
    return count / (time.perf_counter() - started)


def best_rate(work: Callable[[], None], count: int) -> float:
    """Operations per second: the median of ROUNDS timed rounds of `count` operations."""
    return statistics.median(rate(work, count) for _ in range(ROUNDS))


def raw_es256(message_size: int) -> Callable[[], None]:
    key = ec.generate_private_key(ec.SECP256R1())
    message = b"x" * message_size
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    algorithm = ec.ECDSA(hashes.SHA256())
    return lambda: public.verify(signature, message, algorithm)


class Population:
    """Distinct holders, credentials and presentations, made before any timing."""

    def __init__(self, size: int) -> None:
        self.issuer_key = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
        signer = JWK(**self.issuer_key.as_dict(private=True))
        moment = int(time.time())
        self.presentations, self.nonces = [], []
        self.again, self.again_nonces = [], []  # the same credentials shown a second time
        for index in range(size):
            holder = sdjwt.new_holder_key()
            draft = sdjwt.CredentialDraft(ISSUER, "urn:vn:civicstack:id_card:1", ID_CARD, moment,
                                          moment + 86_400, STATUS_URI, index,
                                          json.loads(holder.export_public()))
            issued = sdjwt.issue(draft, signer, "k1")
            for shown, nonces in ((self.presentations, self.nonces),
                                  (self.again, self.again_nonces)):
                nonce = sdjwt.new_nonce()
                shown.append(sdjwt.present(issued, ["full_name", "date_of_birth"], holder,
                                           VERIFIER, nonce))
                nonces.append(nonce)
        revoked = dict.fromkeys(range(size, size + 1000), 1)  # a list that is not all zeroes
        self.bundle = {"issuers": {ISSUER: {"keys": [self.issuer_key.as_dict(private=False)]}},
                       "status_lists": {STATUS_URI: statuslist.sign(
                           statuslist.ListClaims(STATUS_URI, moment, moment + 86_400, 300),
                           statuslist.encode(revoked), self.issuer_key)}}

    def ours(self, returning: bool = False, verifier: ModuleType = sdjwt) -> Callable[[], None]:
        """First showings (no cache helps: caches are cleared before each), or second
        showings of credentials whose issuer signature this verifier already checked.
        `verifier` is this checkout's `sdjwt` module or another one's (`--against`)."""
        trust = BundleTrust(self.bundle, int(time.time()))
        cursor = iter(range(10**12))
        shown, nonces = (self.again, self.again_nonces) if returning else (
            self.presentations, self.nonces)
        if returning:
            verifier.VERIFIED_CREDENTIALS.clear()
            for presentation, nonce in zip(self.presentations, self.nonces, strict=True):
                verifier.verify(presentation, trust, verifier.Expectations(
                    VERIFIER, int(time.time()), nonce))

        # Verifiers before 8 December 2026 also cached holder keys by their point.
        clear_holder_keys = getattr(verifier, "holder_key_cache_clear", lambda: None)

        def verify_next() -> None:
            index = next(cursor) % len(shown)
            if not returning:
                clear_holder_keys()
                verifier.VERIFIED_CREDENTIALS.clear()
            verifier.verify(shown[index], trust, verifier.Expectations(
                VERIFIER, int(time.time()), nonces[index]))
        return verify_next

    def two_signatures(self) -> Callable[[], None]:
        """What no verifier of a first showing avoids: the issuer's signature, and the
        holder's key made from its point and used for its key binding's signature. The parts
        are decoded before any timing."""
        issuer_key = sdjwt.issuer_key(self.issuer_key.as_dict(private=False))
        parts = [_signed_parts(shown) for shown in self.presentations]
        cursor = iter(range(10**12))
        algorithm = ec.ECDSA(hashes.SHA256())

        def verify_next() -> None:
            signed, signature, holder_point, bound, binding_signature = parts[
                next(cursor) % len(parts)]
            issuer_key.verify(signature, signed, algorithm)
            holder = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), holder_point)
            holder.verify(binding_signature, bound, algorithm)
        return verify_next

    def reference(self) -> Callable[[], None]:
        public = JWK(**self.issuer_key.as_dict(private=False))
        cursor = iter(range(10**12))

        def verify_next() -> None:
            index = next(cursor) % len(self.presentations)
            SDJWTVerifier(self.presentations[index], lambda issuer, header: public, VERIFIER,
                          self.nonces[index]).get_verified_payload()
        return verify_next


def _signed_parts(presentation: str) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """The credential's signing input and DER signature, the holder's point, and the key
    binding's signing input and DER signature."""
    credential, key_binding = presentation.split("~")[0], presentation.rsplit("~", 1)[1]
    jwk = sdjwt.credential_payload(credential)["cnf"]["jwk"]
    point = b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])
    return (*_der_signed(credential), point, *_der_signed(key_binding))


def _der_signed(jwt: str) -> tuple[bytes, bytes]:
    signed, _, signature = jwt.rpartition(".")
    raw = b64url_decode(signature)
    return signed.encode("ascii"), encode_dss_signature(int.from_bytes(raw[:32], "big"),
                                                        int.from_bytes(raw[32:], "big"))


def verification(size: int) -> None:
    population = Population(size)
    signing_input = population.presentations[0].split("~")[0].rsplit(".", 1)[0]
    for _ in range(2):  # the machine is shared: two runs show the spread
        raw = best_rate(raw_es256(len(signing_input)), size)
        bound = best_rate(population.two_signatures(), size)
        ours = best_rate(population.ours(), size)
        returning = best_rate(population.ours(returning=True), size)
        reference = best_rate(population.reference(), max(size // 4, 50))
        print(f"raw ES256 verify (cryptography)   {raw:9,.0f}/s")
        print(f"the two signatures alone          {bound:9,.0f}/s   ratio {bound / raw:.3f} "
              f"(a first showing's ceiling: the holder's key made and used anew)")
        print(f"presentations verified, ours      {ours:9,.0f}/s   ratio {ours / raw:.3f} "
              f"(first showings; {ours / bound:.2f} of the ceiling)")
        print(f"  the same credentials shown again {returning:8,.0f}/s   ratio "
              f"{returning / raw:.3f} (issuer signature already checked; ceiling 1.0)")
        print(f"presentations verified, sd-jwt    {reference:9,.0f}/s   ratio "
              f"{reference / raw:.3f}   ours / sd-jwt {ours / reference:.1f}x")


def load_verifier(path: Path) -> ModuleType:
    """Another checkout's sdjwt.py as a module of its own, with caches of its own."""
    spec = importlib.util.spec_from_file_location("baseline_sdjwt", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def paired(size: int, baseline: ModuleType, block: int = 400, pairs: int = 40) -> None:
    """Ours and `baseline` alternating in blocks, each block's rate over the raw ES256 rate
    measured just before it; the medians of the paired ratios (first showings, then repeat
    showings, whose caches each verifier fills for itself)."""
    population = Population(size)
    raw = raw_es256(len(population.presentations[0].split("~")[0].rsplit(".", 1)[0]))
    for label, returning in (("first showing", False), ("shown again", True)):
        ours = population.ours(returning)
        theirs = population.ours(returning, verifier=baseline)
        ours_raw, theirs_raw, ours_theirs = [], [], []
        for index in range(pairs):
            order = (ours, theirs) if index % 2 == 0 else (theirs, ours)
            rates = {}
            for verify_next in order:
                reference = rate(raw, block)
                rates[verify_next] = rate(verify_next, block) / reference
            ours_raw.append(rates[ours])
            theirs_raw.append(rates[theirs])
            ours_theirs.append(rates[ours] / rates[theirs])
        print(f"{label:14} ours {statistics.median(ours_raw):.3f} x raw, baseline "
              f"{statistics.median(theirs_raw):.3f} x raw, ours / baseline "
              f"{statistics.median(ours_theirs):.3f} (medians of {pairs} pairs of "
              f"{block})")


def issuing_site(factory: sessionmaker[Session], base_url: str = "https://civicstack.test"
                 ) -> WalletSite:
    """The wallet over a fresh database, every issuer's signing key made before any issuing
    transaction (made inside one, SQLite would find its own database locked)."""
    site = wallet_site(factory, base_url)
    for issuer in {document.issuer for document in catalogue.DOCUMENT_TYPES}:
        site.ring(issuer)
    return site


def issuance(count: int) -> None:
    key = JWK.generate(kty="EC", crv="P-256")
    holder = json.loads(sdjwt.new_holder_key().export_public())
    moment = int(time.time())
    draft = sdjwt.CredentialDraft(ISSUER, "urn:vn:civicstack:id_card:1", ID_CARD, moment,
                                  moment + 86_400, STATUS_URI, 1, holder)
    print(f"SD-JWT VC issued (library only)   {best_rate(lambda: sdjwt.issue(draft, key, 'k'), count):9,.0f}/s")  # noqa: E501
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        upgrade(url)
        factory = make_session_factory(make_engine(url))
        site = issuing_site(factory)
        with transaction(factory) as session:
            sync_reference_units(session)
            service.seed_catalogue(session)
            people = [make_person(session, f"Nguyễn Văn {i}", date(1980, 1, 1 + i % 28))
                      for i in range(count)]
            rows = [{"personal_id_number": p.personal_id_number, "full_name": p.full_name,
                     "date_of_birth": p.date_of_birth.isoformat()} for p in people]
        actor = Actor("cli", "bench")
        started = time.perf_counter()
        for row in rows:
            with transaction(factory) as session:
                service.issue_credential(session, site, actor, "health_insurance",
                                         row["personal_id_number"], demo._health(row))
        rate = count / (time.perf_counter() - started)
    print(f"documents issued (service+SQLite) {rate:9,.0f}/s  (one commit each)")


def sample_claims() -> dict[str, dict[str, Any]]:
    """Typical claims of every document type: register documents from a real register,
    agency documents from the demo builders."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/qr.db"
        upgrade(url)
        factory = make_session_factory(make_engine(url))
        site = issuing_site(factory, "https://civicstack.gov.vn")
        with transaction(factory) as session:
            sync_reference_units(session)
            service.seed_catalogue(session)
            person = make_person(session, "Nguyễn Thị Thanh Hương", date(1990, 5, 17))
            give_id_card(session, person)
            pid = person.personal_id_number
            row = {"personal_id_number": pid, "full_name": person.full_name,
                   "date_of_birth": "1990-05-17"}
            found = {code: claims(row) for code, _, claims in demo.AGENCY_DOCUMENTS}
            for code in ("id_card", "residence_confirmation", "birth_certificate"):
                found[code] = sdjwt.disclosed_claims(
                    service.issue_from_register(session, site, pid, code).sd_jwt)
    found["social_insurance"] = {**row, "insurance_number": "0190123456",
                                 "contribution_months": 132}
    found["judicial_record"] = {**row, "certificate_number": "123/2026/LLTP",
                                "criminal_record": "Không có án tích", "issued_on": "2026-11-02"}
    found["marriage_certificate"] = {**row, "spouse_name": "Trần Văn Minh",
                                     "spouse_personal_id_number": "001088000123",
                                     "married_on": "2015-10-10"}
    found["family_relations"] = {**row, "relatives": [
        {"relation": r, "full_name": n, "personal_id_number": "001088000123",
         "date_of_birth": "1988-01-01"} for r, n in (("spouse", "Trần Văn Minh"),
                                                     ("child", "Trần Gia Bảo"))]}
    found["course_certificate"] = {**row, "course_title": "Kỹ năng số cơ bản cho mọi người",
                                   "publisher": "Bộ Khoa học và Công nghệ",
                                   "completed_on": "2026-11-20", "score": 90}
    found["business_registration"] = {
        "tax_code": "0101234567", "name": "Công ty TNHH Phần mềm Sông Hồng",
        "legal_representative": "Nguyễn Thị Thanh Hương",
        "head_office": "12 Phố Huế, Phường Hai Bà Trưng, Thành phố Hà Nội",
        "registered_on": "2018-04-02"}
    return found


# A value of typical size for each claim type, for document types with no sample above.
PLACEHOLDERS: dict[str, Any] = {
    "string": "Công ty TNHH Phần mềm Sông Hồng", "date": "2026-11-20", "integer": 1_250,
    "boolean": True, "array": ["B1", "C1"], "object": {"code": "01", "name": "Hà Nội"}}


def placeholder_claims(document: catalogue.DocumentTypeSeed) -> dict[str, Any]:
    """Claims of the catalogue's types for a document type added since the samples were
    written, so that the table covers every type the catalogue has (marked with *)."""
    return {claim.name: PLACEHOLDERS[claim.type] for claim in document.claims}


def qr_sizes() -> None:
    claims_by_type = sample_claims()
    key = JWK.generate(kty="EC", crv="P-256")
    holder = sdjwt.new_holder_key()
    moment = int(time.time())
    print(f"{'document type':34} {'fields':>6} {'raw bytes':>9} {'QR':>3} "
          f"{'VN1 chars':>9} {'QR':>3}   (* claims of the catalogue's types, placeholder "
          f"values)")
    for document in catalogue.DOCUMENT_TYPES:
        claims = claims_by_type.get(document.code) or placeholder_claims(document)
        code = document.code + ("" if document.code in claims_by_type else " *")
        draft = sdjwt.CredentialDraft(
            f"https://civicstack.gov.vn/wallet/issuers/{document.issuer}",
            f"urn:vn:civicstack:{document.code}:1", claims, moment, moment + 86_400,
            f"https://civicstack.gov.vn/wallet/issuers/{document.issuer}/status/1", 104_729,
            json.loads(holder.export_public()))
        issued = sdjwt.issue(draft, key, "3xZkHkS0q1M")
        usual = [name for name in ("full_name", "date_of_birth", "name", "tax_code")
                 if name in claims]
        for label, disclose in (("usual", usual), ("all", list(claims))):
            shown = sdjwt.present(issued, disclose, holder, "urn:civicstack:in-person",
                                  sdjwt.new_nonce())
            packed = qr.encode(shown)
            print(f"{code if label == 'usual' else '':34} {label:>6} {len(shown):>9} "
                  f"{qr_version(shown):>3} {len(packed):>9} {qr_version(packed):>3}")


def qr_version(text: str) -> str:
    try:
        return str(segno.make(text, error="l", micro=False, boost_error=False).version)
    except segno.DataOverflowError:
        return "-"  # more than a version-40 code holds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presentations", type=int, default=3000)
    parser.add_argument("--issuances", type=int, default=300)
    parser.add_argument("--against", type=Path, help="another checkout's wallet/sdjwt.py: "
                        "run the paired A/B against its verifier, and nothing else")
    arguments = parser.parse_args()
    if arguments.against:
        paired(arguments.presentations, load_verifier(arguments.against))
        return
    verification(arguments.presentations)
    issuance(arguments.issuances)
    qr_sizes()


if __name__ == "__main__":
    main()
