"""Prometheus metrics: request counts and latencies by route template, plus domain counters."""

from __future__ import annotations

import time

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry()
HTTP_REQUESTS = Counter(
    "civicstack_http_requests_total", "HTTP requests by method, route and status",
    ["method", "route", "status"], registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "civicstack_http_request_duration_seconds", "HTTP request latency by route",
    ["method", "route"], registry=REGISTRY,
)
PERSON_READS = Counter(
    "civicstack_registry_person_reads_total", "Audited reads of person records by purpose kind",
    ["action"], registry=REGISTRY,
)
LOGIN_FAILURES = Counter(
    "civicstack_login_failures_total", "Failed sign-ins (wrong password or code) by account kind",
    ["account"], registry=REGISTRY,
)
LOCKOUTS = Counter(
    "civicstack_account_lockouts_total", "Accounts locked by a run of failed sign-ins",
    ["account"], registry=REGISTRY,
)
RATE_LIMIT_REFUSALS = Counter(
    "civicstack_rate_limit_refusals_total", "Requests refused by a rate limit, by limiter",
    ["limiter"], registry=REGISTRY,
)
EXCHANGE_REFUSALS = Counter(
    "civicstack_exchange_refusals_total",
    "Data-exchange requests refused: member authentication, outside every agreement, or an "
    "answer missing within one",
    ["stage"], registry=REGISTRY,
)
SECURITY_ALERT_ACTIVE = Gauge(
    "civicstack_security_alert_active", "1 while a security alert is raised, by kind",
    ["kind"], registry=REGISTRY,
)
CHAIN_INTACT = Gauge(
    "civicstack_hash_chain_intact", "1 when the last verification found the log intact",
    ["log"], registry=REGISTRY,
)
CHAIN_CHECKED_AT = Gauge(
    "civicstack_hash_chain_checked_timestamp_seconds", "When the log's chain was last verified",
    ["log"], registry=REGISTRY,
)
REGISTRY_IMPORT_ROWS = Counter(
    "civicstack_registry_import_rows_total", "Rows seen by registry imports by outcome",
    ["outcome"], registry=REGISTRY,
)
OUTBOX_MESSAGES = Gauge(
    "civicstack_outbox_messages", "Messages in the outbox by kind and status (pending, "
    "delivered, failed), as the database holds them for every instance",
    ["kind", "status"], registry=REGISTRY,
)


def metrics_response(_: Request) -> Response:
    return Response(_generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Labels by route template (not raw path) so ID numbers never become label values."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = _route_template(scope)  # routing has filled the scope by now
            HTTP_REQUESTS.labels(scope["method"], route, str(status["code"])).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(time.perf_counter() - started)


def _route_template(scope: Scope) -> str:
    """The matched route's template ("/api/v1/registry/persons/{personal_id_number}"), never the
    raw path: unmatched paths collapse to one label, everything below a mount (static files) to
    "<mount>/{path}", so scanners cannot explode the series count."""
    if "endpoint" not in scope:
        return "unmatched"
    path = str(scope["path"])
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str) and template and not isinstance(route, Mount):
        # FastAPI may name the route as declared on its APIRouter, without the prefixes given
        # to include_router(); those are literal, so take them back from the front of the path.
        segments = path.split("/")
        return "/".join(segments[: max(len(segments) - template.count("/"), 1)]) + template
    root = str(scope.get("root_path", ""))
    if isinstance(route, Mount) or root != scope.get("app_root_path", root):
        return f"{root.rstrip('/')}/{{path}}"
    # A plain Starlette route (e.g. /metrics): put its parameters back by name.
    names = {str(value): name for name, value in scope.get("path_params", {}).items()}
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in path.split("/"))
