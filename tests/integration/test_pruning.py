"""Tables that only grow are pruned by the worker: phone codes and citizen sessions past their
end, browser sessions idle too long, OpenID Connect requests past expiry; a signed-in request
no longer writes on every call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from civicstack.identity.models import CitizenSession, PhoneChallenge
from civicstack.kit.db import transaction
from civicstack.kit.websession import WebSession
from civicstack.oidc import clients
from civicstack.oidc import service as oidc
from civicstack.oidc.models import OidcClient, PushedAuthorization
from civicstack.registry.models import Person
from civicstack.worker import run_job
from tests.integration.test_identity_web import approved_and_signed_in
from tests.support.oidc import ADMIN, RP_REDIRECT
from tests.support.web import Site


def run(site: Site, job_name: str) -> None:
    run_job(site.services, next(job for job in site.services.jobs if job.name == job_name))


def count(site: Site, model: type) -> int:
    with transaction(site.services.session_factory) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_signed_in_request_writes_last_seen_at_at_most_once_a_minute(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    with transaction(site.services.session_factory) as session:
        signed_in_at = session.execute(select(CitizenSession.last_seen_at)).scalar_one()

    assert site.client.get("/account").status_code == 200
    assert site.client.get("/account").status_code == 200

    with transaction(site.services.session_factory) as session:
        assert session.execute(select(CitizenSession.last_seen_at)).scalar_one() == signed_in_at
        session.execute(update(CitizenSession).values(
            last_seen_at=datetime.now(UTC) - timedelta(minutes=5)))
    assert site.client.get("/account").status_code == 200
    with transaction(site.services.session_factory) as session:
        seen = session.execute(select(CitizenSession.last_seen_at)).scalar_one()
    assert seen.replace(tzinfo=UTC) > datetime.now(UTC) - timedelta(minutes=1)


def test_expired_codes_and_dead_sessions_are_purged_and_live_ones_kept(
        site: Site, an: Person) -> None:
    approved_and_signed_in(site, an)
    alive = (count(site, PhoneChallenge), count(site, CitizenSession), count(site, WebSession))
    assert alive[0] >= 1
    run(site, "identity_expired_purge")
    run(site, "web_sessions_purge")
    assert (count(site, PhoneChallenge), count(site, CitizenSession),
            count(site, WebSession)) == alive  # none past its end: all kept

    long_ago = datetime.now(UTC) - timedelta(days=3)
    with transaction(site.services.session_factory) as session:
        session.execute(update(PhoneChallenge).values(expires_at=long_ago))
        session.execute(update(CitizenSession).values(last_seen_at=long_ago))
        session.execute(update(WebSession).values(last_seen_at=long_ago))
    run(site, "identity_expired_purge")
    run(site, "web_sessions_purge")

    assert (count(site, PhoneChallenge), count(site, CitizenSession),
            count(site, WebSession)) == (0, 0, 0)


def test_expired_pushed_authorization_requests_are_purged_and_live_ones_kept(
        site: Site) -> None:
    with transaction(site.services.session_factory) as session:
        registered = clients.register_client(session, ADMIN, site.services.pepper,
                                             clients.NewClient(
                                                 name="Ngân hàng Demo",
                                                 redirect_uris=(RP_REDIRECT,),
                                                 scopes=("openid",)))
        client = session.execute(select(OidcClient).where(
            OidcClient.client_id == registered.client_id)).scalar_one()
        for state in ("old", "new"):
            oidc.push_request(session, client, {
                "client_id": client.client_id, "response_type": "code", "scope": "openid",
                "redirect_uri": RP_REDIRECT, "state": state, "nonce": "n",
                "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGcSFQx5gM",
                "code_challenge_method": "S256"})
        session.execute(update(PushedAuthorization).where(
            PushedAuthorization.parameters["state"].as_string() == "old").values(
            expires_at=datetime.now(UTC) - timedelta(days=2)))

    run(site, "oidc_expired_purge")

    with transaction(site.services.session_factory) as session:
        left = session.execute(select(PushedAuthorization.parameters)).scalars().all()
    assert [parameters["state"] for parameters in left] == ["new"]
