"""Administrators manage the procedure catalogue in the officials' console: the list with its
agency filter, a procedure's fields and its publication in each province, every mistake
refused beside its field, every change audited, and what citizens see afterwards. Through the
real app, on both databases."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from httpx import Response
from sqlalchemy import select

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.kit.errors import Conflict, NotFound
from civicstack.services import repository, service
from civicstack.services.models import Procedure
from civicstack.wallet.site import WALLET_SITE
from tests.integration.test_identity_web import citizen_sign_in
from tests.integration.test_services_web import error_next_to, submitted_birth
from tests.support.eid import make_active_account
from tests.support.services import CLERK_HANOI, citizen, parent_with_id_card, publish_everywhere
from tests.support.web import Site

JUDICIAL_RECORD = "DVC-TP-01"  # 200.000 đ at the counter, 100.000 đ online, everywhere


@pytest.fixture
def published(site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)


def form_of(site: Site, code: str) -> dict[str, Any]:
    """The edit form as it stands: every field, and each offering province with its fees."""
    with transaction(site.services.session_factory) as session:
        found = repository.procedure(session, code)
        assert found is not None
        offerings = repository.offerings_of(session, found.id)
        form: dict[str, Any] = {
            "name": found.name, "name_en": found.name_en, "online_level": found.online_level,
            "legal_basis": found.legal_basis, "fee": str(found.fee),
            "online_fee": str(found.online_fee), "processing_days": str(found.processing_days),
            "offered": [o.province_code for o in offerings]}
        if found.active:
            form["active"] = "1"
        for o in offerings:
            form[f"fee_{o.province_code}"] = "" if o.fee is None else str(o.fee)
            form[f"online_fee_{o.province_code}"] = "" if o.online_fee is None else \
                str(o.online_fee)
        return form


def save(site: Site, code: str, form: dict[str, Any]) -> Response:
    page = f"/console/catalogue/{code}"
    return site.client.post(page, follow_redirects=False,
                            data={**form, "csrf_token": site.csrf(page)})


def procedure_row(site: Site, code: str) -> Procedure:
    with transaction(site.services.session_factory) as session:
        found = repository.procedure(session, code)
        assert found is not None
        session.expunge(found)
        return found


def catalogue_updates(site: Site) -> list[AuditEntry]:
    with transaction(site.services.session_factory) as session:
        entries = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "services.catalogue.update")))
        session.expunge_all()
        return entries


def online_fee_in(site: Site, province: str, code: str) -> str | None:
    """The online fee citizens of the province see for the procedure; None if not listed."""
    html = site.client.get(f"/services?province={province}&lang=en").text
    item = re.search(rf'data-procedure="{code}">(.*?)</li>', html, re.S)
    if item is None:
        return None
    fee = re.search(r'class="online-fee">([^<]+)<', item.group(1))
    assert fee
    return fee.group(1).strip()


def row_of(html: str, code: str) -> str:
    """The procedure's row in the console's catalogue, its last cell last."""
    row = re.search(rf'data-procedure="{code}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {code}"
    return row.group(1).strip()


def test_the_catalogue_lists_every_procedure_with_its_provinces_and_filters_by_agency(
        site: Site, published: None) -> None:
    site.sign_in_as(Role.ADMIN)
    page = site.client.get("/console/catalogue?lang=vi")
    assert page.status_code == 200
    assert "Danh mục thủ tục" in page.text  # the console's navigation, and the page's title
    assert row_of(page.text, "DVC-XD-01").endswith("<td>3</td>")  # three provinces only
    assert row_of(page.text, "DVC-HT-01").endswith("<td>34</td>")
    justice = site.client.get("/console/catalogue?agency=so-tu-phap").text
    assert f'data-procedure="{JUDICIAL_RECORD}"' in justice
    assert 'data-procedure="DVC-HT-01"' not in justice


def test_an_admin_changes_fees_and_provinces_and_citizens_see_it(site: Site,
                                                                 published: None) -> None:
    assert online_fee_in(site, "79", JUDICIAL_RECORD) == "100.000 đ"
    site.sign_in_as(Role.ADMIN)
    form = form_of(site, JUDICIAL_RECORD)
    form["online_fee"] = "50000"
    form["online_fee_01"] = "0"  # Hà Nội waives it online
    form["offered"] = [code for code in form["offered"] if code != "48"]  # Đà Nẵng stops
    response = save(site, JUDICIAL_RECORD, form)
    assert response.status_code == 303
    assert "Đã lưu" in site.client.get(response.headers["location"] + "&lang=vi").text

    assert online_fee_in(site, "79", JUDICIAL_RECORD) == "50.000 đ"
    assert online_fee_in(site, "01", JUDICIAL_RECORD) == "Free"
    assert online_fee_in(site, "48", JUDICIAL_RECORD) is None
    [entry] = catalogue_updates(site)
    assert entry.subject_id == JUDICIAL_RECORD
    assert entry.detail["online_fee"] == [100000, 50000]
    assert entry.detail["provinces_withdrawn"] == ["48"]
    assert entry.detail["local_fees"] == {"01": [[None, None], [None, 0]]}
    assert entry.actor.startswith("official:admin-")


def test_saving_an_unchanged_form_changes_and_audits_nothing(site: Site,
                                                             published: None) -> None:
    site.sign_in_as(Role.ADMIN)
    assert save(site, JUDICIAL_RECORD, form_of(site, JUDICIAL_RECORD)).status_code == 303
    assert catalogue_updates(site) == []


def test_a_deactivated_procedure_leaves_the_citizens_catalogue_but_its_dossiers_go_on(
        site: Site, tmp_path: Path) -> None:
    factory = site.services.session_factory
    with transaction(factory) as session:
        publish_everywhere(session)
        mai = parent_with_id_card(session, site.services[WALLET_SITE])
    make_active_account(factory, site.services.pepper, mai, tmp_path / "mailbox")
    assert citizen_sign_in(site, mai) == 303
    receipt = submitted_birth(site)

    site.sign_in_as(Role.ADMIN)
    form = form_of(site, "DVC-HT-01")
    del form["active"]
    assert save(site, "DVC-HT-01", form).status_code == 303
    assert catalogue_updates(site)[0].detail == {"active": [True, False]}
    assert 'data-procedure="DVC-HT-01"' in site.client.get("/console/catalogue").text

    assert online_fee_in(site, "01", "DVC-HT-01") is None
    assert site.client.get("/services/DVC-HT-01").status_code == 404
    with transaction(factory) as session, pytest.raises(NotFound):
        service.start_draft(session, citizen(mai), mai.personal_id_number, "DVC-HT-01")
    assert citizen_sign_in(site, mai) == 303
    mine = site.client.get(f"/dossiers/{receipt}")
    assert mine.status_code == 200
    assert receipt in mine.text
    with transaction(factory) as session:  # and the agency still processes it
        assert service.transition(session, CLERK_HANOI, receipt, "receive").state == "received"


def test_withdrawing_a_province_refuses_only_new_drafts_there(site: Site,
                                                              published: None) -> None:
    factory = site.services.session_factory
    with transaction(factory) as session:
        mai = parent_with_id_card(session, site.services[WALLET_SITE])
        draft = service.start_draft(session, citizen(mai), mai.personal_id_number,
                                    JUDICIAL_RECORD).receipt_code
    site.sign_in_as(Role.ADMIN)
    form = form_of(site, JUDICIAL_RECORD)
    form["offered"] = [code for code in form["offered"] if code != "01"]
    assert save(site, JUDICIAL_RECORD, form).status_code == 303
    with transaction(factory) as session, pytest.raises(Conflict):
        service.start_draft(session, citizen(mai), mai.personal_id_number, JUDICIAL_RECORD)
    with transaction(factory) as session:
        kept = service.dossier_for(session, citizen(mai), draft)
        assert (kept.state, kept.fee) == ("draft", 100000)


def test_bad_values_are_refused_beside_their_fields_and_nothing_is_saved(
        site: Site, published: None) -> None:
    site.sign_in_as(Role.ADMIN)
    form = form_of(site, JUDICIAL_RECORD)
    form.update(name="  ", name_en="x" * 301, online_level="sometimes", fee="-5",
                online_fee="300000", processing_days="400", fee_01="abc",
                fee_79="1000", online_fee_79="2000")
    response = save(site, JUDICIAL_RECORD, form)
    assert response.status_code == 422
    html = response.text
    assert error_next_to(html, "name")
    assert error_next_to(html, "name_en")
    assert error_next_to(html, "online_level")
    assert error_next_to(html, "fee")
    assert error_next_to(html, "processing_days")
    assert error_next_to(html, "fee_01")
    assert "tại quầy" in error_next_to(html, "online_fee_79")  # local: never more online
    assert 'value="abc"' in html  # the form comes back as typed
    found = procedure_row(site, JUDICIAL_RECORD)
    assert (found.name_en, found.fee, found.processing_days) == (
        "Judicial record certificate", 200000, 10)
    assert catalogue_updates(site) == []


def test_an_online_fee_above_the_counter_fee_is_refused(site: Site, published: None) -> None:
    site.sign_in_as(Role.ADMIN)
    form = form_of(site, JUDICIAL_RECORD)
    form["online_fee"] = "250000"
    response = save(site, JUDICIAL_RECORD, form)
    assert response.status_code == 422
    assert "không được cao hơn" in error_next_to(response.text, "online_fee")


@pytest.mark.parametrize("path", ["/console/catalogue", f"/console/catalogue/{JUDICIAL_RECORD}"])
def test_officials_without_catalogue_manage_are_refused(site: Site, published: None,
                                                        path: str) -> None:
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    assert "/console/catalogue" not in site.client.get("/console/dossiers").text  # no link
    assert site.client.get(path).status_code == 403
    response = save(site, JUDICIAL_RECORD, form_of(site, JUDICIAL_RECORD) | {"fee": "1"})
    assert response.status_code == 403
    assert procedure_row(site, JUDICIAL_RECORD).fee == 200000


def test_an_unknown_procedure_is_not_found(site: Site, published: None) -> None:
    site.sign_in_as(Role.ADMIN)
    assert site.client.get("/console/catalogue/DVC-XX-99").status_code == 404


def test_the_catalogue_pages_send_a_stranger_to_sign_in(site: Site) -> None:
    response = site.client.get("/console/catalogue", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login")


def test_saving_without_the_csrf_token_is_refused(site: Site, published: None) -> None:
    site.sign_in_as(Role.ADMIN)
    response = site.client.post(f"/console/catalogue/{JUDICIAL_RECORD}",
                                data=form_of(site, JUDICIAL_RECORD) | {"fee": "1"})
    assert response.status_code == 403
    assert procedure_row(site, JUDICIAL_RECORD).fee == 200000
