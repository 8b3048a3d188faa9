"""Relying parties in the officials' console: list, register (the secret shown once), disable.
The same rules as `civicstack oidc client add`; only a role holding `oidc:clients` (admin)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from civicstack.kit import assertions, console
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.console import Official
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Invalid
from civicstack.kit.web import field_errors, render
from civicstack.oidc import clients
from civicstack.oidc.protocol import ACR_LEVELS, SUPPORTED_SCOPES

router = html_router()
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
def relying_parties(request: Request, session: DbSession, admin: Official) -> Response:
    return _page(request, session, admin, dict(DEFAULTS), {})


def _lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _jwks(text: str) -> dict[str, Any] | None:
    return assertions.jwks_from_text(text) if text.strip() else None


class ClientForm(BaseModel):
    """The registration form as sent; its checkboxes (scopes, levels) repeat, so are lists."""

    name: str = ""
    redirect_uris: str = ""
    post_logout_redirect_uris: str = ""
    auth_method: str = ""
    jwks: str = ""
    id_token_alg: str = ""
    scopes: list[str] = []
    acr_values: list[str] = []
    backchannel_logout_uri: str = ""
    backchannel_logout_session_required: bool = False
    frontchannel_logout_uri: str = ""
    frontchannel_logout_session_required: bool = False


@router.post(PAGE, response_class=HTMLResponse)
def register(request: Request, session: DbSession, services: Services, admin: Official,
             form: Annotated[ClientForm, Form()]) -> Response:
    try:
        registered = clients.register_client(session, admin, services.pepper, clients.NewClient(
            name=form.name, redirect_uris=_lines(form.redirect_uris),
            auth_method=form.auth_method, jwks=_jwks(form.jwks),
            scopes=tuple(form.scopes), acr_values=tuple(form.acr_values),
            post_logout_redirect_uris=_lines(form.post_logout_redirect_uris),
            id_token_alg=form.id_token_alg or "ES256",
            backchannel_logout_uri=form.backchannel_logout_uri.strip(),
            backchannel_logout_session_required=form.backchannel_logout_session_required,
            frontchannel_logout_uri=form.frontchannel_logout_uri.strip(),
            frontchannel_logout_session_required=form.frontchannel_logout_session_required))
    except Invalid as exc:
        return _page(request, session, admin, form.model_dump(), field_errors(exc), exc.status)
    except DomainError as exc:
        return console.refusal_page(request, admin, exc)
    return _page(request, session, admin, dict(DEFAULTS), {}, 201, created=registered)


@router.post(PAGE + "/{client_id}/disable")
def disable(request: Request, session: DbSession, admin: Official, client_id: str) -> Response:
    return console.act(request, admin,
                       lambda actor: clients.disable_client(session, actor, client_id), PAGE)
