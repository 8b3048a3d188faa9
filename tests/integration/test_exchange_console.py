"""The data exchange in the officials' console: an admin adds and suspends members, asks for
an agreement on a member's behalf, grants or refuses requests (never without a justification),
runs data-quality checks and downloads the mismatches; other roles are refused."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta

from joserfc.jwk import ECKey

from civicstack.exchange import datasets
from civicstack.kit.authz import Role
from civicstack.kit.cli_support import CLI_ACTOR
from civicstack.kit.db import transaction
from civicstack.registry.models import Person
from tests.support import exchange
from tests.support.api import assert_problem, audit_entries
from tests.support.web import Site

MEMBERS = "/console/exchange"
AGREEMENTS = "/console/exchange/agreements"
QUALITY = "/console/exchange/quality"


def post(site: Site, path: str, page: str, **form: str) -> tuple[int, str]:
    response = site.client.post(f"{path}?lang=en", follow_redirects=False,
                                data={**form, "csrf_token": site.csrf(page)})
    return response.status_code, response.text


def test_an_admin_adds_and_suspends_members_and_bad_keys_are_shown_next_to_the_field(
        site: Site, an: Person) -> None:
    site.sign_in_as(Role.ADMIN)
    key = ECKey.generate_key("P-256", parameters={"kid": "tax-1"})
    public = json.dumps({"keys": [key.as_dict(private=False)]})
    status, page = post(site, MEMBERS, MEMBERS, code="mof-tax", name="Taxation",
                        kind="ministry", jwks="{not json")
    assert status == 422
    assert 'id="jwks-error"' in page
    assert post(site, MEMBERS, MEMBERS, code="mof-tax", name="Taxation", kind="ministry",
                jwks=public)[0] == 303
    listed = site.client.get(MEMBERS).text
    assert 'data-member="mof-tax"' in listed
    assert 'data-member="c06-population"' in listed  # seeded by the migration
    assert post(site, f"{MEMBERS}/mof-tax/suspend", MEMBERS)[0] == 303
    with transaction(site.services.session_factory) as session:
        exchange.agree(session, "mof-tax", "verify_person", ("full_name",), "tax check")
    refused = exchange.read(site, key, "mof-tax", "verify_person", an.personal_id_number,
                            "tax check")
    assert "suspended" in str(assert_problem(refused, 401))
    [entry] = audit_entries(site.services.session_factory, "exchange.member.suspend")
    assert entry.subject_id == "mof-tax"


def test_an_admin_grants_or_refuses_requests_for_a_provider_and_a_refusal_needs_a_reason(
        site: Site) -> None:
    exchange.join(site, "mof-tax")
    site.sign_in_as(Role.ADMIN)
    today = date.today()
    request = {"consumer": "mof-tax", "dataset": "residence", "fields": "permanent_ward_code",
               "purpose": "tax office assignment", "legal_basis": "Law on Tax Administration",
               "valid_from": today.isoformat(),
               "valid_to": (today + timedelta(days=30)).isoformat()}
    status, page = post(site, f"{AGREEMENTS}/requests", AGREEMENTS,
                        **{**request, "fields": "blood_type"})
    assert (status, 'id="fields-error"' in page) == (422, True)
    for _ in range(2):
        assert post(site, f"{AGREEMENTS}/requests", AGREEMENTS, **request)[0] == 303
    first, second = sorted(int(found) for found in
                           re.findall(r'data-request="(\d+)"', site.client.get(AGREEMENTS).text))
    status, page = post(site, f"{AGREEMENTS}/requests/{first}/decision", AGREEMENTS,
                        decision="refuse", justification="")
    assert (status, f'id="justification-{first}-error"' in page) == (422, True)
    why = "The ward is already on the tax return; no need to share it"
    assert post(site, f"{AGREEMENTS}/requests/{first}/decision", AGREEMENTS,
                decision="refuse", justification=why)[0] == 303
    assert post(site, f"{AGREEMENTS}/requests/{second}/decision", AGREEMENTS,
                decision="grant")[0] == 303
    page = site.client.get(AGREEMENTS).text
    assert why in page
    assert 'data-status="granted"' in page
    assert page.count("data-agreement=") == 1


def test_an_admin_runs_a_quality_check_and_downloads_the_mismatches(
        site: Site, an: Person) -> None:
    with transaction(site.services.session_factory) as session:
        datasets.publish(session, CLI_ACTOR, datasets.NewDataset(
            "c06-population", "vehicle_owners", "Vehicle owners", ("plate", "full_name"),
            ("plate",)))
        datasets.upload(session, CLI_ACTOR, "c06-population", "vehicle_owners", [
            {"personal_id_number": an.personal_id_number, "plate": "29A-12345",
             "full_name": "Nguyễn Văn An"},
            {"personal_id_number": "000000000000", "plate": "", "full_name": "Ai Đó"}])
    site.sign_in_as(Role.ADMIN)
    assert post(site, f"{QUALITY}/vehicle_owners/check", QUALITY)[0] == 303
    page = site.client.get(QUALITY + "?lang=en").text
    assert "50.0%" in page
    report_id = page.split("/console/exchange/quality/")[2].split(".csv")[0]
    mismatches = site.client.get(f"{QUALITY}/{report_id}.csv").text
    assert "000000000000,missing plate; the ID number is malformed" in mismatches


def test_officials_without_exchange_manage_are_refused(site: Site) -> None:
    site.sign_in_as(Role.POLICE)
    for page in (MEMBERS, AGREEMENTS, QUALITY):
        assert site.client.get(page).status_code == 403
    assert post(site, f"{MEMBERS}/c06-population/suspend", "/console/registry")[0] == 403
