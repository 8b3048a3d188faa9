"""Relying parties: registration by officials or the CLI, and client authentication at the
token, PAR, revocation and introspection endpoints (client_secret_basic, private_key_jwt)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.orm import Session

from civicstack.kit import assertions, audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Conflict, Invalid, NotFound
from civicstack.oidc import repository
from civicstack.oidc.models import OidcClient, UsedAssertion
from civicstack.oidc.protocol import (
    ACR_LEVELS,
    ASSERTION_LONGEST_LIFE,
    JWT_BEARER,
    SUPPORTED_SCOPES,
    OAuthError,
    now,
)

AUTH_METHODS = ("client_secret_basic", "private_key_jwt")
ASSERTION_ALGORITHMS = assertions.ALGORITHMS


@dataclass(frozen=True)
class NewClient:
    name: str
    redirect_uris: tuple[str, ...]
    auth_method: str = "client_secret_basic"
    jwks: dict[str, Any] | None = None
    scopes: tuple[str, ...] = ("openid", "profile")
    acr_values: tuple[str, ...] = ("urn:civicstack:loa:1",)
    post_logout_redirect_uris: tuple[str, ...] = ()
    sector_identifier: str = ""
    id_token_alg: str = "ES256"  # noqa: S105 - an algorithm name, not a secret
    backchannel_logout_uri: str = ""  # empty: the party is not told of logouts server to server
    backchannel_logout_session_required: bool = False
    frontchannel_logout_uri: str = ""  # empty: no frame on the sign-out page
    frontchannel_logout_session_required: bool = False


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str | None  # shown once; only its keyed digest is kept


def _secret_digest(pepper: str, secret: str) -> str:
    return hmac.new(pepper.encode(), secret.encode(), hashlib.sha256).hexdigest()


def register_client(session: Session, actor: Actor, pepper: str,
                    new: NewClient) -> RegisteredClient:
    actor.require(Permission.OIDC_CLIENTS)
    _check_new_client(new)
    client_id = "rp_" + secrets.token_urlsafe(12)
    secret = secrets.token_urlsafe(32) if new.auth_method == "client_secret_basic" else None
    session.add(OidcClient(
        client_id=client_id, name=new.name.strip(), auth_method=new.auth_method,
        secret_digest=_secret_digest(pepper, secret) if secret else None,
        jwks=new.jwks, redirect_uris=list(new.redirect_uris),
        post_logout_redirect_uris=list(new.post_logout_redirect_uris),
        scopes=" ".join(new.scopes), acr_values=" ".join(new.acr_values),
        sector_identifier=new.sector_identifier or urlsplit(new.redirect_uris[0]).netloc,
        id_token_alg=new.id_token_alg, created_at=now(),
        backchannel_logout_uri=new.backchannel_logout_uri or None,
        backchannel_logout_session_required=new.backchannel_logout_session_required,
        frontchannel_logout_uri=new.frontchannel_logout_uri or None,
        frontchannel_logout_session_required=new.frontchannel_logout_session_required))
    session.flush()
    audit.record(session, actor, "oidc.client.register", subject_type="oidc_client",
                 subject_id=client_id, purpose="relying party registration",
                 detail={"name": new.name, "redirect_uris": list(new.redirect_uris),
                         "scopes": list(new.scopes), "auth_method": new.auth_method,
                         "backchannel_logout_uri": new.backchannel_logout_uri,
                         "frontchannel_logout_uri": new.frontchannel_logout_uri})
    return RegisteredClient(client_id, secret)


def _check_new_client(new: NewClient) -> None:
    if not new.name.strip():
        raise Invalid("name", "give the relying party a name people will recognise")
    if not new.redirect_uris:
        raise Invalid("redirect_uri", "register at least one redirect URI")
    for uri in (*new.redirect_uris, *new.post_logout_redirect_uris):
        _check_uri(uri, "redirect_uri")
    for uri, field in ((new.backchannel_logout_uri, "backchannel_logout_uri"),
                       (new.frontchannel_logout_uri, "frontchannel_logout_uri")):
        if uri:
            _check_uri(uri, field)
    if new.auth_method not in AUTH_METHODS:
        raise Invalid("auth_method", f"use one of {', '.join(AUTH_METHODS)}")
    if new.auth_method == "private_key_jwt":
        assertions.check_public_jwks(new.jwks)
    unknown = set(new.scopes) - set(SUPPORTED_SCOPES)
    if "openid" not in new.scopes or unknown:
        raise Invalid("scope", f"scopes must include openid and come from {SUPPORTED_SCOPES}")
    if not new.acr_values or set(new.acr_values) - set(ACR_LEVELS):
        raise Invalid("acr", f"acr values must come from {sorted(ACR_LEVELS)}")
    if new.id_token_alg not in ("ES256", "RS256"):
        raise Invalid("id_token_alg", "ID tokens are signed ES256 or RS256")


def _check_uri(uri: str, field: str) -> None:
    """Redirect and logout URIs alike (the logout specifications forbid a fragment too)."""
    try:
        parts = urlsplit(uri)
        loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # a port out of range, a malformed IPv6 host
        loopback = port_ok = False
    if not port_ok or parts.fragment or not parts.hostname or parts.username is not None or \
            parts.scheme not in ("https", "http") or (parts.scheme == "http" and not loopback) \
            or any(c.isspace() for c in uri):
        raise Invalid(field, f"{uri!r}: use an absolute https URI without a fragment "
                      "(http only on loopback, for development)")


def list_clients(session: Session, actor: Actor) -> list[OidcClient]:
    actor.require(Permission.OIDC_CLIENTS)
    return repository.all_clients(session)


def disable_client(session: Session, actor: Actor, client_id: str) -> None:
    actor.require(Permission.OIDC_CLIENTS)
    client = repository.client(session, client_id)
    if client is None:
        raise NotFound(f"no relying party {client_id!r}")
    if client.disabled_at is not None:
        raise Conflict(f"{client_id} is already disabled")
    client.disabled_at = now()
    audit.record(session, actor, "oidc.client.disable", subject_type="oidc_client",
                 subject_id=client_id, purpose="relying party management")


# --- client authentication ------------------------------------------------------------------

@dataclass(frozen=True)
class ClientCredentials:
    """What a request presented: the Authorization header and the form's fields."""

    authorization: str
    form: dict[str, str]
    audiences: tuple[str, ...]  # what a client assertion may name as `aud`


def authenticate_client(session: Session, pepper: str,
                        credentials: ClientCredentials) -> OidcClient:
    if credentials.form.get("client_assertion_type") == JWT_BEARER:
        return _by_assertion(session, credentials)
    if credentials.authorization.lower().startswith("basic "):
        return _by_secret(session, pepper, credentials.authorization[6:])
    raise _unauthenticated("authenticate with client_secret_basic or private_key_jwt")


def _unauthenticated(why: str) -> OAuthError:
    return OAuthError("invalid_client", why, 401)


def _by_secret(session: Session, pepper: str, encoded: str) -> OidcClient:
    try:
        client_id, _, secret = base64.b64decode(encoded.strip(), validate=True).decode() \
            .partition(":")
    except (ValueError, UnicodeDecodeError):
        raise _unauthenticated("malformed Basic credentials") from None
    # RFC 6749 2.3.1: both halves are form-urlencoded before joining
    client = repository.active_client(session, unquote(client_id.replace("+", " ")))
    presented = _secret_digest(pepper, unquote(secret.replace("+", " ")))
    if client is None or client.auth_method != "client_secret_basic" or \
            not hmac.compare_digest(client.secret_digest or "", presented):
        raise _unauthenticated("unknown client or wrong secret")
    return client


def _by_assertion(session: Session, credentials: ClientCredentials) -> OidcClient:
    assertion = credentials.form.get("client_assertion", "")
    try:
        client = repository.active_client(session, assertions.claimed_issuer(assertion))
        if client is None or client.auth_method != "private_key_jwt" or client.jwks is None:
            raise _unauthenticated("unknown client or not registered for private_key_jwt")
        claims = assertions.verified_claims(assertion, client.jwks, client.client_id,
                                            list(credentials.audiences),
                                            ASSERTION_LONGEST_LIFE, now())
    except assertions.AssertionRefused as refused:
        raise _unauthenticated(str(refused)) from None
    _spend_jti(session, client.client_id, str(claims["jti"]), assertions.expiry(claims))
    return client


def _spend_jti(session: Session, client_id: str, jti: str, expires: datetime) -> None:
    """Each assertion is good once."""
    if not assertions.spend_once(session, UsedAssertion(client_id=client_id, jti=jti[:200],
                                                        expires_at=expires), now()):
        raise _unauthenticated("this client assertion was already used")
