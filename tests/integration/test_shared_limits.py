"""Rate limits and security alerts hold across instances of the app: failed attempts and
refusals are counted in the database, two instances evaluating alerts raise one and mail it
once, and behind a proxy the client is the address the trusted proxies name, never one the
client wrote itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from civicstack.app import create_app
from civicstack.cli import proxy_options
from civicstack.config import Settings
from civicstack.kit.audit import AuditEntry
from civicstack.kit.authz import Role
from civicstack.kit.db import transaction
from civicstack.kit.outbox import OutboxMessage
from civicstack.kit.ratelimit import RateFailure
from civicstack.kit.tally import TallyCount
from civicstack.security import jobs, service
from civicstack.security.models import SecurityAlert
from civicstack.security.service import Thresholds
from tests.integration.test_security import lock_out, verified
from tests.integration.test_sessions import second_instance
from tests.support.web import Site

CONTACT = "soc@civicstack.example"
WRONG = "wrong password!"


def mails_to(site: Site, recipient: str) -> list[str]:
    with transaction(site.services.session_factory) as session:
        return list(session.scalars(select(OutboxMessage.subject).where(
            OutboxMessage.recipient == recipient)))


def raised_entries(site: Site) -> int:
    with transaction(site.services.session_factory) as session:
        return session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "security.alert.raised")) or 0


def alerting_on_refusals(site: Site, refusals: int) -> None:
    site.services.settings = site.services.settings.model_copy(update={
        "security_rate_limit_refusals": refusals, "security_contact": CONTACT})


# --- one limit, however many instances ---------------------------------------------------------

def test_ten_failures_split_over_two_instances_hold_back_the_eleventh_on_either(
        site: Site, database_url: str) -> None:
    other = second_instance(site, database_url)
    for attempt in range(10):
        assert (site, other)[attempt % 2].enter_password("ghost", WRONG) == 401
    assert site.enter_password("ghost", WRONG) == 429
    assert other.enter_password("ghost", WRONG) == 429
    assert other.enter_password(other.new_official().username) == 429  # the address is held


def test_failures_and_refusal_counts_older_than_a_day_are_purged(site: Site) -> None:
    now = datetime.now(UTC)
    with transaction(site.services.session_factory) as session:
        for age in (timedelta(days=2), timedelta(minutes=1)):
            session.add(RateFailure(limiter="console_sign_in_failures", key_digest="0" * 64,
                                    at=now - age))
            session.add(TallyCount(name="rate_limit.console_sign_in_failures", count=3,
                                   second=int((now - age).timestamp())))
    [purge] = [job for job in site.services.jobs if job.name == "rate_counts_purge"]
    assert purge.run(site.services) == 2
    with transaction(site.services.session_factory) as session:
        assert len(session.scalars(select(RateFailure)).all()) == 1
        assert len(session.scalars(select(TallyCount)).all()) == 1


# --- alerts: raised once, whichever instance evaluates ----------------------------------------

def test_two_instances_evaluating_alerts_agree_one_raise_and_one_email(
        site: Site, database_url: str) -> None:
    """Refusals seen by one instance only: the other must not clear the alert the first one
    raised (and the first raise it again, and mail again)."""
    other = second_instance(site, database_url)
    for instance in (site, other):
        alerting_on_refusals(instance, 2)
    assert verified(site) == {"audit": True, "exchange": True}
    statuses = [site.enter_password("ghost", WRONG) for _ in range(12)]
    assert statuses[-2:] == [429, 429]
    results = [jobs.evaluate_alerts(instance.services) for instance in (site, other) * 3]
    assert results == [["rate_limit_refusals raised"]] + [None] * 5
    assert mails_to(site, CONTACT) == ["CivicStack security alert: rate_limit_refusals"]
    assert raised_entries(site) == 1


def test_the_page_of_either_instance_shows_the_refusals_of_both(
        site: Site, database_url: str) -> None:
    other = second_instance(site, database_url)
    for attempt in range(12):
        (site, other)[attempt % 2].enter_password("ghost", WRONG)
    site.services.flush_tallies()  # as its worker does every few seconds
    other.client = TestClient(other.app, client=("203.0.113.9", 50000))  # an address not held
    other.sign_in_as(Role.ADMIN)
    shown = other.client.get("/console/security")
    assert shown.status_code == 200
    assert ('<tr data-limiter="console_sign_in_failures"><td><code>console_sign_in_failures'
            '</code></td><td>2</td><td>2</td></tr>') in shown.text  # refused; address and name


def test_two_instances_raising_the_same_alert_at_once_mail_it_once(
        site: Site, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite takes one writer at a time: this race needs PostgreSQL")
    other = second_instance(site, database_url)
    thresholds = Thresholds(lockouts=1)
    assert verified(site) == {"audit": True, "exchange": True}
    lock_out(site, site.new_official(Role.POLICE).username)
    racing, raced = site.services.session_factory(), []

    def the_other_instance_raises_it_first(flushing: Session, *_: object) -> None:
        if not raced and any(isinstance(row, SecurityAlert) for row in flushing.new):
            raced.append(True)
            with transaction(other.services.session_factory) as session:
                service.evaluate_alerts(session, thresholds, CONTACT, service.now())

    event.listen(racing, "before_flush", the_other_instance_raises_it_first)
    with racing, racing.begin():
        assert service.evaluate_alerts(racing, thresholds, CONTACT, service.now()) == []
    assert raced == [True]
    assert mails_to(site, CONTACT) == ["CivicStack security alert: lockouts"]
    assert raised_entries(site) == 1
    with transaction(site.services.session_factory) as session:
        assert [alert.kind for alert in service.open_alerts(session)] == ["lockouts"]


# --- the client's address behind a proxy ------------------------------------------------------

PROXY = "10.0.0.2"


def behind(database_url: str, data_dir: Path, trusted: str, peer: str) -> Site:
    """The app as a proxy at `peer` reaches it, with CIVICSTACK_TRUSTED_PROXIES=`trusted`."""
    app = create_app(Settings(database_url=database_url, data_dir=data_dir, log_json=False,
                              log_level="WARNING", trusted_proxies=trusted))
    return Site(app, TestClient(app, client=(peer, 50000)))


def attempt(site: Site, username: str, forwarded_for: str) -> int:
    response = site.client.post("/console/login", follow_redirects=False, data={
        "username": username, "password": WRONG, "csrf_token": site.csrf()},
        headers={"X-Forwarded-For": forwarded_for})
    return response.status_code


def test_behind_a_trusted_proxy_each_client_is_limited_on_its_own(
        database_url: str, tmp_path: Path) -> None:
    site = behind(database_url, tmp_path / "data", f"{PROXY}, 10.1.0.0/16", PROXY)
    # A second proxy hop (10.1.0.7) is trusted too; what the client wrote before is not.
    for guess in range(10):
        assert attempt(site, f"guess-{guess}", f"192.0.2.{guess}, 198.51.100.7, 10.1.0.7") == 401
    assert attempt(site, "another-guess", "198.51.100.7") == 429
    assert attempt(site, "another-guess", "198.51.100.8") == 401  # someone else, same proxy


def test_an_untrusted_peer_cannot_pick_its_address_by_writing_x_forwarded_for(
        database_url: str, tmp_path: Path) -> None:
    site = behind(database_url, tmp_path / "data", PROXY, "203.0.113.7")
    for guess in range(10):
        assert attempt(site, f"guess-{guess}", f"198.51.100.{guess}") == 401
    assert attempt(site, "another-guess", "198.51.100.99") == 429


def test_the_server_believes_forwarded_headers_only_from_the_trusted_proxies() -> None:
    """`civicstack serve` passes the setting to uvicorn, whose default believes 127.0.0.1."""
    default = uvicorn.Config("civicstack.app:create_app", **proxy_options(Settings()))
    assert default.proxy_headers is False
    behind_proxies = uvicorn.Config("civicstack.app:create_app", **proxy_options(
        Settings(trusted_proxies="10.0.0.2, 10.1.0.0/16")))
    assert behind_proxies.proxy_headers is True
    assert behind_proxies.forwarded_allow_ips == ["10.0.0.2/32", "10.1.0.0/16"]


def test_a_malformed_trusted_proxies_setting_stops_the_start() -> None:
    with pytest.raises(ValueError, match="trusted_proxies"):
        Settings(trusted_proxies="10.0.0.0/33")
