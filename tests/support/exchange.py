"""Members of the data exchange for tests: registered through the real service with a fresh
key, their signed one-use assertions, and their calls to the exchange API."""

from __future__ import annotations

import json
import secrets
import time
from datetime import date, timedelta
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy.orm import Session

from civicstack.exchange import service
from civicstack.kit.cli_support import CLI_ACTOR
from civicstack.kit.db import transaction
from tests.support.web import Site

SERVER = "http://testserver"
LEGAL_BASIS = "Law on Electronic Transactions 2023, art. 40"


def join(site: Site, code: str, kind: str = "ministry", name: str | None = None) -> ECKey:
    """Register a member by the public half of a new key; return the key."""
    key = ECKey.generate_key("P-256", parameters={"kid": f"{code}-1"})
    with transaction(site.services.session_factory) as session:
        service.register_member(session, CLI_ACTOR, code, name or code.upper(), kind,
                                {"keys": [key.as_dict(private=False)]})
    return key


def agree(session: Session, consumer: str, dataset: str, fields: tuple[str, ...],
          purpose: str, ends: date | None = None) -> None:
    today = date.today()
    service.add_agreement(session, CLI_ACTOR, service.NewAgreement(
        consumer, dataset, fields, purpose, LEGAL_BASIS, today - timedelta(days=30),
        ends or today + timedelta(days=365)))


def assertion(key: ECKey, audience: str, issuer: str) -> str:
    now = int(time.time())
    return jwt.encode({"alg": "ES256", "kid": key.kid},
                      {"iss": issuer, "sub": issuer, "aud": audience, "iat": now,
                       "exp": now + 120, "jti": secrets.token_hex(8)}, key)


def call(site: Site, key: ECKey, issuer: str, method: str, path: str,
         **kwargs: Any) -> httpx.Response:
    """One request to the exchange API, authenticated by a fresh assertion for its URL."""
    url = f"/api/v1/exchange/{path}"
    token = assertion(key, SERVER + url, issuer)
    return site.client.request(method, url, headers={
        "Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}, **kwargs)


def read(site: Site, key: ECKey, issuer: str, dataset: str, personal_id_number: str,
         purpose: str) -> httpx.Response:
    return call(site, key, issuer, "POST", dataset, json={
        "personal_id_number": personal_id_number, "purpose": purpose})


def opened(site: Site, token: str) -> dict[str, Any]:
    """The payload of a signed answer, checked with the exchange's published keys."""
    keys = KeySet.import_key_set(site.client.get("/exchange/jwks.json").json())
    payload: dict[str, Any] = json.loads(jws.deserialize_compact(token, keys).payload)
    return payload
