"""The officials' console as every domain's pages see it: `Official`, the signed-in official (an
`Actor` with role and scope) as a typed dependency, and how console forms answer (`act`,
`refusal_page`). Who is signed in is identity's to say: it provides the resolver at install
time, so kit, and the register's pages that identity itself depends on, import no account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit.appservices import ServiceKey, services_of
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError, Redirect
from civicstack.kit.web import render


class OfficialResolver(Protocol):
    def __call__(self, request: Request, session: Session) -> Actor | None:
        """The official signed in on this browser, re-read from the database, or None."""


OFFICIAL_RESOLVER = ServiceKey[OfficialResolver]("official_resolver")
# The signed-in official's name and scope label, kept in the session for the console's header.
HEADER = "official_header"


def this_page(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def official_login(next_path: str) -> str:
    return f"/console/login?next={quote(next_path)}"


def current_official(request: Request, session: DbSession) -> Actor:
    actor = services_of(request.app)[OFFICIAL_RESOLVER](request, session)
    if actor is None:
        raise Redirect(official_login(this_page(request)))
    request.state.official = actor  # an error page later in this request shows the header
    return actor


Official = Annotated[Actor, Depends(current_official)]


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
