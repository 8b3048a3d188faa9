"""Who is signed in to the officials' console.

Officials sign in with an operator API key until official accounts arrive. The session keeps
only the key's public lookup id; the key is re-checked on every request, so revoking it ends
the session at once.
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from civicstack.kit import apikeys
from civicstack.kit.errors import Unauthorized

SESSION_KEY = "operator_lookup_id"


def sign_in(request: Request, token: str, principal: apikeys.Principal) -> None:
    request.session.clear()  # a fresh session (and CSRF token) at every sign-in
    request.session[SESSION_KEY] = apikeys.lookup_id_of(token)
    request.session["operator_name"] = principal.actor.name


def signed_in_operator(request: Request, session: Session) -> apikeys.Principal | None:
    lookup_id = request.session.get(SESSION_KEY)
    if not lookup_id:
        return None
    try:
        return apikeys.principal_for_lookup(session, str(lookup_id))
    except Unauthorized:
        request.session.clear()
        return None


def login_redirect(request: Request) -> RedirectResponse:
    target = quote(str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""))
    return RedirectResponse(f"/console/login?next={target}", status_code=303)
