"""The data exchange: a member reads exactly its agreement's fields, signed; everything outside
an agreement is refused with the reason; every request is chained in a log whose tampering is
detected; the citizen sees each read."""

from __future__ import annotations

import json
import secrets
import time
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import ECKey, KeySet
from sqlalchemy import select, text, update
from typer.testing import CliRunner

from civicstack.cli import app as cli
from civicstack.exchange import log, service
from civicstack.exchange.models import ExchangeMessage
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role
from civicstack.kit.cli_support import CLI_ACTOR
from civicstack.kit.db import transaction
from civicstack.kit.errors import Forbidden, Invalid
from civicstack.registry.models import Person
from tests.support.api import assert_problem
from tests.support.web import Site

ENDPOINT = "http://testserver/api/v1/exchange/verify_person"
PURPOSE = "tax registration check"


@pytest.fixture
def tax_key(site: Site) -> ECKey:
    """The tax department's system, registered by its public key, with an agreement for two
    fields of verify_person."""
    key = ECKey.generate_key("P-256", parameters={"kid": "tax-1"})
    with transaction(site.app.state.session_factory) as session:
        service.register_member(session, CLI_ACTOR, "mof-tax", "General Department of Taxation",
                                "ministry", {"keys": [key.as_dict(private=False)]})
        agree(session, ("full_name", "date_of_birth"))
    return key


def agree(session: object, fields: tuple[str, ...], dataset: str = "verify_person",
          ends: date | None = None) -> None:
    today = date.today()
    service.add_agreement(session, CLI_ACTOR, service.NewAgreement(  # type: ignore[arg-type]
        "mof-tax", dataset, fields, PURPOSE, "Law on Tax Administration 2019, art. 26",
        today - timedelta(days=30), ends or today + timedelta(days=365)))


def assertion(key: ECKey, audience: str = ENDPOINT, issuer: str = "mof-tax") -> str:
    now = int(time.time())
    return jwt.encode({"alg": "ES256", "kid": key.kid},
                      {"iss": issuer, "sub": issuer, "aud": audience, "iat": now,
                       "exp": now + 120, "jti": secrets.token_hex(8)}, key)


def ask(site: Site, key: ECKey, person: Person, dataset: str = "verify_person",
        purpose: str = PURPOSE, token: str | None = None) -> httpx.Response:
    return site.client.post(f"/api/v1/exchange/{dataset}", json={
        "personal_id_number": person.personal_id_number, "purpose": purpose},
        headers={"Authorization": f"Bearer {token or assertion(key, f'http://testserver/api/v1/exchange/{dataset}')}"})


def opened(site: Site, token: str) -> dict[str, object]:
    keys = KeySet.import_key_set(site.client.get("/exchange/jwks.json").json())
    payload: dict[str, object] = json.loads(jws.deserialize_compact(token, keys).payload)
    return payload


def messages(site: Site) -> list[ExchangeMessage]:
    with transaction(site.app.state.session_factory) as session:
        return list(session.scalars(select(ExchangeMessage).order_by(ExchangeMessage.seq)))


def test_an_agreement_gives_exactly_its_fields_signed_and_logged(
        site: Site, an: Person, tax_key: ECKey) -> None:
    response = ask(site, tax_key, an)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwt")
    answer = opened(site, response.text)
    assert answer["data"] == {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17"}
    assert answer["aud"] == "mof-tax"
    [message] = messages(site)
    assert (message.outcome, message.member, message.subject_id) == \
        ("answered", "mof-tax", an.personal_id_number)
    assert message.response_digest == log.digest(response.text.encode())
    with transaction(site.app.state.session_factory) as session:  # the citizen's trail
        readers = session.scalars(select(AuditEntry.actor).where(
            AuditEntry.subject_id == an.personal_id_number,
            AuditEntry.action == "registry.person.read")).all()
    assert readers == ["exchange:mof-tax"]


def test_requests_outside_an_agreement_are_refused_with_the_reason_and_logged(
        site: Site, an: Person, tax_key: ECKey) -> None:
    other_dataset = ask(site, tax_key, an, dataset="residence")
    assert "no agreement lets mof-tax read residence" in str(assert_problem(other_dataset, 403))
    other_purpose = ask(site, tax_key, an, purpose="marketing of tax software")
    assert "does not cover this purpose" in str(assert_problem(other_purpose, 403))
    unknown = ask(site, tax_key, an, dataset="medical_records")
    assert "no dataset" in str(assert_problem(unknown, 403))
    nobody = site.client.post("/api/v1/exchange/verify_person", json={
        "personal_id_number": "079190000999", "purpose": PURPOSE},
        headers={"Authorization": f"Bearer {assertion(tax_key)}"})
    assert_problem(nobody, 404)
    assert [m.outcome for m in messages(site)] == ["refused"] * 4


def test_an_expired_agreement_is_refused(site: Site, an: Person) -> None:
    key = ECKey.generate_key("P-256", parameters={"kid": "tax-1"})
    with transaction(site.app.state.session_factory) as session:
        service.register_member(session, CLI_ACTOR, "mof-tax", "Taxation", "ministry",
                                {"keys": [key.as_dict(private=False)]})
        agree(session, ("full_name",), ends=date.today() - timedelta(days=1))
    assert "not in force" in str(assert_problem(ask(site, key, an), 403))


def test_unknown_members_replays_and_wrong_audiences_are_refused(
        site: Site, an: Person, tax_key: ECKey) -> None:
    stranger = ECKey.generate_key("P-256", parameters={"kid": "tax-1"})
    assert_problem(ask(site, stranger, an, token=assertion(stranger, issuer="nobody")), 401)
    forged = ask(site, stranger, an, token=assertion(stranger))  # mof-tax's name, wrong key
    assert_problem(forged, 401)
    once = assertion(tax_key)
    assert ask(site, tax_key, an, token=once).status_code == 200
    assert "already used" in str(assert_problem(ask(site, tax_key, an, token=once), 401))
    elsewhere = assertion(tax_key, audience="https://another.example/exchange")
    assert_problem(ask(site, tax_key, an, token=elsewhere), 401)
    assert_problem(site.client.post("/api/v1/exchange/verify_person", json={
        "personal_id_number": an.personal_id_number, "purpose": PURPOSE}), 401)


def test_a_tampered_or_truncated_log_is_detected(
        site: Site, an: Person, tax_key: ECKey, data_dir: Path) -> None:
    for _ in range(3):
        ask(site, tax_key, an)
    factory = site.app.state.session_factory
    with transaction(factory) as session:
        assert log.verify(session) == log.LogReport(3, True)
    runner = CliRunner()
    assert runner.invoke(cli, ["exchange", "verify-log"]).exit_code == 0
    with transaction(factory) as session:
        session.execute(update(ExchangeMessage).where(ExchangeMessage.seq == 2)
                        .values(purpose="something else"))
    with transaction(factory) as session:
        assert log.verify(session) == log.LogReport(1, False, 2)
    broken = runner.invoke(cli, ["exchange", "verify-log"])
    assert (broken.exit_code, "broken at message 2" in broken.output) == (1, True)
    with transaction(factory) as session:
        session.execute(update(ExchangeMessage).where(ExchangeMessage.seq == 2)
                        .values(purpose=PURPOSE))
        session.execute(text("DELETE FROM exchange_message WHERE seq = 3"))
    with transaction(factory) as session:
        assert log.verify(session) == log.LogReport(2, False, 3)


def test_agreements_name_real_fields_and_only_admins_make_them(
        site: Site, tax_key: ECKey) -> None:
    with transaction(site.app.state.session_factory) as session:
        with pytest.raises(Invalid, match="choose fields"):
            agree(session, ("full_name", "blood_type"))
        with pytest.raises(Forbidden):
            service.add_agreement(session, Actor("official", "clerk", role=Role.SERVICE_CLERK),
                                  service.NewAgreement("mof-tax", "residence",
                                                       ("permanent_ward_code",), PURPOSE,
                                                       "some law", date.today(), date.today()))
        with pytest.raises(Invalid, match="public keys"):
            service.register_member(session, CLI_ACTOR, "leaky", "Leaky", "system",
                                    {"keys": [tax_key.as_dict(private=True)]})
