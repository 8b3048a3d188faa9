"""Every error leaves once, here: as a problem (RFC 9457, application/problem+json) for the API
and for programs, as a page in the site's layout and the reader's language for a browser. A
database that does not answer is a 503 with Retry-After, never a 500."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from civicstack.kit.audit import Actor
from civicstack.kit.errors import (
    DomainError,
    Problem,
    Redirect,
    RefusedWithPage,
    internal_error,
    problem_for,
    problem_of_http,
    problem_of_validation,
    unavailable,
)
from civicstack.kit.i18n import N_
from civicstack.kit.logging import REQUEST_ID_HEADER
from civicstack.kit.web import render

# A database that cannot be reached, or a connection lost on the way.
UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError)
HEADINGS = {
    401: N_("Sign in first"), 403: N_("Not allowed"), 404: N_("Page not found"),
    405: N_("This page cannot be used this way"), 413: N_("Too large to receive"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"), 503: N_("Service temporarily unavailable"),
}
EXPLANATIONS = {
    404: N_("There is no page at this address. Check the address, or start again from the "
            "links below."),
    405: N_("This address does not take this kind of request: use the links and buttons on "
            "the site's pages."),
    413: N_("What was sent is larger than the site accepts. Go back and send smaller files, "
            "or fewer at a time."),
    500: N_("An unexpected error occurred; it has been logged. Please try again."),
    503: N_("The service cannot reach its data at the moment. Please try again in a minute."),
}


@dataclass(frozen=True)
class ErrorPage:
    status: int
    heading: str
    explanation: str
    console: bool  # an official's page: the console's layout, and the way back to its landing
    request_id: str
    operator: Actor | None  # the signed-in official, for the console's header


def wants_html(request: Request) -> bool:
    """A browser asking for a page, not a program calling the API."""
    return (not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", ""))


def respond(request: Request, problem: Problem, reason: str | None = None) -> Response:
    """`reason`: what a domain said when it refused, shown instead of the generic text."""
    if not wants_html(request):
        return problem.response()
    page = ErrorPage(problem.status, HEADINGS.get(problem.status, problem.title),
                     reason or EXPLANATIONS.get(problem.status, problem.detail),
                     request.url.path.startswith("/console"),
                     problem.headers.get(REQUEST_ID_HEADER, ""),
                     getattr(request.state, "official", None))
    response = render(request, "error.html", {"page": page, "operator": page.operator},
                      problem.status)
    response.headers.update(problem.headers)
    return response


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(Redirect)
    async def redirect(request: Request, exc: Redirect) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(RefusedWithPage)
    async def refused_with_page(request: Request, exc: RefusedWithPage) -> Response:
        return exc.page

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        return respond(request, problem_for(exc, request.url.path), exc.detail)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return respond(request, problem_of_validation(exc, request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return respond(request, problem_of_http(exc, request.url.path))

    for unreachable in UNREACHABLE:
        @app.exception_handler(unreachable)
        async def database_unreachable(request: Request, exc: Exception) -> Response:
            return respond(request, unavailable(request.url.path))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> Response:
        if isinstance(exc, UNREACHABLE):  # raised before routing (loading the session)
            return respond(request, unavailable(request.url.path))
        return respond(request, internal_error(request.url.path))
