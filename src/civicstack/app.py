"""Application factory: wires settings, database, middleware and every domain's routers."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from civicstack import __version__
from civicstack.biometrics import api as biometrics_api
from civicstack.biometrics import console_web as biometrics_console_web
from civicstack.biometrics import web as biometrics_web
from civicstack.biometrics.site import biometrics_site
from civicstack.config import Settings, get_settings
from civicstack.exchange import api as exchange_api
from civicstack.exchange import console_web as exchange_console_web
from civicstack.exchange import service as exchange
from civicstack.exchange import web as exchange_web
from civicstack.identity import console_web, passkeys_web
from civicstack.identity import web as identity_web
from civicstack.identity.photos import PhotoVault
from civicstack.kit import health
from civicstack.kit.db import make_engine, make_session_factory
from civicstack.kit.errors import install_problem_handlers
from civicstack.kit.keys import KeyRing
from civicstack.kit.logging import RequestContextMiddleware, configure_logging
from civicstack.kit.metrics import MetricsMiddleware, metrics_response
from civicstack.kit.outbox import FileMailbox
from civicstack.kit.secrets import load_or_create_secret
from civicstack.kit.web import STATIC_DIR
from civicstack.learning import console_web as learning_console_web
from civicstack.learning import web as learning_web
from civicstack.monitoring import api as monitoring_api
from civicstack.monitoring import console_web as monitoring_console_web
from civicstack.oidc import api as oidc_api
from civicstack.oidc import console_web as oidc_console_web
from civicstack.oidc import web as oidc_web
from civicstack.oidc.demo_rp import MOUNT, demo_bank
from civicstack.oidc.tokens import Provider
from civicstack.organisations import api as organisations_api
from civicstack.organisations import web as organisations_web
from civicstack.registry import api as registry_api
from civicstack.registry import web as registry_web
from civicstack.security import api as security_api
from civicstack.security import web as security_web
from civicstack.services import api as services_api
from civicstack.services import catalogue_web as services_catalogue_web
from civicstack.services import console_web as services_console_web
from civicstack.services import stats_web as services_stats_web
from civicstack.services import web as services_web
from civicstack.services.payments import LocalTreasury
from civicstack.services.signing import LocalAgencySigner
from civicstack.support import console_web as support_console_web
from civicstack.support import web as support_web
from civicstack.travel import api as travel_api
from civicstack.travel import web as travel_web
from civicstack.travel.site import travel_site
from civicstack.wallet import api as wallet_api
from civicstack.wallet import console_web as wallet_console_web
from civicstack.wallet import vci_api, vci_web
from civicstack.wallet import vp_api as wallet_vp_api
from civicstack.wallet import vp_web as wallet_vp_web
from civicstack.wallet import web as wallet_web
from civicstack.wallet.site import wallet_site
from civicstack.worker import lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level, settings.log_json)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = FastAPI(
        title="CivicStack", version=__version__,
        docs_url="/api/docs", redoc_url=None, openapi_url="/api/openapi.json",
        lifespan=lifespan,
    )
    engine = make_engine(settings.resolved_database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = make_session_factory(engine)
    app.state.pepper = load_or_create_secret(settings.data_dir, "apikey-pepper")
    app.state.totp_key = load_or_create_secret(settings.data_dir, "totp-key")  # seals secrets
    app.state.sms_channel = FileMailbox(settings.data_dir / "mailbox")  # demo delivery
    app.state.photo_vault = PhotoVault.of(settings.data_dir)
    app.state.oidc = Provider(settings.issuer, KeyRing(settings.data_dir / "keys"),
                              load_or_create_secret(settings.data_dir, "pairwise-salt"))

    app.state.wallet = wallet_site(settings)
    app.state.payments = LocalTreasury(settings.data_dir / "treasury")
    app.state.result_signer = LocalAgencySigner(settings.data_dir / "keys" / "agencies")
    app.state.biometrics = biometrics_site(settings)
    app.state.exchange_keys = exchange.key_ring(settings.data_dir)
    app.state.travel = travel_site(settings, app.state.biometrics)

    install_problem_handlers(app)
    app.add_middleware(
        SessionMiddleware, secret_key=load_or_create_secret(settings.data_dir, "session-key"),
        # lax, not strict: a relying party sends the citizen here by a top-level link, and
        # single sign-on needs the session on that navigation. Forms carry CSRF tokens.
        session_cookie="civicstack_session", same_site="lax",
        https_only=settings.session_cookie_secure, max_age=8 * 3600,
    )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(RequestContextMiddleware)

    app.include_router(health.router)
    # Routes are matched in order: the OpenID provider's endpoints, which relying parties
    # call most, come first.
    app.include_router(oidc_api.router)
    app.add_route("/metrics", metrics_response, include_in_schema=False)
    app.include_router(registry_api.router, prefix="/api/v1")
    app.include_router(registry_web.router)
    app.include_router(identity_web.router)
    app.include_router(console_web.router)
    app.include_router(passkeys_web.router)
    app.include_router(oidc_web.router)
    app.include_router(oidc_console_web.router)
    app.include_router(organisations_api.router, prefix="/api/v1")
    app.include_router(organisations_web.router)
    app.include_router(wallet_api.public)
    app.include_router(wallet_api.router, prefix="/api/v1")
    app.include_router(wallet_vp_api.router)
    app.include_router(wallet_vp_web.router)
    app.include_router(vci_api.router)
    app.include_router(vci_web.router)
    app.include_router(wallet_web.router)
    app.include_router(wallet_console_web.router)
    app.include_router(services_console_web.router)
    app.include_router(services_catalogue_web.router)
    app.include_router(services_stats_web.router)  # before /services/{code} would catch it
    app.include_router(services_web.router)
    app.include_router(services_api.router, prefix="/api/v1")
    app.include_router(travel_api.router, prefix="/api/v1")
    app.include_router(travel_web.router)
    app.include_router(biometrics_api.router, prefix="/api/v1")
    app.include_router(exchange_api.router, prefix="/api/v1")
    app.include_router(exchange_api.public)
    app.include_router(exchange_web.router)
    app.include_router(exchange_console_web.router)
    app.include_router(security_api.router, prefix="/api/v1")
    app.include_router(security_web.router)
    app.include_router(support_web.router)
    app.include_router(support_console_web.router)
    app.include_router(biometrics_web.router)
    app.include_router(biometrics_console_web.router)
    app.include_router(learning_web.router)
    app.include_router(learning_console_web.router)
    app.include_router(monitoring_console_web.router)
    app.include_router(monitoring_api.router, prefix="/api/v1")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    if settings.demo_relying_party:
        app.mount(MOUNT, demo_bank(settings,
                                   load_or_create_secret(settings.data_dir, "demo-bank-key")))
    return app
