"""The organisation's documents, authority and affairs (issue 22): the eight organisation
documents, each issued only to a registered, active organisation and held in its wallet; the
signed authorisation a member shows a bank, revoked when the authorisation ends; the dossiers
filed for the organisation, listed to its members who may file for it. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.b64 import b64url_decode, b64url_encode
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, Invalid
from civicstack.organisations import service as organisations
from civicstack.registry.models import Person
from civicstack.services import service as services
from civicstack.services.payments import LocalTreasury
from civicstack.wallet import catalogue, verifier
from civicstack.wallet import service as wallet
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.site import WALLET_SITE, WalletSite
from tests.integration.test_identity_web import citizen_sign_in
from tests.integration.test_organisations_acting import (  # noqa: F401  (a fixture)
    an_represents,
    authorise,
    citizen,
)
from tests.support.organisations import DEMO_TAX_CODE, OTHER_TAX_CODE, signed
from tests.support.services import publish_everywhere
from tests.support.wallet import DRIVING_LICENCE_SYSTEM, give_id_card, grant
from tests.support.web import Site

OFFICER = Actor("apikey", "org-officer", NATIONAL, Role.POLICE)
AGENCY = Actor("apikey", "agency-system", NATIONAL, Role.AGENCY_APPROVER)
BANK_COUNTER = Actor("official", "bank-kyc", role=Role.POLICE)  # holds wallet:verify
SAMPLE = {"string": "Mẫu", "date": "2024-03-15", "integer": 12, "array": ["mẫu"]}


@pytest.fixture
def factory(site: Site) -> sessionmaker[Session]:
    found: sessionmaker[Session] = site.services.session_factory
    return found


@pytest.fixture
def site_wallet(site: Site) -> WalletSite:
    with transaction(site.services.session_factory) as session:
        wallet.seed_catalogue(session)
    return site.services[WALLET_SITE]


def organisation_claims(document: catalogue.DocumentTypeSeed, tax_code: str) -> dict[str, Any]:
    """Claims for any organisation document, from its schema: the organisation's tax code and
    name, a sample value of each other claim's type."""
    own = {"tax_code": tax_code, "name": "Công ty TNHH Phần mềm Sông Hồng"}
    return {claim.name: own.get(claim.name, SAMPLE[claim.type]) for claim in document.claims}


def decide(factory: sessionmaker[Session], action: str) -> None:
    with transaction(factory) as session:
        organisations.decide(session, OFFICER, DEMO_TAX_CODE, action, "court order 12/2026")


# --- the eight organisation documents -------------------------------------------------------

def test_there_are_eight_organisation_documents_each_named_in_both_languages() -> None:
    documents = [d for d in catalogue.DOCUMENT_TYPES if d.subject_kind == "organisation"]
    assert len(documents) == 8 == len({d.code for d in documents})
    for document in documents:
        assert document.name
        assert document.name_en != document.name
        assert all(claim.label and claim.label_en for claim in document.claims)
        assert document.claims[0].name == "tax_code"


def test_each_organisation_document_goes_to_the_organisation_wallet(
        site: Site, factory: sessionmaker[Session], site_wallet: WalletSite,
        an_represents: str) -> None:  # noqa: F811
    with transaction(factory) as session:
        for document in catalogue.ORGANISATION_DOCUMENTS:
            wallet.issue_credential(session, site_wallet, AGENCY, document.code, DEMO_TAX_CODE,
                                    organisation_claims(document, DEMO_TAX_CODE))
    with transaction(factory) as session:
        representative = signed(session, an_represents).account
        _, held = wallet.organisation_cards(session, site_wallet, representative,
                                            DEMO_TAX_CODE)
        held_codes = sorted(card.document.code for card in held)
    assert held_codes == sorted(d.code for d in catalogue.ORGANISATION_DOCUMENTS)


@pytest.mark.parametrize("document", catalogue.ORGANISATION_DOCUMENTS, ids=lambda d: d.code)
def test_no_organisation_document_for_an_unregistered_or_suspended_organisation(
        site: Site, factory: sessionmaker[Session], site_wallet: WalletSite,
        an_represents: str, document: catalogue.DocumentTypeSeed) -> None:  # noqa: F811
    with transaction(factory) as session, pytest.raises(Invalid, match="registered"):
        wallet.issue_credential(session, site_wallet, AGENCY, document.code, OTHER_TAX_CODE,
                                organisation_claims(document, OTHER_TAX_CODE))
    decide(factory, "suspend")
    with transaction(factory) as session, pytest.raises(Conflict, match="not active"):
        wallet.issue_credential(session, site_wallet, AGENCY, document.code, DEMO_TAX_CODE,
                                organisation_claims(document, DEMO_TAX_CODE))


# --- the member's signed authorisation --------------------------------------------------------

def authorisation_of(factory: sessionmaker[Session], site_wallet: WalletSite,
                     member: Person) -> wallet.Card:
    """The member's authorisation card, as their wallet shows it (issued on opening)."""
    with transaction(factory) as session:
        wallet.issue_authorisations(session, site_wallet, member.personal_id_number)
    with transaction(factory) as session:
        [found] = [c for c in wallet.cards(session, site_wallet, member.personal_id_number)
                   if c.document.code == wallet.AUTHORISATION]
        return found


def shown(factory: sessionmaker[Session], site_wallet: WalletSite,
          member: Person, found: wallet.Card) -> str:
    with transaction(factory) as session:
        return wallet.present_in_person(
            session, site_wallet, member.personal_id_number, found.credential.public_id,
            ["full_name", "personal_id_number", "organisation_tax_code", "organisation_name",
             "role", "permissions", "valid_to"])


def checked(factory: sessionmaker[Session], site_wallet: WalletSite,
            presentation: str) -> dict[str, Any]:
    """What the wallet verifier at the bank's counter reads from the presentation."""
    with transaction(factory) as session:
        verified = verifier.verify_in_person(session, site_wallet, BANK_COUNTER, presentation)
    return {claim.name: claim.value for claim in verified.claims}


@pytest.fixture
def hoa(site: Site, factory: sessionmaker[Session],
        an_represents: str) -> Person:  # noqa: F811
    """Lê Thị Hoa, authorised by An to file services for Sông Hồng Software."""
    member = citizen(site, "Lê Thị Hoa", date(1988, 2, 3))
    authorise(factory, an_represents, member, "services:file")
    return member


def test_an_authorised_member_shows_a_bank_a_signed_authorisation_that_verifies(
        site: Site, factory: sessionmaker[Session], site_wallet: WalletSite,
        hoa: Person) -> None:
    found = authorisation_of(factory, site_wallet, hoa)
    assert found.credential.status == "valid"
    read = checked(factory, site_wallet, shown(factory, site_wallet, hoa, found))
    assert read == {"full_name": "Lê Thị Hoa", "personal_id_number": hoa.personal_id_number,
                    "organisation_tax_code": DEMO_TAX_CODE,
                    "organisation_name": "Công ty TNHH Phần mềm Sông Hồng",
                    "role": "authorised", "permissions": ["services:file"],
                    "valid_to": found.claims["valid_to"]}
    assert date.fromisoformat(read["valid_to"]).year >= date.today().year
    with transaction(factory) as session:  # opening the wallet again issues no second one
        assert wallet.issue_authorisations(session, site_wallet, hoa.personal_id_number) == []
    assert citizen_sign_in(site, hoa) == 303  # the portal's wallet page lists it
    assert "Authorisation to act for an organisation" in site.client.get("/wallet?lang=en").text


def test_the_authorisation_is_revoked_when_the_representative_withdraws_it(
        factory: sessionmaker[Session], site_wallet: WalletSite,
        an_represents: str, hoa: Person) -> None:  # noqa: F811
    found = authorisation_of(factory, site_wallet, hoa)
    before, after = (shown(factory, site_wallet, hoa, found) for _ in range(2))
    assert checked(factory, site_wallet, before)["role"] == "authorised"
    with transaction(factory) as session:
        view = organisations.organisation_page(session, signed(session, an_represents).account,
                                               DEMO_TAX_CODE)
        [member_id] = [m.member.id for m in view.members if m.member.role == "authorised"]
        organisations.revoke_member(session, signed(session, an_represents), DEMO_TAX_CODE,
                                    member_id)
    with pytest.raises(PresentationRefused, match="revoked"):
        checked(factory, site_wallet, after)
    with transaction(factory) as session:  # and no new one: she no longer acts for it
        assert wallet.issue_authorisations(session, site_wallet, hoa.personal_id_number) == []


def test_suspension_revokes_every_authorisation_and_reinstatement_issues_new_ones(
        factory: sessionmaker[Session], site_wallet: WalletSite, hoa: Person) -> None:
    found = authorisation_of(factory, site_wallet, hoa)
    presentation = shown(factory, site_wallet, hoa, found)
    decide(factory, "suspend")
    with pytest.raises(PresentationRefused, match="revoked"):
        checked(factory, site_wallet, presentation)
    decide(factory, "reinstate")
    renewed = authorisation_of(factory, site_wallet, hoa)
    assert renewed.credential.public_id != found.credential.public_id
    assert checked(factory, site_wallet, shown(factory, site_wallet, hoa, renewed))["role"] == \
        "authorised"


def with_disclosure_changed(presentation: str, name: str, value: object) -> str:
    """The presentation with one disclosed claim rewritten (same salt), the rest untouched."""
    credential, *disclosures, key_binding = presentation.split("~")
    changed = []
    for disclosure in disclosures:
        salt, claim, _ = json.loads(b64url_decode(disclosure))
        changed.append(b64url_encode(json.dumps([salt, claim, value]).encode())
                       if claim == name else disclosure)
    assert changed != disclosures
    return "~".join([credential, *changed, key_binding])


def test_a_tampered_authorisation_is_refused(
        factory: sessionmaker[Session], site_wallet: WalletSite, hoa: Person) -> None:
    found = authorisation_of(factory, site_wallet, hoa)
    presentation = shown(factory, site_wallet, hoa, found)
    forged = with_disclosure_changed(presentation, "role", "representative")
    with pytest.raises(PresentationRefused):
        checked(factory, site_wallet, forged)


# --- the organisation's dossiers -------------------------------------------------------------

def filed_for_the_organisation(factory: sessionmaker[Session], site_wallet: WalletSite,
                               member: Person, payments: LocalTreasury,
                               tax_code: str | None = DEMO_TAX_CODE) -> str:
    """A dossier the member files (and pays) online, for the organisation unless told not
    to; returns its receipt code."""
    with transaction(factory) as session:
        publish_everywhere(session)
        give_id_card(session, member)
        wallet.issue_from_register(session, site_wallet, member.personal_id_number, "id_card")
        actor = Actor("citizen", member.personal_id_number)
        draft = services.start_draft(session, actor, member.personal_id_number, "DVC-CC-01",
                                     tax_code)
        return services.submit(session, site_wallet, actor, draft, payments).receipt_code


def test_dossiers_filed_for_the_organisation_are_listed_to_its_members_who_may_file(
        site: Site, factory: sessionmaker[Session], site_wallet: WalletSite, an: Person,
        an_represents: str, hoa: Person, tmp_path: Path) -> None:  # noqa: F811
    payments = LocalTreasury(tmp_path / "treasury")
    binh = citizen(site, "Trần Thị Bình", date(1992, 3, 8))
    viewer = citizen(site, "Phạm Thị Lan", date(1995, 6, 7))
    stranger = citizen(site, "Đỗ Thị Mai", date(1991, 9, 9))
    authorise(factory, an_represents, binh, "services:file")
    authorise(factory, an_represents, viewer, "documents:view")
    for_company = filed_for_the_organisation(factory, site_wallet, hoa, payments)
    for_herself = filed_for_the_organisation(factory, site_wallet, hoa, payments, None)
    page = f"/dossiers/organisations/{DEMO_TAX_CODE}?lang=en"

    for member in (binh, an):
        assert citizen_sign_in(site, member) == 303
        assert f'/dossiers/organisations/{DEMO_TAX_CODE}"' in site.client.get("/dossiers").text
        listed = site.client.get(page)
        assert listed.status_code == 200
        assert "Dossiers of Công ty TNHH Phần mềm Sông Hồng" in listed.text
        assert for_company in listed.text
        assert for_herself not in listed.text  # her own affair, not the company's
        # another member's dossier is listed, not opened: it stays its applicant's
        assert site.client.get(f"/dossiers/{for_company}").status_code == 404

    assert citizen_sign_in(site, viewer) == 303
    refused = site.client.get(page)
    assert refused.status_code == 403
    assert for_company not in refused.text
    assert citizen_sign_in(site, stranger) == 303
    assert site.client.get(page).status_code == 404
    assert for_company not in site.client.get(page).text
    assert citizen_sign_in(site, hoa) == 303
    assert f'href="/dossiers/{for_company}"' in site.client.get(page).text  # hers to open


def test_no_agency_key_may_push_an_authorisation_of_its_own_making(
        factory: sessionmaker[Session], site_wallet: WalletSite, an: Person,
        an_represents: str) -> None:  # noqa: F811
    """Only the organisation register's memberships make one: a key granted for the Ministry
    of Public Security's documents (a driving licence system) cannot."""
    with transaction(factory) as session:
        grant(session, DRIVING_LICENCE_SYSTEM)
    claims = {"personal_id_number": an.personal_id_number, "full_name": an.full_name,
              "date_of_birth": an.date_of_birth.isoformat(),
              "organisation_tax_code": OTHER_TAX_CODE, "organisation_name": "Ghost Co",
              "role": "representative", "permissions": ["services:file"],
              "valid_to": "2030-01-01"}
    with transaction(factory) as session, pytest.raises(Invalid, match="organisation register"):
        wallet.push_credential(session, site_wallet, DRIVING_LICENCE_SYSTEM, "bo-cong-an",
                               wallet.AUTHORISATION, an.personal_id_number, claims)
