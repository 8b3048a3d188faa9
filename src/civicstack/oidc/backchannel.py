"""OpenID Connect Back-Channel Logout 1.0 and Front-Channel Logout 1.0: when a citizen's
sessions end (identity announces `SessionsEnded`), every relying party signed in through one
of them loses its tokens for it and is told.

Telling is never done inside the request that ended the session: a delivery is queued in its
transaction and a worker job posts the logout token to the party's back-channel URI, with a
short timeout, retries with back-off, and a last attempt after which it gives up (audited).
The token is signed at each attempt, with the provider's ID-token key: a retry hours later
still carries a fresh `iat`/`exp`, and a new `jti`, so a party that did act on an attempt we
never heard back from does not refuse the next as a replay (ending an ended session is a
no-op for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit

import httpx
from joserfc import jwt
from sqlalchemy.orm import Session, sessionmaker

from civicstack.identity import service as identity
from civicstack.kit import audit
from civicstack.kit.appservices import AppServices
from civicstack.kit.audit import Actor
from civicstack.kit.db import transaction
from civicstack.oidc import repository
from civicstack.oidc.models import LogoutDelivery, OidcClient
from civicstack.oidc.protocol import new_secret, now
from civicstack.oidc.site import PROVIDER
from civicstack.oidc.tokens import Provider

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"  # noqa: S105 - a media type, not a secret
LOGOUT_TOKEN_LIFETIME = timedelta(minutes=2)
HTTP_TIMEOUT_S = 3.0  # a party that cannot answer in 3 s is retried, not waited for
FIRST_RETRY = timedelta(seconds=15)  # then doubled at each failure
LONGEST_WAIT = timedelta(hours=1)
MAX_ATTEMPTS = 8  # about an hour and a half of trying
LEASE = timedelta(seconds=60)  # an attempt's claim, longer than any attempt takes
DELIVERIES_PER_RUN = 20  # at most a minute of the worker's time when every party is down
LOGOUT_SENDER = Actor("system", "oidc-logout")


# --- what sessions ending means for relying parties -------------------------------------

def on_sessions_ended(session: Session, ended: identity.SessionsEnded) -> None:
    """Revoke every token issued through the ended sessions, forget which parties hold them,
    and queue a logout token for each such party that registered a back-channel URI."""
    revoked = repository.revoke_tokens_of_sessions(session, ended.account_id, ended.session_ids)
    moment = now()
    for client_id, sid in repository.forget_rp_sessions(session, ended.account_id,
                                                        ended.session_ids):
        client = repository.active_client(session, client_id)
        if client is None or not client.backchannel_logout_uri:
            continue
        session.add(LogoutDelivery(client_id=client_id, account_id=ended.account_id, sid=sid,
                                   reason=ended.reason, created_at=moment,
                                   next_attempt_at=moment, attempts=0, last_error=""))
        _audit(session, ended.personal_id_number, "oidc.logout.queue", client,
               {"reason": ended.reason})
    if revoked:
        audit.record(session, LOGOUT_SENDER, "oidc.logout.revoke_tokens", subject_type="person",
                     subject_id=ended.personal_id_number, purpose="single sign-on logout",
                     detail={"reason": ended.reason, "tokens_revoked": revoked})


def logout_token(provider: Provider, client: OidcClient, account_id: int, sid: str) -> str:
    """The Logout Token of Back-Channel Logout 1.0 section 2.4: never a nonce."""
    moment = int(now().timestamp())
    claims: dict[str, Any] = {
        "iss": provider.issuer, "aud": client.client_id, "iat": moment,
        "exp": moment + int(LOGOUT_TOKEN_LIFETIME.total_seconds()), "jti": new_secret(),
        "sub": provider.subject(client, account_id), "sid": sid,
        "events": {LOGOUT_EVENT: {}},
    }
    key = provider.keys.signing_key(client.id_token_alg)
    return jwt.encode({"alg": client.id_token_alg, "kid": key.kid, "typ": LOGOUT_TOKEN_TYPE},
                      claims, key)


def frontchannel_logout_urls(session: Session, issuer: str, sid: str) -> list[str]:
    """Each front-channel logout URI the sign-out page loads in a frame, with `iss` and `sid`
    where the party asked for them (Front-Channel Logout 1.0 section 2)."""
    urls = []
    for client in repository.frontchannel_clients(session, sid):
        uri = str(client.frontchannel_logout_uri)
        if client.frontchannel_logout_session_required:
            separator = "&" if urlsplit(uri).query else "?"
            uri = f"{uri}{separator}{urlencode({'iss': issuer, 'sid': sid})}"
        urls.append(uri)
    return urls


# --- delivery -------------------------------------------------------------------------------

class LogoutChannel(Protocol):
    def send(self, uri: str, token: str) -> None:
        """Hand the logout token to the party, or raise saying why it was not taken."""


@dataclass(frozen=True)
class HttpLogoutChannel:
    """POSTs the token as a form (section 2.5); any 2xx is the party's yes. Redirects are not
    followed: the URI was registered, where it points is not."""

    timeout_s: float = HTTP_TIMEOUT_S

    def send(self, uri: str, token: str) -> None:
        answer = httpx.post(uri, data={"logout_token": token}, timeout=self.timeout_s,
                            follow_redirects=False, headers={"Cache-Control": "no-store"})
        if not answer.is_success:
            raise LogoutRefused(f"HTTP {answer.status_code}: {answer.text[:200]}")


class LogoutRefused(Exception):
    """The party answered, but not with success."""


def deliver_due(services: AppServices) -> int:
    """The worker job: deliveries that are due, each attempted once."""
    return deliver_due_logouts(services.session_factory, services[PROVIDER], HttpLogoutChannel())


def deliver_due_logouts(factory: sessionmaker[Session], provider: Provider,
                        channel: LogoutChannel) -> int:
    """Attempt each due delivery once, no transaction held while the party is called; how
    many were delivered. Safe with several workers: an attempt is claimed before it is made."""
    delivered = 0
    with transaction(factory) as session:
        due = [(d.id, d.attempts) for d in repository.due_logout_deliveries(
            session, now(), DELIVERIES_PER_RUN)]
    for delivery_id, attempts in due:
        with transaction(factory) as session:
            moment = now()
            if not repository.claim_logout_delivery(session, delivery_id, attempts, moment,
                                                    moment + LEASE):
                continue
            delivery = repository.logout_delivery(session, delivery_id)
            client = repository.client(session, delivery.client_id)
            assert client is not None  # a foreign key
            uri, token = str(client.backchannel_logout_uri), logout_token(
                provider, client, delivery.account_id, delivery.sid)
        error = _send(channel, uri, token)
        with transaction(factory) as session:
            delivered += _record_attempt(session, repository.logout_delivery(session,
                                                                             delivery_id), error)
    return delivered


def _send(channel: LogoutChannel, uri: str, token: str) -> str | None:
    try:
        channel.send(uri, token)
    except (httpx.HTTPError, LogoutRefused) as exc:
        return f"{type(exc).__name__}: {exc}"[:300]
    return None


def _record_attempt(session: Session, delivery: LogoutDelivery, error: str | None) -> int:
    client = repository.client(session, delivery.client_id)
    assert client is not None
    person = identity.account_by_id(session, delivery.account_id).personal_id_number
    moment = now()
    detail = {"attempt": str(delivery.attempts), "reason": delivery.reason}
    if error is None:
        delivery.delivered_at, delivery.last_error = moment, ""
        _audit(session, person, "oidc.logout.deliver", client, detail)
        return 1
    delivery.last_error = error
    if delivery.attempts >= MAX_ATTEMPTS:
        delivery.abandoned_at = moment
        _audit(session, person, "oidc.logout.abandon", client, {**detail, "error": error})
    else:
        delivery.next_attempt_at = moment + retry_delay(delivery.attempts)
    return 0


def retry_delay(attempts: int) -> timedelta:
    """Back-off after `attempts` failed attempts: 15 s, 30 s, 1 min ... at most an hour."""
    delay: timedelta = FIRST_RETRY * 2 ** (attempts - 1)
    return min(delay, LONGEST_WAIT)


def _audit(session: Session, personal_id_number: str, action: str, client: OidcClient,
           detail: dict[str, str]) -> None:
    audit.record(session, LOGOUT_SENDER, action, subject_type="person",
                 subject_id=personal_id_number, purpose=f"single sign-on logout at {client.name}",
                 detail={"client_id": client.client_id, **detail})

