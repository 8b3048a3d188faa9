"""Relying parties in the officials' console: list, register (the secret shown once), disable.
The same rules as `civicstack oidc client add`; only a role holding `oidc:clients` (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity import console
from civicstack.kit import assertions
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.web import check_csrf, field_errors, render
from civicstack.oidc import clients
from civicstack.oidc.protocol import ACR_LEVELS, SUPPORTED_SCOPES

router = APIRouter(include_in_schema=False)
PAGE = "/console/relying-parties"
DEFAULTS: dict[str, Any] = {"scopes": ["openid", "profile"],
                            "acr_values": ["urn:civicstack:loa:1"]}


def _page(request: Request, session: Session, admin: Actor, form: dict[str, Any],
          errors: dict[str, str], status_code: int = 200,
          created: clients.RegisteredClient | None = None) -> Response:
    context: dict[str, Any] = {
        "operator": admin, "form": form, "errors": errors, "created": created,
        "scopes": SUPPORTED_SCOPES, "acr_levels": list(ACR_LEVELS),
        "auth_methods": clients.AUTH_METHODS}
    try:
        context["clients"] = clients.list_clients(session, admin)
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return render(request, "console/relying_parties.html", context, status_code)


@router.get(PAGE, response_class=HTMLResponse)
def relying_parties(request: Request, session: DbSession) -> Response:
    admin = console.signed_in_official(request, session)
    if admin is None:
        return console.login_redirect(request)
    return _page(request, session, admin, dict(DEFAULTS), {})


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _jwks(text: str) -> dict[str, Any] | None:
    return assertions.jwks_from_text(text) if text.strip() else None


@router.post(PAGE, response_class=HTMLResponse)
async def register(request: Request, session: DbSession) -> Response:
    """Form with repeated checkboxes (scopes, levels), hence read by hand."""
    form = await request.form(max_files=0, max_fields=64)
    check_csrf(request, str(form.get("csrf_token", "")))
    admin = console.signed_in_official(request, session)
    if admin is None:
        return console.login_redirect(request)
    values = {name: str(form.get(name, "")) for name in (
        "name", "redirect_uris", "post_logout_redirect_uris", "auth_method", "jwks",
        "id_token_alg")}
    chosen = {"scopes": [str(v) for v in form.getlist("scopes")],
              "acr_values": [str(v) for v in form.getlist("acr_values")]}
    try:
        registered = clients.register_client(session, admin, services_of(request.app).pepper,
                                             clients.NewClient(
            name=values["name"], redirect_uris=_lines(values["redirect_uris"]),
            auth_method=values["auth_method"], jwks=_jwks(values["jwks"]),
            scopes=tuple(chosen["scopes"]), acr_values=tuple(chosen["acr_values"]),
            post_logout_redirect_uris=_lines(values["post_logout_redirect_uris"]),
            id_token_alg=values["id_token_alg"] or "ES256"))
    except Invalid as exc:
        return _page(request, session, admin, {**values, **chosen}, field_errors(exc),
                     exc.status)
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return _page(request, session, admin, dict(DEFAULTS), {}, 201, created=registered)


@router.post(PAGE + "/{client_id}/disable")
def disable(request: Request, session: DbSession, client_id: str,
            csrf_token: Annotated[str, Form()] = "") -> Response:
    return console.legacy_act(request, session, csrf_token,
                       lambda admin: clients.disable_client(session, admin, client_id), PAGE)
