"""Issue 18, item 2: the agencies' document-signing keys and the demo root CA that certifies
them are the same on every instance that shares the database and the root key, whatever its
data directory; an older installation's key files are adopted, and an expired certificate is
renewed once for all."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import transaction
from civicstack.kit.secrets import KEY_PAIR, StoredSecret
from civicstack.services.signing import (
    AGENCY_YEARS,
    ROOT_NAME,
    ROOT_YEARS,
    ResultDocument,
    StoredAgencySigner,
    key_pair_of,
    new_key_pair,
    render_result,
)
from civicstack.services.site import RESULT_SIGNER
from tests.support.keys import secret_store
from tests.support.web import Site, make_site

AGENCY, AGENCY_NAME = "so-tu-phap", "Sở Tư pháp"


@pytest.fixture
def no_key_pairs(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """A database no instance has signed anything on yet."""
    with transaction(session_factory) as session:
        session.execute(delete(StoredSecret).where(StoredSecret.purpose == KEY_PAIR))
    return session_factory


def result_pdf() -> bytes:
    return render_result(ResultDocument(
        AGENCY_NAME, "Thành phố Hà Nội", "Cấp bản sao trích lục", "HN-0001", "Trần Thị Mai",
        "001194000001", "Đủ điều kiện", [("Số bản sao", "2")], date(2026, 12, 10), "Lê Văn An"))


def signed_by(site: Site) -> StoredAgencySigner:
    signer = site.services[RESULT_SIGNER]
    assert isinstance(signer, StoredAgencySigner)
    return signer


def signing_certificate(pdf: bytes, root: x509.Certificate) -> bytes:
    """The certificate (DER) of the PDF's one signature, which pyHanko finds intact and trusted
    against `root` alone."""
    trusted = asn1_x509.Certificate.load(root.public_bytes(serialization.Encoding.DER))
    embedded = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert len(embedded) == 1
    status = validate_pdf_signature(embedded[0], ValidationContext(trust_roots=[trusted],
                                                                   allow_fetching=False))
    assert status.intact
    assert status.valid
    assert status.trusted
    return bytes(status.signing_cert.dump())


def test_two_instances_with_their_own_data_directories_sign_with_the_same_agency_certificate(
        no_key_pairs: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    first = make_site(database_url, tmp_path / "first")
    second = make_site(database_url, tmp_path / "second")

    root = signed_by(first).root_certificate()
    from_first = first.services[RESULT_SIGNER].sign(AGENCY, AGENCY_NAME, result_pdf())
    from_second = second.services[RESULT_SIGNER].sign(AGENCY, AGENCY_NAME, result_pdf())

    assert signed_by(second).root_certificate() == root
    assert signing_certificate(from_first, root) == signing_certificate(from_second, root)
    assert not (tmp_path / "first" / "keys" / "agencies").exists()
    assert not (tmp_path / "second" / "keys" / "agencies").exists()


def write_older_installation(data_dir: Path, agency_years: int) -> tuple[bytes, bytes]:
    """The root and one agency's PEM files as versions before the database kept them."""
    folder = data_dir / "keys" / "agencies"
    folder.mkdir(parents=True)
    root = new_key_pair(ROOT_NAME, None, ROOT_YEARS)
    agency = new_key_pair(AGENCY_NAME, key_pair_of(root), agency_years)
    (folder / "root.pem").write_bytes(root)
    (folder / f"{AGENCY}.pem").write_bytes(agency)
    return root, agency


def test_an_older_installation_keeps_its_agency_certificates_on_every_instance(
        no_key_pairs: sessionmaker[Session], database_url: str, tmp_path: Path) -> None:
    root_pem, agency_pem = write_older_installation(tmp_path / "older", AGENCY_YEARS)
    older = make_site(database_url, tmp_path / "older")
    newer = make_site(database_url, tmp_path / "newer")

    root = key_pair_of(root_pem).certificate
    agency = key_pair_of(agency_pem).certificate
    for site in (older, newer):
        assert signed_by(site).root_certificate() == root
        signed = site.services[RESULT_SIGNER].sign(AGENCY, AGENCY_NAME, result_pdf())
        assert signing_certificate(signed, root) == \
            agency.public_bytes(serialization.Encoding.DER)


def test_an_expired_agency_certificate_is_renewed_once_for_every_instance(
        no_key_pairs: sessionmaker[Session], tmp_path: Path) -> None:
    root_pem, expired_pem = write_older_installation(tmp_path, agency_years=0)
    store = secret_store(no_key_pairs)
    store.data_dir = tmp_path
    first, second = StoredAgencySigner(store), StoredAgencySigner(store)

    renewed = first.agency_certificate(AGENCY, AGENCY_NAME)

    assert renewed != key_pair_of(expired_pem).certificate
    assert renewed.issuer == key_pair_of(root_pem).certificate.subject
    assert second.agency_certificate(AGENCY, AGENCY_NAME) == renewed
    with transaction(no_key_pairs) as session:
        versions = session.scalars(select(StoredSecret.version).where(
            StoredSecret.purpose == KEY_PAIR, StoredSecret.name == f"agencies/{AGENCY}"))
        assert list(versions) == [2]  # the expired one replaced, not kept beside
