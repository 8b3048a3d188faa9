"""Issuing documents into the wallet, their status, and verifying them: our verifier (live and
from an offline bundle) and the SD-JWT reference implementation as an independent second."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.errors import Conflict, Forbidden, Invalid, NotFound
from civicstack.registry import service as registry
from civicstack.registry.models import Person
from civicstack.wallet import catalogue, sdjwt, service
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.site import IN_PERSON_AUDIENCE, WalletSite
from civicstack.wallet.trust import BundleTrust, LiveTrust
from tests.support.people import CLERK, make_person
from tests.support.wallet import (
    DRIVING_LICENCE_SYSTEM,
    POLICE,
    give_id_card,
    grant,
    grant_licence_system,
    licence_claims,
    now,
    wallet_site,
)


@pytest.fixture
def wallet(session: Session, tmp_path: Path) -> WalletSite:
    """The catalogue loaded; the police act for the Ministry of Public Security's documents."""
    service.seed_catalogue(session)
    grant(session, POLICE)
    return wallet_site(session)


@pytest.fixture
def an(session: Session) -> Person:
    person = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
    give_id_card(session, person)
    return person


def in_person(presentation: str) -> sdjwt.Expectations:
    return sdjwt.Expectations(IN_PERSON_AUDIENCE, now())


def reference_verify(wallet: WalletSite, presentation: str, audience: str,
                     nonce: str) -> dict[str, Any]:
    """The SD-JWT reference implementation, fed only the issuer's published JWKS."""
    def issuer_key(issuer: str, header: dict[str, Any]) -> JWK:
        slug = issuer.rsplit("/", 1)[1]
        published = {k["kid"]: k for k in wallet.jwks(slug)["keys"]}
        return JWK(**published[header["kid"]])
    verified: dict[str, Any] = SDJWTVerifier(presentation, issuer_key, audience,
                                             nonce).get_verified_payload()
    return verified


def test_the_catalogue_seed_has_every_document_the_mission_names(session: Session,
                                                                  wallet: WalletSite) -> None:
    codes = {d.code for d in service.document_types(session)}
    assert codes == {d.code for d in catalogue.DOCUMENT_TYPES}
    assert {"id_card", "driving_licence", "health_insurance", "business_registration"} <= codes
    assert service.seed_catalogue(session) == 0  # idempotent


def test_an_id_card_from_the_register_verifies_here_offline_and_in_the_reference_library(
        session: Session, wallet: WalletSite, an: Person) -> None:
    issued = service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    presentation = service.present_in_person(
        session, wallet, an.personal_id_number, issued.credential.public_id,
        ["full_name", "date_of_birth"])

    live = sdjwt.verify(presentation, LiveTrust(session, wallet), in_person(presentation))
    bundle = json.loads(json.dumps(service.trust_bundle(session, wallet)))  # as a file holds it
    offline = sdjwt.verify(presentation, BundleTrust(bundle, now()), in_person(presentation))
    reference = reference_verify(wallet, presentation, IN_PERSON_AUDIENCE, live.nonce)

    expected = {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17"}
    assert live.claims == offline.claims == expected
    assert {k: reference[k] for k in expected} == expected
    assert "personal_id_number" not in reference  # withheld stays withheld
    assert reference["vct"] == live.vct == "urn:vn:civicstack:id_card:1"
    assert live.withheld == 8


def test_issuing_from_the_register_is_an_audited_read_and_replaces_the_earlier_copy(
        session: Session, wallet: WalletSite, an: Person) -> None:
    first = service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    second = service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    assert first.credential.status == "revoked"
    assert first.credential.status_reason == "replaced by a newer copy"
    assert [c.credential.public_id for c in
            service.cards(session, wallet, an.personal_id_number)] == [
        second.credential.public_id]
    actions = session.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_id == an.personal_id_number,
        AuditEntry.actor == "issuer:bo-cong-an")).all()
    assert "registry.person.history" in actions
    assert "wallet.credential.issue" in actions


def test_a_document_the_register_cannot_back_is_refused(session: Session,
                                                        wallet: WalletSite) -> None:
    no_card = make_person(session, "Trần Thị Bình", date(1992, 1, 2))
    with pytest.raises(Conflict, match="no active ID card"):
        service.issue_from_register(session, wallet, no_card.personal_id_number, "id_card")
    with pytest.raises(Conflict, match="no current marriage"):
        service.issue_from_register(session, wallet, no_card.personal_id_number,
                                    "marriage_certificate")
    with pytest.raises(Invalid, match="agency's own system"):
        service.issue_from_register(session, wallet, no_card.personal_id_number,
                                    "driving_licence")


def test_an_agency_pushes_a_licence_only_for_issuers_it_was_granted(
        session: Session, wallet: WalletSite, an: Person) -> None:
    with pytest.raises(Forbidden, match="may not issue"):
        service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                                "driving_licence", an.personal_id_number, licence_claims(an))
    grant_licence_system(session)
    issued = service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                                     "driving_licence", an.personal_id_number,
                                     licence_claims(an))
    assert sdjwt.disclosed_claims(issued.sd_jwt)["classes"] == ["A1", "B"]
    with pytest.raises(Forbidden):
        service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-gd-dt", "diploma",
                                an.personal_id_number, {})
    with pytest.raises(Invalid, match="not issued by"):
        service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                                "diploma", an.personal_id_number, {})


@pytest.mark.parametrize(("overrides", "field", "reason"), [
    ({"licence_number": ""}, "licence_number", "required"),
    ({"classes": "B"}, "classes", "must be of type array"),
    ({"valid_to": "01/06/2030"}, "valid_to", "must be a date written YYYY-MM-DD"),
    ({"eye_colour": "brown"}, "eye_colour", "not a claim of this document type"),
    ({"full_name": "Nguyễn Văn Ân"}, "full_name",
     "name and date of birth must match the population register"),
])
def test_pushed_claims_are_checked_against_the_schema_and_the_register(
        session: Session, wallet: WalletSite, an: Person, overrides: dict[str, Any],
        field: str, reason: str) -> None:
    grant_licence_system(session)
    with pytest.raises(Invalid) as refused:
        service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                                "driving_licence", an.personal_id_number,
                                licence_claims(an, **overrides))
    assert (field, reason) in {(e.field, e.reason) for e in refused.value.errors}


def status_in_bundle(session: Session, wallet: WalletSite, presentation: str) -> str:
    try:
        sdjwt.verify(presentation, BundleTrust(service.trust_bundle(session, wallet), now()),
                     in_person(presentation))
    except PresentationRefused as refused:
        return refused.reason
    return "valid"


def test_suspension_revocation_and_reinstatement_flip_the_published_status_bit(
        session: Session, wallet: WalletSite, an: Person) -> None:
    grant_licence_system(session)
    issued = service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                                     "driving_licence", an.personal_id_number,
                                     licence_claims(an))
    public_id = issued.credential.public_id
    shown = service.present_in_person(session, wallet, an.personal_id_number, public_id,
                                      ["licence_number"])
    assert status_in_bundle(session, wallet, shown) == "valid"

    service.report_lost(session, an.personal_id_number, public_id)
    assert status_in_bundle(session, wallet, shown) == "the credential is suspended"
    service.change_status(session, POLICE, public_id, "valid", "card found and returned")
    assert status_in_bundle(session, wallet, shown) == "valid"
    service.change_status(session, POLICE, public_id, "revoked", "licence withdrawn by court")
    assert status_in_bundle(session, wallet, shown) == "the credential has been revoked"
    with pytest.raises(Conflict, match="revoked document cannot become valid"):
        service.change_status(session, POLICE, public_id, "valid", "try to undo a revocation")
    with pytest.raises(Forbidden):
        service.change_status(session, CLERK, public_id, "revoked", "not their permission")
    with pytest.raises(NotFound):
        service.report_lost(session, "001099000001", public_id)  # not the holder's


def test_a_death_in_the_register_revokes_every_document_of_the_person(
        session: Session, wallet: WalletSite, an: Person) -> None:
    grant_licence_system(session)
    card = service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    licence = service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                                      "driving_licence", an.personal_id_number,
                                      licence_claims(an))
    registry.record_death(session, CLERK, an.personal_id_number, date(2026, 11, 1), "illness")
    assert card.credential.status == licence.credential.status == "revoked"
    assert licence.credential.status_reason == "holder recorded as deceased"
    with pytest.raises(Conflict, match="deceased"):
        service.push_credential(session, wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                                "driving_licence", an.personal_id_number, licence_claims(an))


def test_the_status_list_is_signed_compressed_and_resigned_only_after_a_change(
        session: Session, wallet: WalletSite, an: Person) -> None:
    issued = service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    first = service.status_list_token(session, wallet, "bo-cong-an", 1)
    assert service.status_list_token(session, wallet, "bo-cong-an", 1) == first
    assert len(first.token) < 1000  # 131,072 entries, two bits each, compressed
    service.change_status(session, POLICE, issued.credential.public_id, "suspended",
                          "under investigation")
    assert service.status_list_token(session, wallet, "bo-cong-an", 1).token != first.token
    with pytest.raises(NotFound):
        service.status_list_token(session, wallet, "bo-cong-an", 2)


def test_the_monthly_list_counts_what_each_agency_has_issued(
        session: Session, wallet: WalletSite, an: Person) -> None:
    service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    service.issue_from_register(session, wallet, an.personal_id_number, "residence_confirmation")
    listed = {row.document.code: row for row in service.integrated_documents(session)}
    assert listed["id_card"].issued == 1
    assert listed["id_card"].month == "2023-07"
    assert listed["id_card"].issuer.name == "Bộ Công an"
    assert listed["business_registration"].document.subject_kind == "organisation"
    assert listed["diploma"].issued == 0


def test_a_wallet_apps_copy_follows_its_portal_document(session: Session, wallet: WalletSite,
                                                       an: Person) -> None:
    portal = service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    app_key = json.loads(sdjwt.new_holder_key().export_public())
    copy = service.issue_credential(session, wallet, POLICE, "id_card", an.personal_id_number,
                                    sdjwt.disclosed_claims(portal.sd_jwt),
                                    wallet_app_key=app_key, copy_of=portal.credential)
    assert copy.credential.holder == "wallet-app"
    assert copy.credential.sealed_sd_jwt is None  # the app's copy is not kept here

    service.report_lost(session, an.personal_id_number, portal.credential.public_id)
    assert copy.credential.status == "suspended"
    service.change_status(session, POLICE, portal.credential.public_id, "valid", "card found")
    assert copy.credential.status == "valid"
    service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    assert portal.credential.status == copy.credential.status == "revoked"
    assert copy.credential.status_reason == "replaced by a newer copy"


def test_an_official_changes_only_documents_of_people_within_their_scope(
        session: Session, wallet: WalletSite, an: Person) -> None:
    issued = service.issue_from_register(session, wallet, an.personal_id_number, "id_card")
    hcmc_police = Actor("official", "police-hcmc", Scope.province("79"), Role.POLICE)
    grant(session, hcmc_police)
    with pytest.raises(NotFound, match="in your scope"):
        service.change_status(session, hcmc_police, issued.credential.public_id, "revoked",
                              "not their province")
    assert issued.credential.status == "valid"
