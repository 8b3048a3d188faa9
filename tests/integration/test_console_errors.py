"""Issue 21: the console's htmx forms show their errors (a summary, and each next to its field)
in the page's language, and refusals are translated sentences that name units, roles and
permissions as people say them, never as codes."""

from __future__ import annotations

import json
import re

from civicstack.kit.authz import Role, Scope
from civicstack.registry.models import Person
from tests.support.web import Site

PURPOSE = "kiểm tra hồ sơ 2026-118"
HTMX_CONFIG = re.compile(r'<meta name="htmx-config" content=\'([^\']+)\'>')


def test_htmx_swaps_client_errors_into_the_page(site: Site) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    page = site.client.get("/console/registry").text

    config = json.loads(HTMX_CONFIG.search(page).group(1))  # type: ignore[union-attr]

    client_error = next(rule for rule in config["responseHandling"]
                        if re.fullmatch(rule["code"], "422"))
    assert client_error["swap"] is True


def test_a_search_without_a_purpose_shows_its_error_inline_in_vietnamese(
        site: Site, an: Person) -> None:
    site.sign_in_as(Role.AGENCY_APPROVER)
    site.client.cookies.set("lang", "vi")

    response = site.client.get("/console/registry", headers={"HX-Request": "true"},
                               params={"full_name": "Nguyễn", "purpose": ""})

    assert response.status_code == 422
    assert "Có lỗi cần sửa" in response.text
    assert 'href="#purpose"' in response.text
    assert re.search(r'id="purpose-error"[^>]*>hãy nêu lý do bạn cần dữ liệu', response.text)
    assert an.personal_id_number not in response.text


def test_a_search_outside_scope_names_the_province_next_to_its_field(site: Site) -> None:
    site.sign_in_as(Role.SERVICE_CLERK, Scope.province("01"))
    site.client.cookies.set("lang", "vi")

    response = site.client.get("/console/registry", headers={"HX-Request": "true"}, params={
        "full_name": "Nguyễn", "purpose": PURPOSE, "province_code": "79"})

    assert response.status_code == 403
    error = re.search(r'id="province_code-error"[^>]*>([^<]+)<', response.text)
    assert error
    assert error.group(1) == ("Thành phố Hồ Chí Minh nằm ngoài phạm vi của bạn "
                              "(Thành phố Hà Nội)")
    assert 'href="#province_code"' in response.text


def test_a_missing_permission_is_refused_in_vietnamese_words(site: Site) -> None:
    site.sign_in_as(Role.POLICE)

    page = site.client.get("/console/officials?lang=vi", headers={"Accept": "text/html"})

    assert page.status_code == 403
    assert "Vai trò Công an không được quản lý cán bộ" in page.text
    assert "officials:manage" not in page.text
    assert "police" not in page.text


def test_the_api_keeps_the_english_sentence(site: Site) -> None:
    key = site.key("reader", Role.PROGRAMME_OFFICER)

    problem = site.client.get("/api/v1/registry/persons/001090000001?purpose=checking",
                              headers={"Authorization": f"Bearer {key}"}).json()

    assert problem["detail"] == ("the Programme officer role may not read the population "
                                 "register")
