"""Front-channel pages of the provider: the authorization endpoint, the consent page,
RP-initiated logout, and the citizen's "connected services"."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity import service as identity
from civicstack.identity.auth import Citizen, MaybeCitizen, signed_in_citizen
from civicstack.kit.appservices import Services, services_of
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError
from civicstack.kit.headers import allow_form_target, allow_frames_from
from civicstack.kit.i18n import N_
from civicstack.kit.threads import in_one_transaction
from civicstack.kit.web import render
from civicstack.kit.websession import read_in
from civicstack.oidc import backchannel, repository, service, tokens
from civicstack.oidc.protocol import SCOPE_CLAIMS, UnsafeRedirect, now
from civicstack.oidc.service import AuthorizationRequest, Next, RedirectingError
from civicstack.oidc.site import PROVIDER

router = html_router()
AUTHORIZE_PATH = "/oidc/authorize"
PENDING_CONSENT = "oidc_pending_consent"
# When a request wanting a fresh sign-in (prompt=login, max_age=0) first sent the citizen to
# sign in; ours, not the client's, so it travels outside any pushed request. A forged value
# only weakens the request it is in, which whoever crafted it could have done by leaving
# prompt=login out.
ASKED_AT = "civicstack_asked_at"
STAMP = re.compile(r"^[0-9]{1,13}$")  # milliseconds since 1970, at most in the year 2286
SCOPE_LABELS = {
    "openid": N_("Your identity (an identifier only this service knows you by)"),
    "profile": N_("Your name, gender and date of birth"),
    "address": N_("Your permanent address"),
    "phone": N_("Your verified phone number"),
    "national_id": N_("Your personal ID number"),
    "offline_access": N_("Access while you are away, until you withdraw it"),
    "organisation": N_("The organisation you act for, if you choose one below: its tax code "
                       "and name, your role and what you may do for it"),
}


def _single_values(request: Request) -> dict[str, str]:
    pairs = request.query_params.multi_items()
    values = dict(pairs)
    if len(values) != len(pairs):
        raise UnsafeRedirect("a parameter was sent more than once")
    values.pop("lang", None)  # our language switch, not a protocol parameter
    return values


def _error_page(request: Request, reason: str) -> HTMLResponse:
    return render(request, "portal/oidc_error.html", {"reason": reason}, 400)


def _back_to_client(issuer: str, error: RedirectingError) -> RedirectResponse:
    return RedirectResponse(service.redirect_with(
        error.request, issuer, error=error.error,
        error_description=error.description), status_code=303)


def _here(request: Request) -> str:
    return quote(f"{request.url.path}?{request.url.query}", safe="")


def _asked_at(parameters: dict[str, str]) -> datetime | None:
    stamp = parameters.get(ASKED_AT, "")
    return datetime.fromtimestamp(int(stamp) / 1000, UTC) if STAMP.match(stamp) else None


def _sign_in_first(auth: AuthorizationRequest, parameters: dict[str, str]) -> Response:
    if "login" in auth.prompt or auth.max_age == 0:
        parameters = {ASKED_AT: str(int(now().timestamp() * 1000)), **parameters}
    here = quote(f"{AUTHORIZE_PATH}?{urlencode(parameters)}", safe="")
    return RedirectResponse(f"/account/login?next={here}", status_code=303)


@router.get(AUTHORIZE_PATH)
async def authorize(request: Request) -> Response:
    """Every single sign-on passes here, so all of it (the browser's session, the citizen's,
    the request's checks, consent, the code) runs in one transaction on one worker thread: as
    dependencies (the database session, the citizen, the services) each would cross threads
    on its own, and so would the middleware's read of the browser session."""
    services = services_of(request.app)
    issuer = services[PROVIDER].issuer
    return await in_one_transaction(services.session_factory,
                                    lambda session: _authorize(request, session, issuer))


def _authorize(request: Request, session: Session, issuer: str) -> Response:
    read_in(session, request.session)
    signed = signed_in_citizen(request, session)
    try:
        parameters = _single_values(request)
        auth = service.validate(session, parameters)
        step = service.next_step(session, auth, signed, _asked_at(parameters))
    except UnsafeRedirect as exc:
        return _error_page(request, str(exc))
    except RedirectingError as exc:
        return _back_to_client(issuer, exc)
    if step != Next.ISSUE_CODE:  # the sign-in, step-up or consent form ends at the client
        allow_form_target(request, auth.redirect_uri)
    if step == Next.SIGN_IN:
        return _sign_in_first(auth, parameters)
    if step == Next.STEP_UP:
        return RedirectResponse(f"/account/step-up?next={_here(request)}", status_code=303)
    assert signed is not None  # every later step has a signed-in citizen
    if step == Next.CONSENT:
        return _consent_page(request, session, signed, auth, parameters)
    return RedirectResponse(service.issue_code(session, issuer, signed, auth),
                            status_code=303)


def _consent_page(request: Request, session: Session, signed: identity.SignedIn,
                  auth: AuthorizationRequest, parameters: dict[str, str]) -> HTMLResponse:
    pending = secrets.token_urlsafe(16)
    request.session[PENDING_CONSENT] = {"id": pending, "parameters": parameters}
    claims = {scope: SCOPE_CLAIMS.get(scope, ()) for scope in auth.scopes}
    return render(request, "portal/consent.html", {
        "client": auth.client, "scopes": auth.scopes, "claims": claims, "pending": pending,
        "scope_labels": SCOPE_LABELS,
        "organisations": service.choices_of_organisation(session, signed, auth)})


@router.post("/oidc/consent")
def consent(request: Request, session: DbSession, services: Services, signed: MaybeCitizen,
            pending: Annotated[str, Form()] = "", decision: Annotated[str, Form()] = "",
            organisation: Annotated[str, Form()] = "") -> Response:
    issuer = services[PROVIDER].issuer
    stored: dict[str, Any] = request.session.pop(PENDING_CONSENT, None) or {}
    if not stored or not secrets.compare_digest(str(stored.get("id", "")), pending):
        return _error_page(request, "this consent page has expired; start again at the service "
                                    "you came from")
    parameters: dict[str, str] = stored["parameters"]
    try:
        auth = service.validate(session, parameters)
        if decision != "allow":
            raise RedirectingError(auth, "access_denied", "the citizen declined")
        if signed is not None:
            chosen = service.chosen_organisation(session, signed, auth, organisation)
            service.grant_consent(session, signed, auth)
            if service.next_step(session, auth, signed, _asked_at(parameters),
                                 consented_now=True) == Next.ISSUE_CODE:
                return RedirectResponse(service.issue_code(session, issuer, signed, auth,
                                                           chosen), status_code=303)
    except UnsafeRedirect as exc:
        return _error_page(request, str(exc))
    except DomainError as exc:  # the organisation chosen is not one the citizen acts for
        return render(request, "portal/oidc_error.html", {"reason": exc.detail}, exc.status)
    except RedirectingError as exc:
        return _back_to_client(issuer, exc)
    # signed out meanwhile, or something else is needed first: go round again
    return RedirectResponse(f"{AUTHORIZE_PATH}?{urlencode(parameters)}", status_code=303)


# --- RP-initiated logout ------------------------------------------------------------------

@router.get("/oidc/logout")
def logout(request: Request, session: DbSession, services: Services,
           signed: MaybeCitizen) -> Response:
    """Sign out at once when the relying party proves, with an ID token we issued for the
    signed-in citizen, that the citizen is theirs; otherwise ask the citizen first (a bare
    link must not be able to sign anyone out)."""
    hint = request.query_params.get("id_token_hint", "")
    provider = services[PROVIDER]
    claims = tokens.read_id_token_hint(provider, hint) if hint else None
    target = _post_logout_target(request, session, claims)
    if signed is not None and not _hint_names(session, provider, claims, signed):
        return render(request, "portal/logout.html", {"target": target or ""})
    return _finish_logout(request, session, provider.issuer, signed, target)


@router.post("/oidc/logout")
def confirm_logout(request: Request, session: DbSession, services: Services,
                   signed: MaybeCitizen, target: Annotated[str, Form()] = "") -> Response:
    """Also the portal's own sign-out button: the one place a citizen signs out of the
    provider, so every relying party hears of it."""
    allowed = request.session.pop("oidc_logout_target", "")
    return _finish_logout(request, session, services[PROVIDER].issuer, signed,
                          target if target and target == allowed else None)


def _post_logout_target(request: Request, session: Session,
                        claims: dict[str, Any] | None) -> str | None:
    """Where to send the browser afterwards: only a URI registered by the hint's client."""
    wanted = request.query_params.get("post_logout_redirect_uri")
    client_id = str((claims or {}).get("aud") or request.query_params.get("client_id", ""))
    client = repository.active_client(session, client_id) if wanted else None
    if client is None or wanted not in client.post_logout_redirect_uris:
        return None
    state = request.query_params.get("state")
    target = f"{wanted}?{urlencode({'state': state})}" if state else str(wanted)
    request.session["oidc_logout_target"] = target
    allow_form_target(request, target)  # the confirmation's form ends there
    return target


def _hint_names(session: Session, provider: tokens.Provider, claims: dict[str, Any] | None,
                signed: identity.SignedIn) -> bool:
    if claims is None:
        return False
    client = repository.active_client(session, str(claims.get("aud", "")))
    return client is not None and claims.get("sub") == provider.subject(client,
                                                                         signed.account.id)


def _finish_logout(request: Request, session: Session, issuer: str,
                   signed: identity.SignedIn | None, target: str | None) -> Response:
    """End the session (back-channel logouts are queued with it); the parties that asked for
    front-channel logout get a frame each on the page saying so, before the browser goes on
    to `target`, if any."""
    frames: list[str] = []
    if signed is not None:
        frames = backchannel.frontchannel_logout_urls(
            session, issuer, identity.provider_session_id(signed.session_id))
        identity.end_session(session, signed.account, identity.session_handle(signed.session_id))
    request.session.clear()
    if target and not frames:
        return RedirectResponse(target, status_code=303)
    allow_frames_from(request, frames)
    return render(request, "portal/logout.html", {"done": True, "frames": frames,
                                                  "target": target or ""})


# --- connected services ------------------------------------------------------------------

@router.get("/account/connected-services", response_class=HTMLResponse)
def connected_services(request: Request, session: DbSession, signed: Citizen) -> Response:
    return render(request, "portal/connected_services.html", {
        "services": service.connected_services(session, signed.account.id)})


@router.post("/account/connected-services/{client_id}/withdraw")
def withdraw(session: DbSession, signed: Citizen, client_id: str) -> Response:
    service.withdraw_consent(session, signed.account, client_id)
    return RedirectResponse("/account/connected-services", status_code=303)
