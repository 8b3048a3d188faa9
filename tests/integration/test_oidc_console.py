"""Relying parties registered and disabled by an admin in the console; refused to other roles
and to bad input, shown next to the field."""

from __future__ import annotations

import base64

from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.oidc import clients
from tests.support.api import audit_entries
from tests.support.oidc import ADMIN
from tests.support.web import Site

PAGE = "/console/relying-parties"


def register(site: Site, **changes: object) -> str:
    form: dict[str, object] = {
        "name": "Ngân hàng Sông Hồng", "redirect_uris": "https://bank.example/callback\n",
        "post_logout_redirect_uris": "", "scopes": ["openid", "profile"],
        "acr_values": ["urn:civicstack:loa:1"], "auth_method": "client_secret_basic",
        "jwks": "", "id_token_alg": "ES256", "csrf_token": site.csrf(PAGE), **changes}
    response = site.client.post(PAGE + "?lang=en", data=form)
    return f"{response.status_code} {response.text}"


def test_an_admin_registers_a_relying_party_that_can_then_authenticate(site: Site) -> None:
    site.sign_in_as(Role.ADMIN)
    page = register(site)
    assert page.startswith("201")
    client_id = page.split('<code id="client-id">')[1].split("<")[0]
    secret = page.split('<code id="client-secret">')[1].split("<")[0]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    introspected = site.client.post("/oidc/introspect", data={"token": "none"},
                                    headers={"Authorization": f"Basic {basic}"})
    assert introspected.status_code == 200
    assert introspected.json() == {"active": False}
    assert secret not in site.client.get(PAGE).text  # shown once only
    [entry] = audit_entries(site.services.session_factory, "oidc.client.register")
    assert entry.subject_id == client_id

    disabled = site.client.post(f"{PAGE}/{client_id}/disable",
                                data={"csrf_token": site.csrf(PAGE)}, follow_redirects=False)
    assert disabled.status_code == 303
    refused = site.client.post("/oidc/introspect", data={"token": "none"},
                               headers={"Authorization": f"Basic {basic}"})
    assert refused.status_code == 401


def test_bad_input_is_shown_next_to_its_field_and_nothing_is_stored(site: Site) -> None:
    site.sign_in_as(Role.ADMIN)
    page = register(site, redirect_uris="http://bank.example/callback")
    assert page.startswith("422")
    assert 'id="redirect_uris-error"' in page
    assert "https" in page
    page = register(site, scopes=["profile"])
    assert page.startswith("422")
    assert "openid" in page
    page = register(site, auth_method="private_key_jwt", jwks="{not json")
    assert page.startswith("422")
    assert "JSON Web Key Set" in page
    with transaction(site.services.session_factory) as session:
        assert clients.list_clients(session, ADMIN) == []


def test_only_an_admin_manages_relying_parties(site: Site) -> None:
    site.sign_in_as(Role.POLICE)
    assert site.client.get(PAGE).status_code == 403
    refused = site.client.post(PAGE, data={"name": "x",
                                           "csrf_token": site.csrf("/console/accounts")})
    assert refused.status_code == 403
    assert "Relying parties" not in site.client.get("/console/accounts?lang=en").text


def test_an_admin_registers_logout_uris_checked_like_redirect_uris(site: Site) -> None:
    site.sign_in_as(Role.ADMIN)
    page = register(site, backchannel_logout_uri="http://bank.example/logout")
    assert page.startswith("422")
    assert 'id="backchannel_logout_uri-error"' in page
    assert register(site, backchannel_logout_uri="https://bank.example/logout",
                    backchannel_logout_session_required="true",
                    frontchannel_logout_uri="https://bank.example/fc").startswith("201")
    with transaction(site.services.session_factory) as session:
        [client] = clients.list_clients(session, ADMIN)
        assert client.backchannel_logout_uri == "https://bank.example/logout"
        assert client.backchannel_logout_session_required
        assert client.frontchannel_logout_uri == "https://bank.example/fc"
        assert not client.frontchannel_logout_session_required
