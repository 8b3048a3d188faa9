"""The officials' console session: the sign-in in two steps kept in the server-side browser
session, and how console forms answer.

The session holds only the official's id and the generation of their account it began in;
the account is re-read at every request (identity/auth.py), so disabling it, changing its role
or resetting its second factor ends the session at once. Between the password and the code,
the session holds a pending sign-in that expires after a few minutes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity import auth
from civicstack.identity.auth import OFFICIAL_KEY
from civicstack.identity.models import OfficialAccount
from civicstack.kit.audit import Actor
from civicstack.kit.errors import DomainError
from civicstack.kit.web import render

PENDING, HEADER = "official_pending", "official_header"
PENDING_SECONDS = 300


def begin(request: Request, official: OfficialAccount) -> None:
    """The password was right: remember whose code to ask for next."""
    request.session.clear()  # a fresh session (a new id and CSRF token) at every sign-in
    request.session[PENDING] = [official.id, official.session_generation, int(time.time())]


def pending(request: Request) -> tuple[int, int] | None:
    """(official id, generation) of a sign-in waiting for its code; None once expired."""
    found = request.session.get(PENDING)
    if not found or time.time() - found[2] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return int(found[0]), int(found[1])


def complete(request: Request, official: OfficialAccount, scope_label: str) -> None:
    """Both steps passed. The name and scope are kept for the console's header: neither can
    change without ending the session."""
    request.session.clear()
    request.session[OFFICIAL_KEY] = [official.id, official.session_generation]
    request.session[HEADER] = {"full_name": official.full_name, "scope_label": scope_label}


def act(request: Request, official: Actor, change: Callable[[Actor], object],
        done: str) -> Response:
    """A console form that changes something (its route already checked CSRF and sign-in):
    `change`'s service checks role and scope; a refusal is shown on the console's error page."""
    try:
        change(official)
    except DomainError as exc:
        return refusal_page(request, official, exc)
    return RedirectResponse(done, status_code=303)


def refusal_page(request: Request, official: Actor, exc: DomainError) -> Response:
    """A refused console page or action, shown on the console's error page with its status."""
    return render(request, "console/error.html", {"operator": official, "error": exc},
                  exc.status)


# TRANSITIONAL: removed once every console page declares `Official` and uses `act` above.
def signed_in_official(request: Request, session: Session) -> Actor | None:
    return auth.signed_in_official(request, session)


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(auth.official_login(
        request.url.path + (f"?{request.url.query}" if request.url.query else "")),
        status_code=303)


def legacy_act(request: Request, session: Session, csrf_token: str,
               change: Callable[[Actor], object], done: str) -> Response:
    from civicstack.kit.web import check_csrf

    check_csrf(request, csrf_token)
    official = signed_in_official(request, session)
    if official is None:
        return login_redirect(request)
    return act(request, official, change, done)
