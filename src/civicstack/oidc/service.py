"""The authorization endpoint's rules: validate a request (plain or pushed, RFC 9126), decide
what the citizen must do next (sign in, step up, consent), and issue the one-use code.

Errors found before the client and its redirect URI are trusted raise UnsafeRedirect (an
error page); later ones raise OAuthError, which the web layer sends back to the client.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.identity.models import CitizenAccount
from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.db import as_utc
from civicstack.kit.errors import NotFound
from civicstack.oidc import repository
from civicstack.oidc.models import AuthorizationCode, Consent, OidcClient, PushedAuthorization
from civicstack.oidc.protocol import (
    ACR_LEVELS,
    ACR_OF_LEVEL,
    CODE_LIFETIME,
    ORGANISATION_SCOPE,
    PUSHED_REQUEST_LIFETIME,
    REQUEST_URI_PREFIX,
    SUPPORTED_SCOPES,
    OAuthError,
    UnsafeRedirect,
    digest,
    new_secret,
    now,
)
from civicstack.organisations import service as organisations

CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # base64url of a SHA-256 digest
KNOWN_PROMPTS = frozenset({"none", "login", "consent"})
MAX_AGE = re.compile(r"^[0-9]{1,9}$")
MAX_PARAMETER = 2000


@dataclass(frozen=True)
class AuthorizationRequest:
    client: OidcClient
    redirect_uri: str
    state: str | None
    scopes: tuple[str, ...] = ()
    nonce: str | None = None
    code_challenge: str = ""
    acr_values: tuple[str, ...] = ()
    prompt: frozenset[str] = field(default_factory=frozenset)
    max_age: int | None = None
    pushed_id: int | None = None

    @property
    def required_level(self) -> int:
        return max((ACR_LEVELS[acr] for acr in self.acr_values), default=1)


# --- pushed authorization requests (RFC 9126) ---------------------------------------------

def push_request(session: Session, client: OidcClient,
                 parameters: dict[str, str]) -> tuple[str, int]:
    """Validate the parameters now (the client hears of mistakes before sending anyone) and
    keep them behind a one-use request_uri."""
    if "request_uri" in parameters:
        raise OAuthError("invalid_request", "request_uri may not itself be pushed")
    kept = {k: v for k, v in parameters.items() if not k.startswith("client_assertion")}
    try:
        validate(session, {**kept, "client_id": client.client_id})
    except UnsafeRedirect as exc:
        raise OAuthError("invalid_request", str(exc)) from None
    handle = new_secret()
    session.add(PushedAuthorization(handle_digest=digest(handle), client_id=client.client_id,
                                    parameters=kept, expires_at=now() + PUSHED_REQUEST_LIFETIME))
    return REQUEST_URI_PREFIX + handle, int(PUSHED_REQUEST_LIFETIME.total_seconds())


def _pushed(session: Session, parameters: dict[str, str]) -> tuple[dict[str, str], int]:
    request_uri = parameters["request_uri"]
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        raise UnsafeRedirect("request_uri was not issued by this provider")
    pushed = repository.pushed_request(session,
                                       digest(request_uri[len(REQUEST_URI_PREFIX):]))
    if pushed is None or pushed.used_at is not None or as_utc(pushed.expires_at) < now():
        raise UnsafeRedirect("request_uri is unknown, used or expired; start again at the "
                             "service you came from")
    if parameters.get("client_id") != pushed.client_id:
        raise UnsafeRedirect("request_uri belongs to another client")
    return {**pushed.parameters, "client_id": pushed.client_id}, pushed.id


# --- validation --------------------------------------------------------------------------

def validate(session: Session, parameters: dict[str, str]) -> AuthorizationRequest:
    pushed_id = None
    if "request_uri" in parameters:
        parameters, pushed_id = _pushed(session, parameters)
    if any(len(value) > MAX_PARAMETER for value in parameters.values()):
        raise UnsafeRedirect("a request parameter is too long")
    client = repository.active_client(session, parameters.get("client_id", ""))
    if client is None:
        raise UnsafeRedirect("unknown or disabled client")
    redirect_uri = parameters.get("redirect_uri", "")
    if redirect_uri not in client.redirect_uris:  # exact string match, RFC 9700 2.1
        raise UnsafeRedirect("redirect_uri is not registered for this client")
    request = AuthorizationRequest(client, redirect_uri, parameters.get("state"))
    _check_protocol(request, parameters)
    return AuthorizationRequest(
        client, redirect_uri, request.state, scopes=_scopes(request, parameters),
        nonce=parameters.get("nonce"), code_challenge=parameters["code_challenge"],
        acr_values=_acr_values(request, parameters),
        prompt=frozenset(parameters.get("prompt", "").split()),
        max_age=int(parameters["max_age"]) if "max_age" in parameters else None,
        pushed_id=pushed_id)


class RedirectingError(OAuthError):
    """An OAuthError that goes back to the client's redirect URI."""

    def __init__(self, request: AuthorizationRequest, error: str, description: str) -> None:
        super().__init__(error, description)
        self.request = request


def _check_protocol(request: AuthorizationRequest, parameters: dict[str, str]) -> None:
    if parameters.get("response_type") != "code":
        raise RedirectingError(request, "unsupported_response_type",
                               "only the authorization code flow (response_type=code) is served")
    if parameters.get("code_challenge_method") != "S256" or \
            not CODE_CHALLENGE.match(parameters.get("code_challenge", "")):
        raise RedirectingError(request, "invalid_request",
                               "PKCE is required: send a code_challenge with method S256")
    prompt = set(parameters.get("prompt", "").split())
    if prompt - KNOWN_PROMPTS:
        raise RedirectingError(request, "invalid_request", "prompt may be none, login or consent")
    if "none" in prompt and len(prompt) > 1:  # OIDC Core 3.1.2.1
        raise RedirectingError(request, "invalid_request", "prompt=none stands alone")
    if "max_age" in parameters and not MAX_AGE.match(parameters["max_age"]):
        raise RedirectingError(request, "invalid_request",
                               "max_age must be a whole number of seconds")


def _scopes(request: AuthorizationRequest, parameters: dict[str, str]) -> tuple[str, ...]:
    """The scopes asked for that this provider knows: an unknown one (`email`) is ignored, as
    OIDC Core 3.1.2.1 says, so a standard client still signs in, and it is never granted (the
    token response's `scope` tells the client). A known scope the client was not registered
    for is refused: that is a client overreaching, not a vocabulary it shares with others."""
    asked = tuple(scope for scope in dict.fromkeys(parameters.get("scope", "").split())
                  if scope in SUPPORTED_SCOPES)
    if "openid" not in asked:
        raise RedirectingError(request, "invalid_scope", "the openid scope is required")
    refused = set(asked) - set(request.client.scopes.split())
    if refused:
        raise RedirectingError(request, "invalid_scope",
                               f"not allowed for this client: {' '.join(sorted(refused))}")
    return asked


def _acr_values(request: AuthorizationRequest, parameters: dict[str, str]) -> tuple[str, ...]:
    asked = tuple(parameters.get("acr_values", "").split())
    refused = set(asked) - set(request.client.acr_values.split())
    if refused:
        raise RedirectingError(request, "invalid_request",
                               f"acr values not allowed for this client: {sorted(refused)}")
    return asked


# --- what happens next ---------------------------------------------------------------------

class Next(enum.StrEnum):
    SIGN_IN = "sign_in"
    STEP_UP = "step_up"
    CONSENT = "consent"
    ISSUE_CODE = "issue_code"


def next_step(session: Session, request: AuthorizationRequest,
              signed: identity.SignedIn | None, asked_at: datetime | None = None,
              consented_now: bool = False) -> Next:
    """Sign-in (again, when the client wants a fresh one), then the level the client asked
    for, then consent; prompt=none forbids every interaction, so each step it would need
    becomes an error for the client instead. `asked_at` is when this request first sent the
    citizen to sign in for freshness; a sign-in since then satisfies prompt=login.
    `consented_now` is true only in the answer to this request's own consent page: that
    consent satisfies prompt=consent, which would otherwise ask again for ever."""
    silent = "none" in request.prompt
    if signed is None or _too_old(request, signed, asked_at):
        _refuse_if(silent, request, "login_required")
        return Next.SIGN_IN
    if signed.level < request.required_level:
        if request.required_level > signed.account.level:
            raise RedirectingError(request, "unmet_authentication_requirements",
                                   "this eID account cannot reach the level of assurance "
                                   "asked for")
        _refuse_if(silent, request, "interaction_required")
        return Next.STEP_UP
    # Which organisation (or none) the citizen acts for is chosen at each sign-in, when
    # there is a choice: the same person may act for another company at the same bank
    # tomorrow.
    asks_again = "consent" in request.prompt or \
        bool(choices_of_organisation(session, signed, request))
    if (asks_again and not consented_now) or not repository.has_consent(
            session, signed.account.id, request.client.client_id, " ".join(request.scopes)):
        _refuse_if(silent, request, "consent_required")
        return Next.CONSENT
    return Next.ISSUE_CODE


def _too_old(request: AuthorizationRequest, signed: identity.SignedIn,
             asked_at: datetime | None) -> bool:
    if "login" in request.prompt or request.max_age == 0:
        return asked_at is None or signed.authenticated_at < asked_at
    if request.max_age is not None:
        return now() - signed.authenticated_at > timedelta(seconds=request.max_age)
    return False


def _refuse_if(silent: bool, request: AuthorizationRequest, error: str) -> None:
    if silent:
        raise RedirectingError(request, error, "prompt=none, but the citizen must act")


def grant_consent(session: Session, signed: identity.SignedIn,
                  request: AuthorizationRequest) -> None:
    """Record the citizen's yes; a wider later consent replaces the narrower one."""
    consent = repository.live_consent(session, signed.account.id, request.client.client_id)
    scopes = set(request.scopes) | set(consent.scope.split() if consent else ())
    if consent is None:
        consent = Consent(account_id=signed.account.id, client_id=request.client.client_id,
                          scope="", granted_at=now())
        session.add(consent)
    consent.scope = " ".join(sorted(scopes))
    consent.granted_at = now()
    _audit(session, signed.account.personal_id_number, "oidc.consent.grant", request.client,
           {"scope": consent.scope})


def choices_of_organisation(session: Session, signed: identity.SignedIn,
                            request: AuthorizationRequest) -> list[organisations.Acting]:
    """The organisations the consent page offers to act for (none unless the client asked
    for the organisation scope)."""
    if ORGANISATION_SCOPE not in request.scopes:
        return []
    return organisations.organisations_acting(session, signed.account.id)


def chosen_organisation(session: Session, signed: identity.SignedIn,
                        request: AuthorizationRequest, tax_code: str) -> str | None:
    """The tax code the citizen chose on the consent page, checked again (a form can be
    forged or stale); empty: acting as themselves."""
    if not tax_code or ORGANISATION_SCOPE not in request.scopes:
        return None
    return organisations.acting_for(session, signed.account.id, tax_code).tax_code


def issue_code(session: Session, issuer: str, signed: identity.SignedIn,
               request: AuthorizationRequest, organisation_tax_code: str | None = None) -> str:
    """The redirect back to the client carrying a fresh code, the state and `iss` (RFC 9207).
    The client now holds a session through the citizen's: it is told when that one ends.
    `organisation_tax_code`: the organisation chosen at consent, carried into the tokens."""
    code = new_secret()
    sid = identity.provider_session_id(signed.session_id)
    session.add(AuthorizationCode(
        code_digest=digest(code), family=new_secret()[:32], client_id=request.client.client_id,
        account_id=signed.account.id, redirect_uri=request.redirect_uri,
        scope=" ".join(request.scopes), nonce=request.nonce,
        code_challenge=request.code_challenge, acr=ACR_OF_LEVEL[signed.level],
        amr=" ".join(signed.amr), auth_time=signed.authenticated_at,
        browser_session=sid, organisation_tax_code=organisation_tax_code,
        expires_at=now() + CODE_LIFETIME))
    # The audit entry before any statement, so that the code and the entry go in one flush.
    _audit(session, signed.account.personal_id_number, "oidc.sign_in", request.client,
           {"scope": " ".join(request.scopes), "acr": ACR_OF_LEVEL[signed.level],
            **({"organisation": organisation_tax_code} if organisation_tax_code else {})})
    repository.record_rp_session(session, request.client.client_id, signed.account.id, sid)
    if request.pushed_id is not None:
        repository.mark_pushed_request_used(session, request.pushed_id)
    return redirect_with(request, issuer, code=code)


def redirect_with(request: AuthorizationRequest, issuer: str, **values: str) -> str:
    answer = {**values, "iss": issuer}
    if request.state is not None:
        answer["state"] = request.state
    separator = "&" if "?" in request.redirect_uri else "?"
    return f"{request.redirect_uri}{separator}{urlencode(answer)}"


def _audit(session: Session, personal_id_number: str, action: str, client: OidcClient,
           detail: dict[str, str]) -> None:
    audit.record(session, Actor("citizen", personal_id_number), action, subject_type="person",
                 subject_id=personal_id_number, purpose=f"single sign-on to {client.name}",
                 detail={"client_id": client.client_id, **detail})


# --- connected services ---------------------------------------------------------------------

@dataclass(frozen=True)
class ConnectedService:
    client_id: str
    name: str
    scopes: tuple[str, ...]
    granted_at: datetime


def connected_services(session: Session, account_id: int) -> list[ConnectedService]:
    return [ConnectedService(consent.client_id, name, tuple(consent.scope.split()),
                             consent.granted_at)
            for consent, name in repository.live_consents_with_client_names(session, account_id)]


def withdraw_consent(session: Session, account: CitizenAccount, client_id: str) -> None:
    """The relying party loses every token it holds for this citizen at once."""
    consent = repository.live_consent(session, account.id, client_id)
    client = repository.active_client(session, client_id)
    if consent is None or client is None:
        raise NotFound("no connected service with this id")
    consent.withdrawn_at = now()
    revoked = repository.revoke_tokens_held_for(session, account.id, client_id)
    _audit(session, account.personal_id_number, "oidc.consent.withdraw", client,
           {"tokens_revoked": str(revoked)})


def withdraw_consents_of_closed(session: Session, closed: identity.AccountClosed) -> int:
    """A closed account lets no relying party read anything more: every standing consent is
    withdrawn and every token held under it revoked, refresh tokens of long-ended sessions
    too (subscribed to `identity.AccountClosed`; the sessions' own logouts were queued when
    they ended). A replay finds no consent left."""
    consents = repository.live_consents_with_client_names(session, closed.account_id)
    for consent, name in consents:
        consent.withdrawn_at = now()
        revoked = repository.revoke_tokens_held_for(session, closed.account_id,
                                                    consent.client_id)
        audit.record(session, Actor("system", "life-events"), "oidc.consent.withdraw",
                     subject_type="person", subject_id=closed.personal_id_number,
                     purpose=f"eID account closed ({closed.reason.value})",
                     detail={"client_id": consent.client_id, "client": name,
                             "tokens_revoked": str(revoked)})
    return len(consents)
