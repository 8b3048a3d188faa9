"""The data exchange: a member reads exactly its agreement's fields, signed; everything outside
an agreement is refused with the reason; every request is chained in a log whose tampering is
detected; the citizen sees each read."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from joserfc.jwk import ECKey
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from civicstack.cli import app as cli
from civicstack.exchange import log, service
from civicstack.exchange.models import ExchangeMessage
from civicstack.kit.audit import Actor, AuditEntry
from civicstack.kit.authz import Role
from civicstack.kit.cli_support import CLI_ACTOR
from civicstack.kit.db import transaction
from civicstack.kit.errors import Forbidden, Invalid
from civicstack.kit.tlog.log import LogReport
from civicstack.kit.transparency import LOG_PUBLISHING, seal_and_witness
from civicstack.registry import service as registry
from civicstack.registry.models import Person, Sex
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.support import exchange
from tests.support.api import assert_problem, audit_entries
from tests.support.eid import PASSWORD, make_active_account
from tests.support.people import CLERK, make_person
from tests.support.wallet import licence_claims
from tests.support.web import Site

ENDPOINT = "http://testserver/api/v1/exchange/verify_person"
PURPOSE = "tax registration check"


@pytest.fixture
def tax_key(site: Site) -> ECKey:
    """The tax department's system, registered by its public key, with an agreement for two
    fields of verify_person."""
    key = exchange.join(site, "mof-tax", name="General Department of Taxation")
    with transaction(site.services.session_factory) as session:
        agree(session, ("full_name", "date_of_birth"))
    return key


def agree(session: Session, fields: tuple[str, ...], dataset: str = "verify_person",
          ends: date | None = None, consumer: str = "mof-tax") -> None:
    exchange.agree(session, consumer, dataset, fields, PURPOSE, ends)


def assertion(key: ECKey, audience: str = ENDPOINT, issuer: str = "mof-tax") -> str:
    return exchange.assertion(key, audience, issuer)


def ask(site: Site, key: ECKey, person: Person, dataset: str = "verify_person",
        purpose: str = PURPOSE, token: str | None = None) -> httpx.Response:
    if token is None:
        return exchange.read(site, key, "mof-tax", dataset, person.personal_id_number, purpose)
    return site.client.post(f"/api/v1/exchange/{dataset}", json={
        "personal_id_number": person.personal_id_number, "purpose": purpose},
        headers={"Authorization": f"Bearer {token}"})


def messages(site: Site) -> list[ExchangeMessage]:
    with transaction(site.services.session_factory) as session:
        return list(session.scalars(select(ExchangeMessage).order_by(ExchangeMessage.seq)))


def test_an_agreement_gives_exactly_its_fields_signed_and_logged(
        site: Site, an: Person, tax_key: ECKey) -> None:
    response = ask(site, tax_key, an)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jwt")
    answer = exchange.opened(site, response.text)
    assert answer["data"] == {"full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17"}
    assert answer["aud"] == "mof-tax"
    [message] = messages(site)
    assert (message.outcome, message.member, message.subject_id) == \
        ("answered", "mof-tax", an.personal_id_number)
    assert message.response_digest == log.digest(response.text.encode())
    with transaction(site.services.session_factory) as session:  # the citizen's trail
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
    with transaction(site.services.session_factory) as session:
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


def checked_ok_first_bad(report: LogReport) -> tuple[int, bool, int | None]:
    return report.entries_checked, report.ok, report.first_bad_seq


def test_a_tampered_or_truncated_log_is_detected(
        site: Site, an: Person, tax_key: ECKey, data_dir: Path) -> None:
    for _ in range(3):
        ask(site, tax_key, an)
    factory, publishing = site.services.session_factory, site.services[LOG_PUBLISHING]
    seal_and_witness(factory, publishing, log.MESSAGE_LOG)
    runner = CliRunner()
    assert runner.invoke(cli, ["exchange", "verify-log"]).exit_code == 0  # all 3 checked
    with transaction(factory) as session:
        assert service.verify_log(session, publishing) == LogReport(0, True)  # none new
    for _ in range(3):
        ask(site, tax_key, an)
    seal_and_witness(factory, publishing, log.MESSAGE_LOG)
    with transaction(factory) as session:
        session.execute(update(ExchangeMessage).where(ExchangeMessage.seq == 5)
                        .values(purpose="something else"))
    with transaction(factory) as session:
        assert checked_ok_first_bad(service.verify_log(session, publishing)) == (3, False, 5)
    broken = runner.invoke(cli, ["exchange", "verify-log"])
    assert (broken.exit_code, "broken at message 5" in broken.output) == (1, True)
    with transaction(factory) as session:
        session.execute(update(ExchangeMessage).where(ExchangeMessage.seq == 5)
                        .values(purpose=PURPOSE))
        session.execute(text("DELETE FROM exchange_message WHERE seq = 6"))
    with transaction(factory) as session:
        report = service.verify_log(session, publishing)
    assert (report.ok, "removed from the end" in report.reason) == (False, True)


def test_agreements_name_real_fields_and_only_admins_make_them(
        site: Site, tax_key: ECKey) -> None:
    with transaction(site.services.session_factory) as session:
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


# --- the register's other datasets -----------------------------------------------------------

def test_household_and_document_status_give_only_the_agreed_fields(
        site: Site, an: Person, tax_key: ECKey) -> None:
    factory = site.services.session_factory
    with transaction(factory) as session:
        wife = make_person(session, "Trần Thị Bình", date(1992, 3, 1), Sex.FEMALE)
        registry.create_household(session, CLERK, "HH0100001", an.personal_id_number)
        registry.add_household_member(session, CLERK, "HH0100001", wife.personal_id_number,
                                      "spouse")
        wallet.seed_catalogue(session)
        wallet.issue_credential(session, site.services[WALLET_SITE], Actor("test", "csgt"),
                                "driving_licence", an.personal_id_number, licence_claims(an))
        agree(session, ("household_code", "members"), dataset="household")
        agree(session, ("document_type", "status"), dataset="document_status")
    household = exchange.opened(site, ask(site, tax_key, an, dataset="household").text)
    assert household["data"] == {"household_code": "HH0100001", "members": [
        {"full_name": "Nguyễn Văn An", "relation_to_head": "head"},
        {"full_name": "Trần Thị Bình", "relation_to_head": "spouse"}]}
    documents = exchange.opened(site, ask(site, tax_key, an, dataset="document_status").text)
    assert documents["data"] == {"records": [{"document_type": "driving_licence",
                                              "status": "valid"}]}
    # the wife's name was read too: she sees it among the reads of her data
    [read_of_wife] = audit_entries(factory, "registry.household.read", wife.personal_id_number)
    assert read_of_wife.actor == "exchange:mof-tax"


# --- published datasets -------------------------------------------------------------------

SUBSCRIBERS = "subscriber_records"
POLICE_PURPOSE = "locating a witness"


def publish_subscribers(site: Site, key: ECKey, rows: str) -> httpx.Response:
    declared = exchange.call(site, key, "mic-telecom", "PUT", f"datasets/{SUBSCRIBERS}", json={
        "title": "Mobile subscribers", "fields": ["phone", "full_name", "operator"],
        "required": ["phone", "full_name"]})
    assert declared.status_code == 201, declared.text
    return exchange.call(site, key, "mic-telecom", "PUT", f"datasets/{SUBSCRIBERS}/records",
                         content=rows.encode(), headers={"Content-Type": "text/csv"})


def test_a_member_publishes_a_dataset_and_a_consumer_reads_exactly_its_agreed_fields(
        site: Site, an: Person) -> None:
    telecom = exchange.join(site, "mic-telecom", "ministry")
    police = exchange.join(site, "bca-police", "ministry")
    uploaded = publish_subscribers(site, telecom, (
        "personal_id_number,phone,full_name,operator,updated_at\n"
        f"{an.personal_id_number},0912345678,Nguyễn Văn An,Viettel,2026-11-01\n"
        f"{an.personal_id_number},0987654321,Nguyễn Văn An,VNPT,2026-10-01\n"))
    assert uploaded.json() == {"records": 2}
    with transaction(site.services.session_factory) as session:
        exchange.agree(session, "bca-police", SUBSCRIBERS, ("phone",), POLICE_PURPOSE)
    response = exchange.read(site, police, "bca-police", SUBSCRIBERS, an.personal_id_number,
                             POLICE_PURPOSE)
    assert exchange.opened(site, response.text)["data"] == {
        "records": [{"phone": "0912345678"}, {"phone": "0987654321"}]}
    [read] = audit_entries(site.services.session_factory, "exchange.record.read",
                           an.personal_id_number)
    assert (read.actor, read.purpose) == ("exchange:bca-police", POLICE_PURPOSE)
    nobody = exchange.read(site, police, "bca-police", SUBSCRIBERS, "001090000999",
                           POLICE_PURPOSE)
    assert "holds nothing about this person" in str(assert_problem(nobody, 404))


def test_an_upload_with_an_unknown_column_is_refused_and_changes_nothing(
        site: Site, an: Person) -> None:
    telecom = exchange.join(site, "mic-telecom", "ministry")
    publish_subscribers(site, telecom, f"personal_id_number,phone\n{an.personal_id_number},1\n")
    bad = exchange.call(site, telecom, "mic-telecom", "PUT", f"datasets/{SUBSCRIBERS}/records",
                        json={"records": [{"personal_id_number": an.personal_id_number,
                                           "blood_type": "O"}]})
    assert "has no field blood_type" in str(assert_problem(bad, 422))
    other = exchange.join(site, "mof-tax", "ministry")
    stranger = exchange.call(site, other, "mof-tax", "PUT", f"datasets/{SUBSCRIBERS}/records",
                             json={"records": []})
    assert_problem(stranger, 404)  # a member uploads only its own datasets
    with transaction(site.services.session_factory) as session:
        exchange.agree(session, "mof-tax", SUBSCRIBERS, ("phone",), PURPOSE)
    kept = exchange.read(site, other, "mof-tax", SUBSCRIBERS, an.personal_id_number, PURPOSE)
    assert exchange.opened(site, kept.text)["data"] == {"records": [{"phone": "1"}]}


# --- agreement requests -------------------------------------------------------------------

def ask_for_subscribers(site: Site, police: ECKey) -> int:
    today = date.today()
    response = exchange.call(site, police, "bca-police", "POST", "agreement-requests", json={
        "dataset": SUBSCRIBERS, "fields": ["phone", "operator"], "purpose": POLICE_PURPOSE,
        "legal_basis": "Law on People's Public Security 2018, art. 16",
        "valid_from": today.isoformat(), "valid_to": (today + timedelta(days=90)).isoformat()})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "pending"
    request_id: int = response.json()["id"]
    return request_id


def test_a_refusal_to_share_needs_a_justification_recorded_and_shown_to_the_consumer(
        site: Site, an: Person) -> None:
    telecom = exchange.join(site, "mic-telecom", "ministry")
    police = exchange.join(site, "bca-police", "ministry")
    publish_subscribers(site, telecom, f"personal_id_number,phone\n{an.personal_id_number},1\n")
    request_id = ask_for_subscribers(site, police)
    decision = f"agreement-requests/{request_id}/decision"
    bare = exchange.call(site, telecom, "mic-telecom", "POST", decision,
                         json={"grant": False, "justification": "no"})
    assert "must say why" in str(assert_problem(bare, 422))
    by_consumer = exchange.call(site, police, "bca-police", "POST", decision,
                                json={"grant": True})
    assert_problem(by_consumer, 403)  # only the provider (or an admin) decides
    why = "Subscriber data is only shared under a court order (Decree 13/2023, art. 17)"
    refused = exchange.call(site, telecom, "mic-telecom", "POST", decision,
                            json={"grant": False, "justification": why})
    assert refused.json()["status"] == "refused"
    again = exchange.call(site, telecom, "mic-telecom", "POST", decision, json={"grant": True})
    assert_problem(again, 409)
    seen = exchange.call(site, police, "bca-police", "GET", "agreement-requests").json()
    assert [(r["status"], r["justification"]) for r in seen] == [("refused", why)]
    [entry] = audit_entries(site.services.session_factory, "exchange.agreement.refuse")
    assert (entry.actor, entry.detail["justification"]) == ("exchange:mic-telecom", why)
    still = exchange.read(site, police, "bca-police", SUBSCRIBERS, an.personal_id_number,
                          POLICE_PURPOSE)
    assert "no agreement lets bca-police read" in str(assert_problem(still, 403))


def test_a_granted_request_becomes_the_agreement_that_answers(site: Site, an: Person) -> None:
    telecom = exchange.join(site, "mic-telecom", "ministry")
    police = exchange.join(site, "bca-police", "ministry")
    publish_subscribers(site, telecom, f"personal_id_number,phone,operator\n"
                                       f"{an.personal_id_number},0912345678,Viettel\n")
    request_id = ask_for_subscribers(site, police)
    granted = exchange.call(site, telecom, "mic-telecom", "POST",
                            f"agreement-requests/{request_id}/decision", json={"grant": True})
    assert granted.json()["agreement_id"] is not None
    response = exchange.read(site, police, "bca-police", SUBSCRIBERS, an.personal_id_number,
                             POLICE_PURPOSE)
    assert exchange.opened(site, response.text)["data"] == {
        "records": [{"phone": "0912345678", "operator": "Viettel"}]}


# --- pushing a dossier result into the wallet ---------------------------------------------

PUSH_PURPOSE = "deliver the result of a driving licence renewal"


def push(site: Site, key: ECKey, person: Person, document_type: str = "driving_licence",
         **claims: object) -> httpx.Response:
    return exchange.call(site, key, "bca-licences", "POST", "wallet/push", json={
        "personal_id_number": person.personal_id_number, "purpose": PUSH_PURPOSE,
        "document_type": document_type, "claims": licence_claims(person, **claims)})


def test_a_procedure_system_pushes_a_result_into_the_wallet_through_the_exchange(
        site: Site, an: Person) -> None:
    factory = site.services.session_factory
    licences = exchange.join(site, "bca-licences", "system")
    with transaction(factory) as session:
        wallet.seed_catalogue(session)
        exchange.agree(session, "bca-licences", "wallet_push", ("driving_licence",),
                       PUSH_PURPOSE)
    response = push(site, licences, an)
    assert response.status_code == 200, response.text
    receipt = exchange.opened(site, response.text)
    with transaction(factory) as session:
        [card] = wallet.cards(session, site.services[WALLET_SITE], an.personal_id_number)
    assert receipt["data"] == {"credential": card.credential.public_id,
                               "document_type": "driving_licence"}
    assert card.claims["licence_number"] == "790123456789"
    other = push(site, licences, an, document_type="health_insurance")
    assert "does not cover 'health_insurance'" in str(assert_problem(other, 403))
    wrong = push(site, licences, an, full_name="Nguyễn Văn Ân")
    assert "must match the population register" in str(assert_problem(wrong, 422))
    with transaction(factory) as session:  # the refused document left nothing behind
        assert len(wallet.cards(session, site.services[WALLET_SITE], an.personal_id_number)) == 1
    assert [(m.dataset, m.outcome) for m in messages(site)] == [
        ("wallet_push", "answered"), ("wallet_push", "refused"), ("wallet_push", "refused")]


# --- the citizen's view -------------------------------------------------------------------

def test_the_citizen_sees_each_read_on_their_account_page(
        site: Site, an: Person, tax_key: ECKey, tmp_path: Path) -> None:
    make_active_account(site.services.session_factory, site.services.pepper, an,
                        tmp_path / "mailbox")
    with transaction(site.services.session_factory) as session:
        agree(session, ("permanent_ward_code",), dataset="residence")
    ask(site, tax_key, an)
    ask(site, tax_key, an, dataset="residence")
    signed_in = site.client.post("/account/login", follow_redirects=False, data={
        "personal_id_number": an.personal_id_number, "password": PASSWORD,
        "csrf_token": site.csrf("/account/login")})
    assert signed_in.status_code == 303
    page = site.client.get("/account").text
    assert page.count("mof-tax") == 2
    assert page.count(PURPOSE) == 2
