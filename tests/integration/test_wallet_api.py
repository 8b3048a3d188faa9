"""The wallet's HTTP surface: issuer keys and metadata, cacheable status lists, agencies
pushing documents (with grants and schema refusals), status changes, and the monthly list as
JSON and CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from civicstack.kit.audit import Actor
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from civicstack.wallet import catalogue, repository, service, statuslist
from tests.support.wallet import grant, health_card_claims, licence_claims
from tests.support.web import Site

ISSUER = "/wallet/issuers/bo-cong-an"


@pytest.fixture
def agency(site: Site) -> dict[str, str]:
    """The driving-licence system's operator key, granted for the Ministry of Public Security."""
    token = site.key("csgt-licences", Role.AGENCY_APPROVER)
    with transaction(site.services.session_factory) as session:
        service.seed_catalogue(session)
        grant(session, Actor("apikey", "csgt-licences"))
    return {"Authorization": f"Bearer {token}"}


def push(site: Site, headers: dict[str, str], person: Person, **overrides: Any) -> Any:
    return site.client.post(f"/api/v1{ISSUER}/credentials", headers=headers, json={
        "document_type": "driving_licence", "subject_id": person.personal_id_number,
        "claims": licence_claims(person, **overrides)})


def test_an_agency_pushes_a_licence_and_a_verifier_reads_its_status_list(
        site: Site, agency: dict[str, str], an: Person) -> None:
    pushed = push(site, agency, an)
    assert pushed.status_code == 201, pushed.text
    assert pushed.json()["status"] == "valid"

    keys = site.client.get(f"{ISSUER}/jwks.json")
    assert keys.status_code == 200
    assert "public" in keys.headers["cache-control"]
    assert all("d" not in key for key in keys.json()["keys"])
    metadata = site.client.get(f"/.well-known/jwt-vc-issuer{ISSUER}").json()
    assert metadata["issuer"].endswith(ISSUER)
    assert metadata["jwks"] == keys.json()

    listed = site.client.get(f"{ISSUER}/status/1")
    assert listed.headers["content-type"] == "application/statuslist+jwt"
    token = jwt.decode(listed.text, KeySet.import_key_set(keys.json()))
    assert token.header["typ"] == "statuslist+jwt"
    assert token.claims["sub"].endswith(f"{ISSUER}/status/1")
    assert token.claims["ttl"] == 300
    array = statuslist.decode(token.claims["status_list"]["lst"])
    assert not any(array)  # everything valid so far
    unchanged = site.client.get(f"{ISSUER}/status/1",
                                headers={"If-None-Match": listed.headers["etag"]})
    assert unchanged.status_code == 304


def test_a_revocation_over_the_api_flips_the_bit_a_verifier_downloads(
        site: Site, agency: dict[str, str], an: Person) -> None:
    public_id = push(site, agency, an).json()["id"]
    changed = site.client.post(f"/api/v1/wallet/credentials/{public_id}/status",
                               headers=agency, json={"status": "revoked",
                                                     "reason": "licence withdrawn by court"})
    assert changed.status_code == 200
    assert changed.json()["status"] == "revoked"
    keys = KeySet.import_key_set(site.client.get(f"{ISSUER}/jwks.json").json())
    token = jwt.decode(site.client.get(f"{ISSUER}/status/1").text, keys)
    array = statuslist.decode(token.claims["status_list"]["lst"])
    assert sum(bin(byte).count("1") for byte in array) == 1
    again = site.client.post(f"/api/v1/wallet/credentials/{public_id}/status",
                             headers=agency, json={"status": "valid",
                                                   "reason": "undo the revocation"})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


def change_status(site: Site, headers: dict[str, str], public_id: str, status: str) -> Any:
    return site.client.post(f"/api/v1/wallet/credentials/{public_id}/status", headers=headers,
                            json={"status": status, "reason": "an agency changes a document"})


def status_of(site: Site, public_id: str) -> str:
    with transaction(site.services.session_factory) as session:
        credential = repository.credential(session, public_id)
        assert credential is not None
        return credential.status


def test_a_key_without_a_grant_for_the_issuer_cannot_suspend_or_revoke_its_documents(
        site: Site, agency: dict[str, str], an: Person) -> None:
    social_insurance = site.key("bhxh-cards", Role.AGENCY_APPROVER)
    with transaction(site.services.session_factory) as session:
        grant(session, Actor("apikey", "bhxh-cards"), "bhxh-viet-nam")
    bhxh = {"Authorization": f"Bearer {social_insurance}"}
    card = site.client.post("/api/v1/wallet/issuers/bhxh-viet-nam/credentials", headers=bhxh,
                            json={"document_type": "health_insurance",
                                  "subject_id": an.personal_id_number,
                                  "claims": health_card_claims(an)}).json()["id"]
    licence = push(site, agency, an).json()["id"]
    hanoi_agency = {"Authorization": "Bearer " + site.key(
        "so-y-te-ha-noi", Role.AGENCY_APPROVER, Scope.province("01"))}  # An's province

    for public_id, status in ((card, "suspended"), (licence, "revoked")):
        refused = change_status(site, hanoi_agency, public_id, status)
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert status_of(site, public_id) == "valid"

    assert change_status(site, bhxh, card, "suspended").status_code == 200
    assert change_status(site, agency, licence, "revoked").status_code == 200
    assert (status_of(site, card), status_of(site, licence)) == ("suspended", "revoked")
    assert change_status(site, bhxh, licence, "suspended").status_code == 403


def test_pushes_are_refused_without_a_grant_and_with_bad_claims(
        site: Site, agency: dict[str, str], an: Person) -> None:
    stranger = {"Authorization": f"Bearer {site.key('a-bank', Role.AGENCY_APPROVER)}"}
    assert push(site, stranger, an).status_code == 403
    clerk = {"Authorization": f"Bearer {site.key('a-clerk', Role.SERVICE_CLERK)}"}
    assert push(site, clerk, an).status_code == 403
    assert push(site, {}, an).status_code == 401
    refused = push(site, agency, an, classes="B", licence_number="")
    assert refused.status_code == 422
    fields = {error["field"] for error in refused.json()["errors"]}
    assert {"classes", "licence_number"} <= fields
    wrong_issuer = site.client.post("/api/v1/wallet/issuers/bo-gd-dt/credentials",
                                    headers=agency, json={
                                        "document_type": "diploma",
                                        "subject_id": an.personal_id_number, "claims": {}})
    assert wrong_issuer.status_code == 403
    assert site.client.get("/wallet/issuers/nobody/jwks.json").status_code == 404
    assert site.client.get(f"{ISSUER}/status/7").status_code == 404


def test_the_monthly_list_of_integrated_documents_is_json_and_csv(
        site: Site, agency: dict[str, str], an: Person) -> None:
    push(site, agency, an)
    listed = site.client.get("/api/v1/wallet/integrated-documents").json()
    licences = next(row for row in listed if row["document_type"] == "driving_licence")
    assert licences == {"month": "2023-10", "agency": "Bộ Công an",
                        "agency_en": "Ministry of Public Security",
                        "document_type": "driving_licence", "name": "Giấy phép lái xe",
                        "name_en": "Driving licence", "kind": "person", "issued": 1}
    exported = site.client.get("/api/v1/wallet/integrated-documents.csv")
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert len(rows) == len(listed)
    assert next(r for r in rows if r["document_type"] == "driving_licence")["issued"] == "1"


def test_the_trust_bundle_carries_every_issuer_and_list(site: Site, agency: dict[str, str],
                                                        an: Person) -> None:
    push(site, agency, an)
    bundle = site.client.get("/api/v1/wallet/trust-bundle").json()
    assert [url.rsplit("/", 1)[1] for url in bundle["issuers"]] == [
        issuer.slug for issuer in catalogue.ISSUERS]
    assert list(bundle["status_lists"]) == [
        f"{next(iter(bundle['issuers'])).rsplit('/', 1)[0]}/bo-cong-an/status/1"]
