"""`civicstack oidc client ...` and `civicstack keys ...`: registration with its refusals, the
secret shown once, disabling, and key rotation seen in the published JWKS."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from joserfc.jwk import ECKey
from typer.testing import CliRunner, Result

from civicstack.cli import app
from civicstack.kit.keys import KEY_CHECK_S, OIDC_RING
from tests.support.web import Site, make_site

runner = CliRunner()


def civicstack(*arguments: str) -> Result:
    return runner.invoke(app, list(arguments))


def add_client(*extra: str) -> Result:
    return civicstack("oidc", "client", "add", "Ngân hàng X",
                      "--redirect-uri", "https://bank.example/cb", *extra)


def test_a_client_is_registered_with_a_secret_shown_once(data_dir: Path) -> None:
    added = add_client("--scope", "openid", "--scope", "phone")
    assert added.exit_code == 0, added.output
    client_id = re.search(r"client_id: (\S+)", added.stdout)
    assert client_id
    secret = re.search(r"client_secret: (\S{40,})", added.stdout)
    assert secret
    listed = civicstack("oidc", "client", "list").stdout
    assert client_id.group(1) in listed
    assert "openid phone" in listed
    assert secret.group(1) not in listed


def test_a_private_key_jwt_client_gets_no_secret(data_dir: Path, tmp_path: Path) -> None:
    key = ECKey.generate_key("P-256", private=True)
    jwks = tmp_path / "rp.jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    added = add_client("--auth-method", "private_key_jwt", "--jwks-file", str(jwks))
    assert added.exit_code == 0, added.output
    assert "client_secret" not in added.stdout


def test_bad_registrations_are_refused_with_the_reason(data_dir: Path, tmp_path: Path) -> None:
    private = tmp_path / "private.jwks.json"
    private.write_text(json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=True)]}))
    cases = {
        ("--redirect-uri", "http://bank.example/cb"): "https",
        ("--redirect-uri", "https://bank.example/cb#frag"): "fragment",
        ("--scope", "profile"): "openid",
        ("--scope", "openid", "--scope", "everything"): "scopes",
        ("--acr", "urn:other:loa"): "acr",
        ("--auth-method", "private_key_jwt"): "JWK",
        ("--auth-method", "private_key_jwt", "--jwks-file", str(private)): "public",
        ("--auth-method", "none"): "auth_method",
    }
    for extra, reason in cases.items():
        refused = add_client(*extra)
        assert refused.exit_code == 1, (extra, refused.output)
        assert reason.lower() in refused.output.lower(), (extra, refused.output)
    assert civicstack("oidc", "client", "list").stdout == ""


def test_a_disabled_client_is_refused_at_the_authorization_endpoint(
        data_dir: Path, database_url: str) -> None:
    added = add_client()
    client_id = re.search(r"client_id: (\S+)", added.stdout)
    assert client_id
    assert civicstack("oidc", "client", "disable", client_id.group(1)).exit_code == 0
    again = civicstack("oidc", "client", "disable", client_id.group(1))
    assert again.exit_code == 1
    assert "already disabled" in again.output
    site = make_site(database_url, data_dir)
    page = site.client.get("/oidc/authorize", params={
        "client_id": client_id.group(1), "redirect_uri": "https://bank.example/cb"})
    assert page.status_code == 400
    assert civicstack("oidc", "client", "disable", "rp_nobody").exit_code == 1


def test_keys_rotate_publishes_the_new_keys_beside_the_old(data_dir: Path,
                                                           database_url: str) -> None:
    site: Site = make_site(database_url, data_dir)  # first start makes the keys
    before = {k["kid"] for k in site.client.get("/oidc/jwks").json()["keys"]}
    rotated = civicstack("keys", "rotate")
    assert rotated.exit_code == 0, rotated.output
    time.sleep(KEY_CHECK_S)  # how often the running server looks for a rotation
    after = {k["kid"] for k in site.client.get("/oidc/jwks").json()["keys"]}
    assert before < after
    assert len(after) == 4
    listed = [line for line in civicstack("keys", "list").stdout.splitlines()
              if line.startswith(f"{OIDC_RING}\t")]
    assert sum("retired" in line for line in listed) == 2
    assert sum(line.endswith("active") for line in listed) == 2
