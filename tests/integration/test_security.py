"""Security monitoring: failed sign-ins, lockouts, rate limits, exchange refusals and the logs'
hash chains become signals; alerts are raised once at their threshold and cleared after; the
operators' page and API are for `security:read` only; Prometheus exposes the same facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, text

from civicstack.exchange import service as exchange
from civicstack.identity import officials
from civicstack.identity import service as identity
from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.kit.outbox import OutboxMessage
from civicstack.kit.transparency import LOG_PUBLISHING, seal_and_witness
from civicstack.registry.models import Person
from civicstack.security import jobs, service
from civicstack.security.service import Kind, Thresholds
from tests.integration.test_cli import civicstack
from tests.support import exchange as members
from tests.support.tamper import bypass_triggers
from tests.support.web import Site

LOW = Thresholds(failed_logins=3, lockouts=1, rate_limit_refusals=1, exchange_refusals=2)
CONTACT = "soc@civicstack.example"


def observed(site: Site, thresholds: Thresholds = LOW) -> dict[Kind, int]:
    site.services.flush_tallies()
    with transaction(site.services.session_factory) as session:
        return {signal.kind: signal.observed for signal in service.signals(
            session, thresholds, service.now())}


def evaluate(site: Site, after: timedelta = timedelta()) -> list[tuple[Kind, bool]]:
    site.services.flush_tallies()
    with transaction(site.services.session_factory) as session:
        changes = service.evaluate_alerts(session, LOW, CONTACT, service.now() + after)
    return [(change.kind, change.raised) for change in changes]


def verified(site: Site) -> dict[str, bool]:
    with transaction(site.services.session_factory) as session:
        return {check.log: check.intact for check in service.verify_chains(
            session, site.services[LOG_PUBLISHING], service.now())}


def sealed(site: Site) -> None:
    """The worker's sealers' round: every log's new entries into a witnessed checkpoint."""
    for log in service.CHAINED_LOGS.values():
        seal_and_witness(site.services.session_factory, site.services[LOG_PUBLISHING], log)


def lock_out(site: Site, username: str) -> None:
    """Wrong passwords until the official's account locks (at the fifth)."""
    with transaction(site.services.session_factory) as session:
        for _ in range(identity.FREE_LOGIN_FAILURES):
            officials.check_password(session, site.services[identity.UNKNOWN_IDENTIFIERS],
                                    username, "not the password")


def metric(site: Site, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(site.client.get("/metrics").text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def test_failed_sign_ins_and_lockouts_are_counted_from_the_audit_log(site: Site) -> None:
    official = site.new_official(Role.POLICE)
    lockouts_before = metric(site, "civicstack_account_lockouts_total", account="official")
    lock_out(site, official.username)
    with transaction(site.services.session_factory) as session:
        identity.sign_in(session, site.services[identity.UNKNOWN_IDENTIFIERS], "001090000001",
                         "guessing")  # no such account: still counted
    counts = observed(site)
    assert counts[Kind.FAILED_LOGINS] == identity.FREE_LOGIN_FAILURES + 1
    assert counts[Kind.LOCKOUTS] == 1
    assert metric(site, "civicstack_account_lockouts_total",
                  account="official") == lockouts_before + 1
    with transaction(site.services.session_factory) as session:
        [lockout] = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "identity.official.lockout")).all()
        assert lockout.subject_id == official.username
        assert lockout.detail["failed_logins"] == identity.FREE_LOGIN_FAILURES
    # A further wrong password while locked is refused without a second lockout.
    with transaction(site.services.session_factory) as session:
        officials.check_password(session, site.services[identity.UNKNOWN_IDENTIFIERS],
                                 official.username, "still wrong")
    assert observed(site)[Kind.LOCKOUTS] == 1


def test_an_alert_is_raised_once_mailed_once_and_cleared_when_the_signal_falls_back(
        site: Site) -> None:
    assert verified(site) == {"audit": True, "exchange": True}
    lock_out(site, site.new_official(Role.POLICE).username)
    assert evaluate(site) == [(Kind.FAILED_LOGINS, True), (Kind.LOCKOUTS, True)]
    assert evaluate(site) == []  # still above: nothing new, no second message
    with transaction(site.services.session_factory) as session:
        mails = session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == CONTACT)).all()
        assert sorted(mail.subject for mail in mails) == [
            "CivicStack security alert: failed_logins", "CivicStack security alert: lockouts"]
        assert [a.kind for a in service.open_alerts(session)] == ["failed_logins", "lockouts"]
    # Two hours later both windows are empty; the chain verification is still recent enough.
    assert evaluate(site, timedelta(hours=2)) == [(Kind.FAILED_LOGINS, False),
                                                  (Kind.LOCKOUTS, False)]
    with transaction(site.services.session_factory) as session:
        assert service.open_alerts(session) == []
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("security.alert.%")).order_by(AuditEntry.seq)).all()
    assert actions == ["security.alert.raised"] * 2 + ["security.alert.cleared"] * 2


def test_rate_limit_refusals_are_counted_and_the_worker_raises_their_alert(site: Site) -> None:
    before = metric(site, "civicstack_rate_limit_refusals_total",
                    limiter="console_sign_in_failures")
    statuses = [site.enter_password("nobody", "wrong") for _ in range(11)]
    assert statuses[-1] == 429
    assert observed(site)[Kind.RATE_LIMIT_REFUSALS] == 1
    assert metric(site, "civicstack_rate_limit_refusals_total",
                  limiter="console_sign_in_failures") == before + 1
    settings = site.services.settings
    site.services.settings = settings.model_copy(update={"security_rate_limit_refusals": 1})
    assert jobs.verify_chains(site.services) == {"audit": True, "exchange": True}
    assert jobs.evaluate_alerts(site.services) == ["rate_limit_refusals raised"]
    assert metric(site, "civicstack_security_alert_active", kind="rate_limit_refusals") == 1
    assert metric(site, "civicstack_hash_chain_intact", log="audit") == 1


def test_exchange_refusals_count_forged_assertions_and_requests_outside_agreements(
        site: Site, an: Person) -> None:
    before = metric(site, "civicstack_exchange_refusals_total", stage="authentication")
    key = members.join(site, "tax")
    forged = members.join(site, "bank")  # a real member's key, used to pose as "tax"
    purpose = "checking a tax declaration"
    assert members.read(site, forged, "tax", "verify_person", an.personal_id_number,
                        purpose).status_code == 401
    assert members.read(site, key, "tax", "verify_person", an.personal_id_number,
                        purpose).status_code == 403  # no agreement
    assert observed(site)[Kind.EXCHANGE_REFUSALS] == 2
    with transaction(site.services.session_factory) as session:
        members.agree(session, "tax", "verify_person", ("full_name",), purpose)
    assert members.read(site, key, "tax", "verify_person", "001099000009",
                        purpose).status_code == 404  # a miss within an agreement
    assert observed(site)[Kind.EXCHANGE_REFUSALS] == 2
    assert metric(site, "civicstack_exchange_refusals_total",
                  stage="authentication") == before + 1
    with transaction(site.services.session_factory) as session:
        [refusal] = exchange.latest_refusals(session, service.now() - timedelta(hours=1), 10)
    assert (refusal.member, refusal.dataset) == ("tax", "verify_person")
    assert an.personal_id_number not in repr(refusal)


def test_a_broken_or_stale_chain_needs_attention_and_raises_an_alert(
        site: Site, data_dir: Path) -> None:
    official = site.new_official(Role.POLICE)
    site.sign_in(official)
    assert verified(site) == {"audit": True, "exchange": True}
    assert observed(site)[Kind.HASH_CHAINS] == 0
    stale = replace(LOW, chain_check_max_age=timedelta(minutes=1))
    with transaction(site.services.session_factory) as session:
        later = service.now() + timedelta(minutes=5)
        assert service.chains_needing_attention(session, stale, later) == ["audit", "exchange"]
    sealed(site)
    bypass_triggers(site.services.session_factory.kw["bind"],
                    "UPDATE audit_entry SET purpose = 'nothing to see' WHERE seq = 1")
    assert verified(site) == {"audit": False, "exchange": True}
    assert evaluate(site) == [(Kind.HASH_CHAINS, True)]
    result = civicstack("security", "verify-chains")
    assert result.exit_code == 1
    assert "audit: BROKEN at 1" in result.output
    assert "exchange: intact" in result.output
    alerts = civicstack("security", "alerts")
    assert alerts.exit_code == 1
    assert "hash_chains: 1 (threshold 1)" in alerts.output


def test_the_worker_verifies_the_chains_only_when_no_recent_verification_is_recorded(
        site: Site) -> None:
    every, publishing = timedelta(hours=6), site.services[LOG_PUBLISHING]
    with transaction(site.services.session_factory) as session:
        first = service.verify_chains_when_due(session, publishing, service.now(), every)
        assert [check.log for check in first] == ["audit", "exchange"]
        assert service.verify_chains_when_due(session, publishing, service.now(), every) == []
        later = service.verify_chains_when_due(session, publishing, service.now() + every,
                                               every)
        assert [check.log for check in later] == ["audit", "exchange"]
    assert metric(site, "civicstack_hash_chain_intact", log="exchange") == 1


def test_the_console_page_is_for_security_read_only_and_verifies_on_demand(site: Site) -> None:
    site.sign_in_as(Role.POLICE)
    assert site.client.get("/console/security").status_code == 403
    site.client.cookies.clear()
    site.sign_in_as(Role.ADMIN)
    page = site.client.get("/console/security")
    assert page.status_code == 200
    assert 'data-signal="failed_logins"' in page.text
    assert 'data-chart="failures-by-hour"' in page.text
    assert 'data-log="audit" data-needs-attention="true"' in page.text  # never verified
    refused = site.client.post("/console/security/verify-chains",
                               data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    done = site.client.post("/console/security/verify-chains", follow_redirects=False,
                            data={"csrf_token": site.csrf("/console/security")})
    assert done.status_code == 303
    page = site.client.get("/console/security")
    assert 'data-log="audit" data-needs-attention="false"' in page.text
    with transaction(site.services.session_factory) as session:
        assert session.execute(select(AuditEntry.detail).where(
            AuditEntry.action == "security.chains.verified")).scalar_one() == {
                "audit": True, "exchange": True}


def test_citizens_numbers_are_masked_on_the_page(site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        identity.sign_in(session, site.services[identity.UNKNOWN_IDENTIFIERS], "001090000001",
                         "guessing")
    site.sign_in_as(Role.ADMIN)
    page = site.client.get("/console/security").text
    assert "001090000001" not in page
    assert "••••••••0001" in page


@pytest.mark.parametrize(("role", "status"), [(Role.AGENCY_APPROVER, 403), (Role.ADMIN, 200)])
def test_the_api_overview_needs_security_read(site: Site, role: Role, status: int) -> None:
    key = site.key("soc-tool", role)
    response = site.client.get("/api/v1/security/overview",
                               headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == status
    if status == 403:
        assert response.headers["content-type"] == "application/problem+json"
        return
    kinds = {signal["kind"]: signal for signal in response.json()["signals"]}
    assert kinds["hash_chains"] == {"kind": "hash_chains", "observed": 2, "threshold": 1,
                                    "window_minutes": None, "alerting": True}
    assert response.json()["chains_needing_attention"] == ["audit", "exchange"]


def test_the_cli_reports_intact_chains_and_no_alert(site: Site, data_dir: Path) -> None:
    result = civicstack("security", "verify-chains")
    assert result.exit_code == 0, result.output
    assert "audit: intact" in result.output
    assert civicstack("security", "alerts").output.strip() == "no security alert open"
    with transaction(site.services.session_factory) as session:
        assert session.execute(text("SELECT count(*) FROM security_chain_check")).scalar_one() == 2
