"""Credentials that a handler checks itself, declared as OpenAPI security schemes.

Some credentials cannot be checked by a dependency: the OpenID Connect back channel checks a
client inside the transaction that also records what a refusal changed, and answers in OAuth's
shape; the data exchange counts a forged assertion before it refuses. Such a route declares its
credential with `Security(scheme)` all the same, so the document (and /api/docs' Authorize
button) names it like any credential a dependency reads: FastAPI writes a route's security from
its security dependencies. The declaration reads nothing, so it can change no answer.
"""

from __future__ import annotations

from fastapi.openapi.models import HTTPBase, HTTPBearer
from fastapi.security.base import SecurityBase
from starlette.requests import Request


class CheckedByHandler(SecurityBase):
    """A scheme the route's handler checks; as a dependency it does nothing."""

    def __init__(self, scheme_name: str, model: HTTPBase) -> None:
        self.scheme_name = scheme_name
        self.model = model

    async def __call__(self, request: Request) -> None:
        return None


def bearer_checked_by_handler(scheme_name: str, bearer_format: str,
                              description: str) -> CheckedByHandler:
    """`Authorization: Bearer <token>`, checked by the handler."""
    return CheckedByHandler(scheme_name, HTTPBearer(bearerFormat=bearer_format,
                                                    description=description))


def basic_checked_by_handler(scheme_name: str, description: str) -> CheckedByHandler:
    """`Authorization: Basic <id:secret>`, checked by the handler."""
    return CheckedByHandler(scheme_name, HTTPBase(scheme="basic", description=description))
