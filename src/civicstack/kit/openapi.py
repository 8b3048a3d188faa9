"""The API's contract as it is answered: every operation's error statuses with the RFC 9457
problem body they carry, and its security stated even where it is none.

Derived from what FastAPI already wrote into the document from each route's dependencies
(security schemes, parameters, body), never listed per operation: a new route is described
by the same rules the day it is added. A route states an error the rules cannot see (a rate
limit, a refusal in another shape) with FastAPI's own `responses=`; a status it lists without
a body of its own gets the problem body here.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from civicstack.kit.errors import PROBLEM_MEDIA_TYPE, UNAVAILABLE_SECONDS

PROBLEM = "Problem"
PROBLEM_REF = {"$ref": f"#/components/schemas/{PROBLEM}"}
# FastAPI's own 422 body, which the app never sends (kit/error_pages.py answers a problem).
FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")
BODY_METHODS = frozenset({"post", "put", "patch"})
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem. Some refusals add members of their own.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "format": "uri",
                 "description": "Names the kind of problem; stable, for programs."},
        "title": {"type": "string", "description": "The kind of problem, for people."},
        "status": {"type": "integer", "description": "The HTTP status, repeated."},
        "detail": {"type": "string", "description": "This occurrence, in words to act on."},
        "instance": {"type": "string", "description": "The path that was asked for."},
        "errors": {
            "type": "array", "description": "Each refused field, with why (422).",
            "items": {"type": "object", "required": ["field", "reason"],
                      "properties": {"field": {"type": "string"},
                                     "reason": {"type": "string"}}},
        },
    },
}
WHY = {
    400: "The request cannot be acted on as sent (a body that does not parse, say).",
    401: "No credential, or one that is unknown, wrong, expired or revoked.",
    403: "The credential is valid but its role, scope or grants do not cover this.",
    404: "What the request names does not exist, or not for this caller (the same answer).",
    409: "The change conflicts with the record's current state.",
    413: "The body is larger than the server accepts; nothing of it was read further.",
    422: "A parameter or a field of the body is invalid; `errors` names each.",
    429: "Too many requests or failures from this caller; retry later.",
    503: "The database does not answer; retry after `Retry-After` seconds.",
}
HEADERS = {
    401: {"WWW-Authenticate": {"description": "The scheme that would be accepted.",
                               "schema": {"type": "string"}}},
    503: {"Retry-After": {"description": f"Seconds to wait; {UNAVAILABLE_SECONDS} here.",
                          "schema": {"type": "integer"}}},
}


def error_statuses(method: str, operation: dict[str, Any]) -> set[int]:
    """What this operation can answer besides success, read from what it takes."""
    parameters = operation.get("parameters", [])
    statuses = {503}  # every request may find the database down
    if operation.get("security"):
        statuses.add(401)
        # A credential refused in the route's own shape (OAuth's) is never a 403 problem:
        # OAuth answers a client that may not do something with its own 400 or 401.
        if not _has_own_body(operation["responses"].get("401", {})):
            statuses.add(403)
    if parameters or "requestBody" in operation:
        # What it is given may name a record that does not exist (or not for this caller),
        # and may be invalid.
        statuses |= {404, 422}
    if "requestBody" in operation:
        statuses.add(400)  # a body that cannot be parsed at all (not JSON, broken multipart)
    if method in BODY_METHODS:
        statuses |= {409, 413}  # a change meets the record's state; any body meets the limit
    return statuses


def describe_contract(document: dict[str, Any]) -> dict[str, Any]:
    """The document FastAPI generated, with the problem responses and explicit security."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_VALIDATION_SCHEMAS:
        schemas.pop(name, None)
    schemas[PROBLEM] = PROBLEM_SCHEMA
    for operations in document.get("paths", {}).values():
        for method, operation in operations.items():
            operation.setdefault("security", [])  # `[]`: public, said rather than implied
            _describe_errors(method, operation)
    return document


def _describe_errors(method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation["responses"]
    listed = {int(status) for status in responses if status.isdigit() and int(status) >= 400}
    for status in sorted(listed | error_statuses(method, operation)):
        response = responses.setdefault(str(status), {})
        if not _has_own_body(response):
            response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_REF}}
            response["description"] = WHY.get(status) or response.get("description") or ""
        response["description"] = response.get("description") or HTTPStatus(status).phrase
        response.setdefault("headers", {}).update(HEADERS.get(status, {}))
        if not response["headers"]:
            del response["headers"]


def _has_own_body(response: dict[str, Any]) -> bool:
    """A body the route described itself: not FastAPI's validation error, nor the empty
    schema FastAPI puts under a status that a route listed without a model."""
    for media in response.get("content", {}).values():
        schema = media.get("schema", {})
        ref = str(schema.get("$ref", ""))
        if schema and not ref.endswith(FASTAPI_VALIDATION_SCHEMAS):
            return True
    return False
