"""Re-routing after the unit reform from the console (before, only the command line): a
national administrator sees how many dossiers and applicants would move, confirms, and the
worker's run moves them in batches with its progress polled by the page; asking twice starts
one run, every step is audited, and a province's administrator is refused."""

from __future__ import annotations

import re

from sqlalchemy import select

from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role, Scope
from civicstack.kit.db import transaction
from civicstack.services import rerouting, service
from civicstack.services.models import Dossier, RerouteRun
from civicstack.services.site import PAYMENTS
from civicstack.wallet.site import WALLET_SITE
from tests.support.services import citizen, parent_with_id_card, publish_everywhere
from tests.support.web import Site

# Phường Ngọc Hà of the old tỉnh Hà Giang (02), since 2025 in Phường Hà Giang 2 of Tuyên Quang.
ABOLISHED = ("02", "00692")
SUCCESSOR = ("08", "00691")
RESIDENCE = "DVC-CT-04"
REASON = "Nghị quyết 202/2025/QH15 sắp xếp đơn vị hành chính"
PAGE = "/console/catalogue/reroute"


def filed_before_the_reform(site: Site, dossiers: int) -> list[str]:
    """One applicant's dossiers, addressed to the abolished ward as before the reform."""
    with transaction(site.services.session_factory) as session:
        publish_everywhere(session)
        mai = parent_with_id_card(session, site.services[WALLET_SITE])
        codes = []
        for _ in range(dossiers):
            draft = service.start_draft(session, citizen(mai), mai.personal_id_number,
                                        RESIDENCE)
            filed = service.submit(session, site.services[WALLET_SITE], citizen(mai), draft,
                                   site.services[PAYMENTS])
            filed.province_code, filed.ward_code = ABOLISHED
            codes.append(filed.receipt_code)
        return codes


def units(site: Site, receipt_codes: list[str]) -> set[tuple[str, str]]:
    with transaction(site.services.session_factory) as session:
        return {(d.province_code, d.ward_code) for d in session.scalars(
            select(Dossier).where(Dossier.receipt_code.in_(receipt_codes)))}


def post(site: Site, path: str, **fields: str) -> tuple[int, str, str]:
    # Any console page carries the session's token (the sign-out form): one every role opens.
    response = site.client.post(path, follow_redirects=False,
                                data={"csrf_token": site.csrf("/console/password"), **fields})
    return response.status_code, response.text, response.headers.get("location", "")


def test_a_dry_run_counts_then_a_confirmed_run_moves_the_dossiers_with_its_progress(
        site: Site) -> None:
    codes = filed_before_the_reform(site, 3)
    site.sign_in_as(Role.ADMIN)
    assert site.client.get(PAGE + "?lang=en").status_code == 200

    status, page, _ = post(site, PAGE + "/preview", ward_codes=ABOLISHED[1], reason=REASON)
    assert status == 200
    assert "3 open dossiers of 1 applicants would move." in page
    assert "Hà Giang 2" in page
    assert units(site, codes) == {ABOLISHED}  # a dry run changes nothing

    status, _, run_page = post(site, PAGE, ward_codes=ABOLISHED[1], reason=REASON)
    assert status == 303
    assert post(site, PAGE, ward_codes=ABOLISHED[1], reason=REASON)[2] == run_page  # once
    progress = site.client.get(run_page + "/status").text
    assert 'hx-trigger="every 2s"' in progress
    assert 'value="0"' in progress

    rerouting.BATCH = 2  # two batches, so the progress is seen between them
    try:
        with transaction(site.services.session_factory) as session:
            assert rerouting.advance(session) is not None
        assert re.search(r'max="3" value="2"', site.client.get(run_page + "/status").text)
        assert rerouting.run_reroutes(site.services) is not None
    finally:
        rerouting.BATCH = 200
    done = site.client.get(run_page + "/status").text
    assert 'data-state="done"' in done
    assert "hx-trigger" not in done  # the page stops asking
    assert units(site, codes) == {SUCCESSOR}
    with transaction(site.services.session_factory) as session:
        run = session.scalars(select(RerouteRun)).one()
        assert (run.state, run.total, run.moved) == ("done", 3, 3)
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("services.reroute.%"))).all()
        assert sorted(actions) == ["services.reroute.done", "services.reroute.start"]
    again = post(site, PAGE, ward_codes=ABOLISHED[1], reason=REASON)[2]
    assert again != run_page  # a finished run is not reopened; the new one finds nothing
    assert rerouting.run_reroutes(site.services) is not None
    with transaction(site.services.session_factory) as session:
        assert [r.moved for r in session.scalars(select(RerouteRun).order_by(RerouteRun.id))
                ] == [3, 0]


def test_a_code_that_is_no_abolished_ward_is_refused_on_the_form(site: Site) -> None:
    site.sign_in_as(Role.ADMIN)
    status, page, _ = post(site, PAGE + "/preview", ward_codes="00004 99999", reason=REASON)
    assert status == 422
    assert 'class="error-summary"' in page
    assert 'value="Nghị quyết 202/2025/QH15' in page
    status, page, _ = post(site, PAGE + "/preview", ward_codes=ABOLISHED[1], reason="")
    assert status == 422
    assert 'id="reason-error"' in page


def test_only_a_national_administrator_may_re_route(site: Site) -> None:
    site.sign_in_as(Role.ADMIN, Scope.province("08"))
    assert site.client.get(PAGE).status_code == 403
    assert post(site, PAGE, ward_codes=ABOLISHED[1], reason=REASON)[0] == 403
    site.sign_in_as(Role.SERVICE_CLERK)
    assert site.client.get(PAGE).status_code == 403
