"""Typed domain errors and their single mapping to RFC 9457 problem responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import structlog
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from civicstack.kit.i18n import Message
from civicstack.kit.logging import REQUEST_ID_HEADER

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "reason": self.reason}


class DomainError(Exception):
    """A refusal the caller can act on. Subclasses fix the HTTP status and problem type.

    `detail` is a sentence marked for translation; values it names as %(name)s are given as
    keywords, so that a page translates the sentence before filling them in (an f-string's
    sentence is in no catalogue)."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None,
                 **values: object) -> None:
        self.detail: str = Message(detail, **values) if values else detail
        super().__init__(self.detail)
        self.errors = errors or []


class NotFound(DomainError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Unauthorized(DomainError):
    status = 401
    type_slug = "unauthorized"
    title = "Authentication required"
    # RFC 9110 section 15.5.2: a 401 must say which scheme would be accepted.
    headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="civicstack"'}


class Forbidden(DomainError):
    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class Invalid(DomainError):
    status = 422
    type_slug = "invalid"
    title = "Invalid input"

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}", errors=[FieldError(field_name, reason)])

    @classmethod
    def of_fields(cls, errors: list[FieldError]) -> Invalid:
        invalid = cls(errors[0].field, errors[0].reason)
        invalid.errors = errors
        invalid.detail = "; ".join(f"{e.field}: {e.reason}" for e in errors)
        return invalid


class RateLimited(DomainError):
    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"


@dataclass
class Problem:
    status: int
    title: str
    detail: str
    type_slug: str
    instance: str
    extras: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {
            "type": f"https://civicstack.example/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "instance": self.instance,
            **self.extras,
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status, media_type=PROBLEM_MEDIA_TYPE,
                            headers=self.headers or None)


def problem_for(error: DomainError, instance: str) -> Problem:
    extras: dict[str, Any] = {}
    if error.errors:
        extras["errors"] = [e.as_dict() for e in error.errors]
    return Problem(error.status, error.title, error.detail, error.type_slug, instance, extras,
                   dict(error.headers))


class Redirect(Exception):
    """Raised by a dependency that sends the browser elsewhere first (to sign in)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class RefusedWithPage(Exception):
    """Raised by a dependency that refuses with its domain's own page (a record named in the
    path that is not the caller's), where the site's generic error page would lose the ways
    forward that page shows beside the reason."""

    def __init__(self, page: Response) -> None:
        super().__init__(page.status_code)
        self.page = page


def problem_of_validation(exc: RequestValidationError, instance: str) -> Problem:
    errors = [  # a body that is not an object at all has no field: name the body
        FieldError(".".join(str(p) for p in e["loc"] if p != "body") or "body", e["msg"])
        for e in exc.errors()
    ]
    return problem_for(Invalid.of_fields(errors), instance)


def problem_of_http(exc: StarletteHTTPException, instance: str) -> Problem:
    title = str(exc.detail) if exc.detail else "HTTP error"
    return Problem(exc.status_code, title, title, f"http-{exc.status_code}", instance,
                   headers=dict(exc.headers or {}))


UNAVAILABLE_SECONDS = 30  # Retry-After while the database does not answer


def unavailable(instance: str) -> Problem:
    """The database does not answer: a 503 the client may retry, never a 500."""
    return Problem(503, "Service unavailable",
                   "the service cannot reach its database; try again shortly", "unavailable",
                   instance, headers={"Retry-After": str(UNAVAILABLE_SECONDS)})


def internal_error(instance: str) -> Problem:
    log.exception("unhandled_error", path=instance)
    # This runs outside the request-id middleware, so put the id back by hand: it is what the
    # caller quotes to find the logged traceback.
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return Problem(
        500, "Internal error", "An unexpected error occurred; it has been logged.",
        "internal", instance,
        headers={REQUEST_ID_HEADER: str(request_id)} if request_id else {},
    )
