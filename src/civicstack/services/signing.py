"""The signed result of a dossier: a one-page A4 PDF (fpdf2, with the DejaVu font the package
carries, so Vietnamese renders on any machine) signed PAdES with the deciding agency's
certificate. The demo's agency certificates come from a CivicStack demo root CA made on first
use and kept, like every agency's key, sealed in the database for all instances; a deployment
would put its agencies' real keys behind the same `ResultSigner` protocol."""

from __future__ import annotations

import io
import re
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fpdf import FPDF
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko_certvalidator.registry import SimpleCertificateStore

from civicstack.kit.pdf import FONT, a4_document
from civicstack.kit.secrets import SecretStore

FIELD_NAME = "ChuKySoCoQuan"  # the agency's signature field
ORGANISATION = "CivicStack demo"
ROOT_NAME = "CivicStack demo root CA"
ROOT_YEARS, AGENCY_YEARS = 20, 3
AGENCY_CODE = re.compile(r"^[a-z0-9-]{1,40}$")
# The stored key pairs' names; an older version kept each as DATA_DIR/keys/<name>.pem.
AGENCIES = "agencies"
ROOT_RECORD = f"{AGENCIES}/root"


# --- the document ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ResultDocument:
    agency_name: str
    place: str  # where the agency sits, for the date line: "Phường Ba Đình, Thành phố Hà Nội"
    procedure_name: str
    receipt_code: str
    applicant_name: str
    applicant_pid: str
    decision_reason: str
    key_data: list[tuple[str, str]]  # (Vietnamese label, value) of the result
    decided_on: date
    official: str


def _pdf() -> FPDF:
    pdf = a4_document()
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.add_page()
    return pdf


def _header(pdf: FPDF, document: ResultDocument) -> None:
    """The agency on the left, the national motto on the right, as on every official paper."""
    top, half = pdf.get_y(), (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(half - 4, 5, document.agency_name.upper(), align="C")
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(half - 4, 5, f"Số: {document.receipt_code}/KQ", align="C")
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + half, top)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(half, 5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
    pdf.set_x(pdf.l_margin + half)
    pdf.multi_cell(half, 5, "Độc lập - Tự do - Hạnh phúc", align="C")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 4)
    pdf.set_font(FONT, "", 10)
    day = document.decided_on
    pdf.cell(0, 6, f"{document.place}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}",
             align="R", new_x="LMARGIN", new_y="NEXT")


def _row(pdf: FPDF, label: str, value: str) -> None:
    pdf.set_font(FONT, "B", 10)
    pdf.cell(55, 7, f"{label}:")
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 7, value or "—", new_x="LMARGIN", new_y="NEXT")


def render_result(document: ResultDocument) -> bytes:
    """The unsigned PDF of an approved dossier's result."""
    pdf = _pdf()
    pdf.set_title(f"{document.procedure_name} - {document.receipt_code}")
    pdf.set_author(document.agency_name)
    _header(pdf, document)
    pdf.ln(6)
    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 8, "KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH", align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 12)
    pdf.multi_cell(0, 7, document.procedure_name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    _row(pdf, "Mã hồ sơ", document.receipt_code)
    _row(pdf, "Người nộp hồ sơ", document.applicant_name)
    _row(pdf, "Số định danh cá nhân", document.applicant_pid)
    _row(pdf, "Quyết định", "Chấp thuận")
    _row(pdf, "Lý do", document.decision_reason)
    for label, value in document.key_data:
        _row(pdf, label, value)
    pdf.ln(10)
    third = (pdf.w - pdf.l_margin - pdf.r_margin) / 2
    pdf.set_x(pdf.l_margin + third)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(third, 6, "NGƯỜI QUYẾT ĐỊNH", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(pdf.l_margin + third)
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(third, 6, f"{document.official}\n(Ký số bởi {document.agency_name})",
                   align="C", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# --- signing --------------------------------------------------------------------------------

class ResultSigner(Protocol):
    """Signs a result PDF in the name of the agency that decided it."""

    def sign(self, agency_code: str, agency_name: str, pdf: bytes) -> bytes: ...


@dataclass(frozen=True)
class KeyPair:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
                      x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")])


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: KeyPair | None,
                 years: int) -> x509.Certificate:
    """The root when `issuer` is None (self-signed CA), else an end-entity signing cert."""
    moment = datetime.now(UTC)
    public = key.public_key()
    signing_key = issuer.key if issuer else key
    builder = (x509.CertificateBuilder()
               .subject_name(_name(subject))
               .issuer_name(issuer.certificate.subject if issuer else _name(subject))
               .public_key(public).serial_number(x509.random_serial_number())
               .not_valid_before(moment - timedelta(minutes=5))
               .not_valid_after(moment + timedelta(days=365 * years))
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   signing_key.public_key()), critical=False)
               .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None),
                              critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=issuer is not None, content_commitment=issuer is not None,
                   key_encipherment=False, data_encipherment=False, key_agreement=False,
                   key_cert_sign=issuer is None, crl_sign=issuer is None,
                   encipher_only=False, decipher_only=False), critical=True))
    return builder.sign(signing_key, hashes.SHA256())


def _pem(pair: KeyPair) -> bytes:
    return pair.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()) + \
        pair.certificate.public_bytes(serialization.Encoding.PEM)


def key_pair_of(pem: bytes) -> KeyPair:
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)  # only we make these pairs
    return KeyPair(key, x509.load_pem_x509_certificate(pem))


def _still_valid(pair: KeyPair) -> bool:
    return pair.certificate.not_valid_after_utc > datetime.now(UTC) + timedelta(days=1)


def _pem_still_valid(pem: bytes) -> bool:
    return _still_valid(key_pair_of(pem))


def new_key_pair(subject: str, issuer: KeyPair | None, years: int) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    return _pem(KeyPair(key, _certificate(subject, key, issuer, years)))


class StoredAgencySigner:
    """Agency keys issued by the demo root, kept as key pairs in the stored secrets (sealed
    under the root key, kit/secrets.py) so that every instance signs with the same certificates
    under the same root; an older version's files in `DATA_DIR/keys/agencies` are adopted. Each
    pair is read once per process and kept in memory until it nears its expiry."""

    def __init__(self, store: SecretStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._root: KeyPair | None = None
        self._agencies: dict[str, KeyPair] = {}

    def root_certificate(self) -> x509.Certificate:
        """What a verifier trusts to check the agencies' signatures."""
        with self._lock:
            return self._root_pair().certificate

    def agency_certificate(self, agency_code: str, agency_name: str) -> x509.Certificate:
        with self._lock:
            return self._agency_pair(agency_code, agency_name).certificate

    def _root_pair(self) -> KeyPair:
        if self._root is None:
            self._root = key_pair_of(self.store.key_pair(
                ROOT_RECORD, lambda: new_key_pair(ROOT_NAME, None, ROOT_YEARS), _pem_still_valid))
        return self._root

    def _agency_pair(self, agency_code: str, agency_name: str) -> KeyPair:
        if not AGENCY_CODE.match(agency_code):
            raise ValueError(f"not an agency code: {agency_code!r}")
        found = self._agencies.get(agency_code)
        if found is None or not _still_valid(found):
            root = self._root_pair()
            found = key_pair_of(self.store.key_pair(
                f"{AGENCIES}/{agency_code}", lambda: new_key_pair(agency_name, root, AGENCY_YEARS),
                _pem_still_valid))
            self._agencies[agency_code] = found
        return found

    def sign(self, agency_code: str, agency_name: str, pdf: bytes) -> bytes:
        with self._lock:
            pair, root = self._agency_pair(agency_code, agency_name), self._root_pair()
        der_key = pair.key.private_bytes(serialization.Encoding.DER,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        signer = signers.SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(
                pair.certificate.public_bytes(serialization.Encoding.DER)),
            signing_key=asn1_keys.PrivateKeyInfo.load(der_key),
            cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
                [asn1_x509.Certificate.load(
                    root.certificate.public_bytes(serialization.Encoding.DER))]))
        meta = signers.PdfSignatureMetadata(
            field_name=FIELD_NAME, md_algorithm="sha256", subfilter=SigSeedSubFilter.PADES,
            reason="Kết quả giải quyết thủ tục hành chính", name=agency_name)
        signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta,
                                  signer=signer)
        return bytes(signed.getvalue())
