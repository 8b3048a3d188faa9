"""The token endpoint's grants (authorization code with PKCE, refresh with rotation and reuse
detection), ID tokens, revocation (RFC 7009), introspection (RFC 7662) and userinfo.

Access and refresh tokens are opaque random strings stored as digests, so revocation takes
effect at once everywhere; ID tokens are JWTs signed with the provider's current key.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.identity.models import CitizenAccount
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.errors import DomainError
from civicstack.kit.keys import KeyRing
from civicstack.oidc import repository
from civicstack.oidc.claims import organisation_claim, released_claims
from civicstack.oidc.models import AuthorizationCode, IssuedToken, OidcClient
from civicstack.oidc.protocol import (
    ACCESS_TOKEN_LIFETIME,
    ID_TOKEN_LIFETIME,
    ORGANISATION_SCOPE,
    REFRESH_TOKEN_LIFETIME,
    SIGN_IN_REFRESH_LIMIT,
    OAuthError,
    b64url_sha256,
    digest,
    left_half_hash,
    new_secret,
    now,
)

CODE_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")  # RFC 7636 4.1


@dataclass(frozen=True)
class Provider:
    """What signing needs: who we are, our keys, and the secret behind pairwise subjects."""

    issuer: str
    keys: KeyRing
    pairwise_secret: str

    def subject(self, client: OidcClient, account_id: int) -> str:
        """Pairwise `sub` (OIDC Core 8.1): stable for one sector, unlinkable across sectors."""
        return hmac.new(self.pairwise_secret.encode(),
                        f"{client.sector_identifier}|{account_id}".encode(),
                        hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Grant:
    """Everything a token carries over from the sign-in that started it."""

    family: str
    account_id: int
    scope: str
    acr: str
    amr: str
    auth_time: datetime
    browser_session: str
    nonce: str | None = None
    organisation_tax_code: str | None = None  # chosen at consent (the organisation scope)


def _invalid_grant(why: str) -> OAuthError:
    return OAuthError("invalid_grant", why)


def exchange_code(session: Session, provider: Provider, client: OidcClient,
                  form: dict[str, str]) -> dict[str, Any]:
    code = repository.locked_authorization_code(session, digest(form.get("code", "")))
    if code is None or code.client_id != client.client_id:
        raise _invalid_grant("unknown authorization code")
    if code.used_at is not None:
        # RFC 6749 4.1.2: a replayed code is a theft sign
        repository.revoke_token_family(session, code.family)
        raise _invalid_grant("this authorization code was already used")
    repository.mark_code_used(session, code.id)  # even if the checks fail
    _check_code(code, form)
    grant = Grant(code.family, code.account_id, code.scope, code.acr, code.amr,
                  as_utc(code.auth_time), code.browser_session, code.nonce,
                  code.organisation_tax_code)
    return _tokens(session, provider, client, _live_account(session, client, grant), grant)


def _check_code(code: AuthorizationCode, form: dict[str, str]) -> None:
    if as_utc(code.expires_at) < now():
        raise _invalid_grant("the authorization code has expired")
    if form.get("redirect_uri") != code.redirect_uri:
        raise _invalid_grant("redirect_uri differs from the authorization request")
    verifier = form.get("code_verifier", "")
    if not CODE_VERIFIER.match(verifier):
        raise _invalid_grant("code_verifier is missing or malformed (PKCE)")
    if not hmac.compare_digest(b64url_sha256(verifier), code.code_challenge):
        raise _invalid_grant("code_verifier does not match the code_challenge (PKCE)")


def refresh(session: Session, provider: Provider, client: OidcClient,
            form: dict[str, str]) -> dict[str, Any]:
    """Rotate: the presented refresh token is spent and a new one issued in its family. A
    spent token presented again means two holders: the whole family is revoked."""
    old = repository.locked_refresh_token(session, digest(form.get("refresh_token", "")))
    if old is None or old.client_id != client.client_id:
        raise _invalid_grant("unknown refresh token")
    if old.rotated_at is not None:
        revoked = repository.revoke_token_family(session, old.family)
        _audit_account(session, old.account_id, "oidc.refresh.reuse_detected", client,
                       {"tokens_revoked": revoked})
        raise _invalid_grant("refresh token reused; every token of this sign-in is revoked")
    if old.revoked_at is not None or as_utc(old.expires_at) < now() \
            or _refresh_limit(as_utc(old.auth_time)) < now():
        raise _invalid_grant("refresh token revoked or expired")
    repository.mark_refresh_token_rotated(session, old.id)
    grant = Grant(old.family, old.account_id, _narrowed(old.scope, form.get("scope")), old.acr,
                  old.amr, as_utc(old.auth_time), old.browser_session,
                  organisation_tax_code=old.organisation_tax_code)
    return _tokens(session, provider, client, _live_account(session, client, grant), grant)


def _narrowed(granted: str, asked: str | None) -> str:
    if not asked:
        return granted
    if set(asked.split()) - set(granted.split()):
        raise OAuthError("invalid_scope", "a refresh may only narrow the granted scope")
    return asked


def _live_account(session: Session, client: OidcClient, grant: Grant) -> CitizenAccount:
    """Tokens stop at once when the account is locked or the consent withdrawn."""
    account = identity.active_account(session, grant.account_id)
    if account is None:
        repository.revoke_token_family(session, grant.family)
        raise _invalid_grant("the eID account is locked or no longer active")
    if not repository.has_consent(session, grant.account_id, client.client_id, grant.scope):
        repository.revoke_token_family(session, grant.family)
        raise _invalid_grant("the citizen withdrew consent for this service")
    return account


def _acting_for(session: Session, client: OidcClient, grant: Grant) -> dict[str, Any] | None:
    """The organisation claim of this sign-in, if one was chosen: when the citizen no longer
    acts for it, the sign-in as the organisation ends, like one whose account was locked."""
    if grant.organisation_tax_code is None or \
            ORGANISATION_SCOPE not in grant.scope.split():  # narrowed away at a refresh
        return None
    try:
        return organisation_claim(session, grant.account_id, grant.organisation_tax_code)
    except DomainError:
        repository.revoke_token_family(session, grant.family)
        raise _invalid_grant("the citizen no longer acts for the organisation chosen at "
                             "sign-in") from None


def _tokens(session: Session, provider: Provider, client: OidcClient, account: CitizenAccount,
            grant: Grant) -> dict[str, Any]:
    organisation = _acting_for(session, client, grant)
    moment = now()
    access = new_secret()
    rows = [_row(client, grant, "access", access, moment, ACCESS_TOKEN_LIFETIME)]
    answer: dict[str, Any] = {
        "access_token": access, "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()), "scope": grant.scope,
        "id_token": id_token(provider, client, account.id, grant, access, organisation),
    }
    if "offline_access" in grant.scope.split():
        answer["refresh_token"] = new_secret()
        lifetime = min(REFRESH_TOKEN_LIFETIME, _refresh_limit(grant.auth_time) - moment)
        rows.append(_row(client, grant, "refresh", answer["refresh_token"], moment, lifetime))
    repository.insert_issued_tokens(session, rows)
    return answer


def _refresh_limit(auth_time: datetime) -> datetime:
    return auth_time + SIGN_IN_REFRESH_LIMIT


def _row(client: OidcClient, grant: Grant, kind: str, value: str, moment: datetime,
         lifetime: timedelta) -> dict[str, Any]:
    return {"token_digest": digest(value), "kind": kind, "family": grant.family,
            "client_id": client.client_id, "account_id": grant.account_id, "scope": grant.scope,
            "acr": grant.acr, "amr": grant.amr, "auth_time": grant.auth_time,
            "browser_session": grant.browser_session,
            "organisation_tax_code": grant.organisation_tax_code, "issued_at": moment,
            "expires_at": moment + lifetime}


def id_token(provider: Provider, client: OidcClient, account_id: int, grant: Grant,
             access_token: str, organisation: dict[str, Any] | None = None) -> str:
    moment = int(now().timestamp())
    claims: dict[str, Any] = {
        "iss": provider.issuer, "sub": provider.subject(client, account_id),
        "aud": client.client_id, "iat": moment,
        "exp": moment + int(ID_TOKEN_LIFETIME.total_seconds()),
        "auth_time": int(grant.auth_time.timestamp()), "acr": grant.acr,
        "amr": grant.amr.split(), "sid": grant.browser_session,
        "at_hash": left_half_hash(access_token),
    }
    if grant.nonce:
        claims["nonce"] = grant.nonce
    if organisation is not None:
        claims["organisation"] = organisation
    key = provider.keys.signing_key(client.id_token_alg)
    return jwt.encode({"alg": client.id_token_alg, "kid": key.kid, "typ": "JWT"}, claims, key)


def read_id_token_hint(provider: Provider, hint: str) -> dict[str, Any] | None:
    """Claims of an ID token we signed, expired or not (logout hints are often old)."""
    try:
        token = jwt.decode(hint, provider.keys.verification_keys(), algorithms=["ES256", "RS256"])
    except (JoseError, ValueError):
        return None
    if token.claims.get("iss") != provider.issuer:
        return None
    return dict(token.claims)


# --- revocation, introspection, userinfo ----------------------------------------------------

def revoke(session: Session, client: OidcClient, value: str) -> None:
    """RFC 7009: revoking a refresh token ends its whole sign-in; unknown tokens and other
    clients' tokens are ignored without saying so."""
    found = repository.issued_token(session, digest(value))
    if found is None or found.client_id != client.client_id:
        return
    if found.kind == "refresh":
        repository.revoke_token_family(session, found.family)
    elif found.revoked_at is None:
        found.revoked_at = now()
    _audit_account(session, found.account_id, "oidc.token.revoke", client, {"kind": found.kind})


def _active(session: Session, value: str) -> IssuedToken | None:
    found = repository.issued_token(session, digest(value))
    if found is None or found.revoked_at is not None or found.rotated_at is not None or \
            as_utc(found.expires_at) < now() or \
            identity.active_account(session, found.account_id) is None:
        return None
    return found


def introspect(session: Session, provider: Provider, client: OidcClient,
               value: str) -> dict[str, Any]:
    """RFC 7662, for the client the token was issued to (a resource server registers as
    that client's own backend)."""
    found = _active(session, value)
    if found is None or found.client_id != client.client_id:
        return {"active": False}
    return {"active": True, "client_id": found.client_id, "scope": found.scope,
            "token_type": "Bearer" if found.kind == "access" else "refresh_token",
            "sub": provider.subject(client, found.account_id), "iss": provider.issuer,
            "iat": int(as_utc(found.issued_at).timestamp()),
            "exp": int(as_utc(found.expires_at).timestamp()), "acr": found.acr,
            "auth_time": int(as_utc(found.auth_time).timestamp())}


def userinfo_grant(session: Session, value: str) -> IssuedToken:
    found = _active(session, value)
    if found is None or found.kind != "access":
        raise OAuthError("invalid_token", "the access token is unknown, expired or revoked", 401)
    return found


def _audit_account(session: Session, account_id: int, action: str, client: OidcClient,
                   detail: dict[str, Any]) -> None:
    account = identity.account_by_id(session, account_id)
    audit.record(session, Actor("relying_party", client.client_id), action,
                 subject_type="person", subject_id=account.personal_id_number,
                 purpose=f"single sign-on to {client.name}", detail=detail)


def userinfo(session: Session, provider: Provider, value: str) -> dict[str, Any]:
    grant = userinfo_grant(session, value)
    client = repository.active_client(session, grant.client_id)
    if client is None:
        raise OAuthError("invalid_token", "the client of this token is disabled", 401)
    account = identity.account_by_id(session, grant.account_id)
    claims = {"sub": provider.subject(client, grant.account_id),
              **released_claims(session, client, account, set(grant.scope.split()))}
    if grant.organisation_tax_code and ORGANISATION_SCOPE in grant.scope.split():
        try:
            claims["organisation"] = organisation_claim(session, grant.account_id,
                                                        grant.organisation_tax_code)
        except DomainError:
            raise OAuthError("invalid_token", "the citizen no longer acts for the "
                                              "organisation chosen at sign-in", 401) from None
    return claims
