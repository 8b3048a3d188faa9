"""Application factory: settings, the shared services, middleware, then every installed domain."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from civicstack import __version__
from civicstack.config import Settings, get_settings
from civicstack.domains import install_all
from civicstack.kit import apidocs, health
from civicstack.kit.appservices import AppServices, services_of
from civicstack.kit.bodylimit import BodyLimitMiddleware
from civicstack.kit.error_pages import install_error_pages
from civicstack.kit.headers import SecurityHeadersMiddleware
from civicstack.kit.installing import Installer
from civicstack.kit.logging import RequestContextMiddleware, configure_logging
from civicstack.kit.metrics import MetricsMiddleware, metrics_response
from civicstack.kit.openapi import describe_contract
from civicstack.kit.web import STATIC_DIR
from civicstack.kit.websession import ServerSessionMiddleware, SessionStore
from civicstack.worker import install_kit_jobs, lifespan

STATIC = "/static"


class CivicStack(FastAPI):
    """FastAPI with the security headers outside every layer, Starlette's catch-all included:
    its 500 page, and a 503 raised before routing, carry them like any other answer; and an
    OpenAPI document that lists the errors each operation can answer."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeadersMiddleware(super().build_middleware_stack(),
                                         services_of(self).settings.hsts_seconds)

    def openapi(self) -> dict[str, Any]:
        """FastAPI's document, completed once with what the API answers (kit/openapi.py)."""
        if self.openapi_schema is None:
            self.openapi_schema = describe_contract(super().openapi())
        return self.openapi_schema


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    app = CivicStack(
        title="CivicStack", version=__version__,
        docs_url=None, redoc_url=None, openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    services = AppServices.start(settings)
    app.state.services = services
    install_error_pages(app)
    # Inside the session, so that a browser's refusal is a page like any other error's.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    sessions = SessionStore(services.session_factory, settings)
    app.add_middleware(ServerSessionMiddleware, store=sessions,
                       secure=settings.session_cookie_secure,
                       sessionless=(STATIC + "/", apidocs.ASSETS + "/"),
                       read_by_handler=services.sessions_read_by_handler)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(health.router)
    app.include_router(apidocs.router)
    app.add_route("/metrics", metrics_response, include_in_schema=False)
    installer = Installer(settings, app=app, services=services)
    install_kit_jobs(installer)
    install_all(installer)
    app.mount(STATIC, StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(apidocs.ASSETS, apidocs.swagger_ui_files(), name="swagger-ui")
    return app

