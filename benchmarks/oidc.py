"""Benchmark: OpenID Connect token endpoint and password sign-in, ours vs django-oauth-toolkit.

One process, one thread, the same machine and the same kind of database (an SQLite file in
WAL mode) for both providers, each driven by its framework's in-process test client:

1. token endpoint, authorization-code grant: PKCE S256, client_secret_basic, an RS256 ID
   token (nonce, at_hash) and a refresh token issued;
2. token endpoint, refresh_token grant with rotation (and reuse detection) and a new ID token;
3. authorization endpoint: a signed-in citizen (whose consent is on record; DOT: an
   application that skips authorisation) sent with PKCE S256 and a nonce, answered with a
   redirect carrying a fresh code;
4. password sign-in: our POST /account/login next to Django's LoginView with an
   Argon2PasswordHasher given our parameters (argon2id t=2, 19 MiB, p=1, 32-byte hash).

For the grants, codes are minted through each provider's own authorization endpoint with a
fresh PKCE pair and nonce, untimed; then only the POSTs to the token endpoint are timed. The
authorization step times those same GETs of the authorization endpoint.
The two sides alternate in rounds so that drift of the machine hits both. Figures are per
core: requests per second of wall time with one thread, and requests per CPU-second of the
whole process (which also counts the test clients' own threads).

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/oidc.py --grants 2000 --logins 30
    CIVICSTACK_BENCH_PG_URL=postgresql+psycopg://user@host/postgres .venv/bin/python \
        benchmarks/oidc.py      # adds our provider on PostgreSQL (a scratch database is made)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import copy
import hashlib
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import types
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support builds people, accounts and clients

REDIRECT = "https://rp.example/callback"
SCOPE = "openid profile offline_access"
PASSWORD = "correct horse battery"  # noqa: S105 (a benchmark input)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
DJANGO_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')
WARM_UP = 20


# --- measuring ------------------------------------------------------------------------------

@dataclass
class Figures:
    """Timed requests of one kind on one side: wall and CPU seconds, and each latency."""

    wall: float = 0.0
    cpu: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.latencies)

    def per_second(self) -> float:
        return self.count / self.wall if self.wall else 0.0

    def per_cpu_second(self) -> float:
        return self.count / self.cpu if self.cpu else 0.0

    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    def p95_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] * 1000

    @contextmanager
    def timed(self) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        self.wall += wall
        self.cpu += cpu
        self.latencies.append(wall)


def status_of(response: Any) -> int:
    """Both clients' responses (Django's and httpx's) carry these two the same way."""
    return int(response.status_code)


def body_of(response: Any) -> dict[str, Any]:
    return dict(response.json())


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def basic_auth(client_id: str, secret: str) -> str:
    """RFC 6749 2.3.1: each half form-urlencoded, then joined and base64-encoded."""
    joined = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(joined).decode()


def code_from(location: str) -> str:
    assert location.startswith(REDIRECT), f"not sent back to the client: {location[:200]}"
    query = parse_qs(urlsplit(location).query)
    assert "code" in query, f"no code in {location[:200]}"
    return query["code"][0]


def jwt_part(part: str) -> dict[str, Any]:
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def check_grant(side: Side, body: dict[str, Any], nonce: str | None) -> None:
    """Both providers must really do the work: an access token, a refresh token, and an ID
    token signed with the expected algorithm (carrying the nonce sent, when one was)."""
    missing = {"access_token", "refresh_token", "id_token"} - set(body)
    assert not missing, f"{side.name}: the answer lacks {missing}: {body}"
    header, payload, _ = body["id_token"].split(".")
    assert jwt_part(header)["alg"] == side.id_token_alg, (side.name, header)
    if nonce is not None:
        assert jwt_part(payload)["nonce"] == nonce, side.name


def rsa_private_pem() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


# --- the peer: django-oauth-toolkit ---------------------------------------------------------

class DjangoOAuthToolkit:
    """Django + django-oauth-toolkit, configured like our provider: PKCE S256 required, refresh
    tokens rotated with reuse protection, tokens stored hashed, RS256 ID tokens, lifetimes
    of 60 s / 10 min / 10 min / 30 days, one database transaction per request."""

    name = "django-oauth-toolkit"
    id_token_alg = "RS256"  # noqa: S105 (an algorithm name)

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._configure()
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client
        from oauth2_provider.models import Application

        call_command("migrate", verbosity=0)
        self.user = User.objects.create_user("citizen", password=PASSWORD)
        self.secret = secrets.token_urlsafe(32)  # the same kind of secret as ours
        self.app = Application.objects.create(
            name="Bank", client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            redirect_uris=REDIRECT, algorithm=Application.RS256_ALGORITHM,
            skip_authorization=True, client_secret=self.secret,
            # Stored hashed, DOT would run Django's password hasher (argon2 here) on every
            # token request; ours keeps a keyed SHA-256 digest. Plain storage is DOT's fastest.
            hash_client_secret=False)
        self.authorization = basic_auth(self.app.client_id, self.secret)
        self.browser = Client()  # the citizen's browser, signed in once
        self.backchannel = Client()  # the relying party: no cookies
        assert self.browser.login(username="citizen", password=PASSWORD)

    def _configure(self) -> None:
        import django
        from django.conf import settings

        urls = types.ModuleType("civicstack_bench_django_urls")
        sys.modules[urls.__name__] = urls
        settings.configure(
            DEBUG=False, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS=["testserver"],
            USE_TZ=True, ROOT_URLCONF=urls.__name__,
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                            "django.contrib.sessions", "oauth2_provider"],
            MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                        "django.middleware.common.CommonMiddleware",
                        "django.middleware.csrf.CsrfViewMiddleware",
                        "django.contrib.auth.middleware.AuthenticationMiddleware"],
            DATABASES={"default": {
                "ENGINE": "django.db.backends.sqlite3", "NAME": str(self.folder / "dot.db"),
                "ATOMIC_REQUESTS": True,
                # as our engine: WAL, foreign keys on (Django turns them on itself)
                "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; "
                                            "PRAGMA busy_timeout=10000"}}},
            TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                        "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {
                            "registration/login.html":
                                '<form method="post">{% csrf_token %}{{ form }}</form>'})]}}],
            PASSWORD_HASHERS=[f"{urls.__name__}.CivicStackArgon2"],
            LOGIN_URL="/accounts/login/", LOGIN_REDIRECT_URL="/",
            LOGGING_CONFIG=None,
            OAUTH2_PROVIDER={
                "OIDC_ENABLED": True, "OIDC_RSA_PRIVATE_KEY": rsa_private_pem(),
                "OIDC_ISS_ENDPOINT": "http://testserver",
                "PKCE_REQUIRED": True, "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
                "ROTATE_REFRESH_TOKEN": True, "REFRESH_TOKEN_REUSE_PROTECTION": True,
                "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
                "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
                "SCOPES": {"openid": "OpenID Connect", "profile": "Profile",
                           "offline_access": "Offline access"},
                "DEFAULT_SCOPES": ["openid"],
                "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60, "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
                "ID_TOKEN_EXPIRE_SECONDS": 600, "REFRESH_TOKEN_EXPIRE_SECONDS": 30 * 86400,
            })
        django.setup()
        from django.contrib.auth.hashers import Argon2PasswordHasher
        from django.contrib.auth.views import LoginView
        from django.http import JsonResponse
        from django.urls import include, path

        from civicstack.identity.passwords import hasher

        ours = hasher()

        class CivicStackArgon2(Argon2PasswordHasher):
            """Django's argon2id hasher with identity/passwords.py's parameters."""

            time_cost, memory_cost, parallelism = (ours.time_cost, ours.memory_cost,
                                                   ours.parallelism)

            def params(self) -> Any:
                found = super().params()
                found.hash_len = ours.hash_len  # Django's default is 16 bytes
                return found

        urls.CivicStackArgon2 = CivicStackArgon2  # type: ignore[attr-defined]
        urls.urlpatterns = [  # type: ignore[attr-defined]
            path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
            path("accounts/login/", LoginView.as_view()),
            path("healthz", lambda request: JsonResponse({"status": "ok"})),
        ]

    def authorize(self, parameters: dict[str, str]) -> str:
        """The signed-in citizen's browser at the authorization endpoint: where it is sent."""
        response = self.browser.get("/o/authorize/", {"client_id": self.app.client_id,
                                                      **parameters})
        assert response.status_code == 302, (response.status_code, response.content[:300])
        return str(response["Location"])

    def token(self, form: dict[str, str]) -> Any:
        return self.backchannel.post("/o/token/", urlencode(form),
                                     content_type="application/x-www-form-urlencoded",
                                     HTTP_AUTHORIZATION=self.authorization)

    def floor(self) -> Any:
        return self.backchannel.get("/healthz")

    def login_page(self) -> tuple[Any, str]:
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        page = client.get("/accounts/login/")
        found = DJANGO_CSRF.search(page.content.decode())
        assert found, page.content[:300]
        return client, found.group(1)

    def login(self, client: Any, token: str) -> Any:
        return client.post("/accounts/login/", {"username": "citizen", "password": PASSWORD,
                                                "csrfmiddlewaretoken": token})


# --- ours: CivicStack --------------------------------------------------------------------------

class DirectAsgi:
    """Requests straight into the ASGI app from this thread (httpx's ASGITransport on an event
    loop of our own), the way Django's test client calls its WSGI handler. Starlette's
    TestClient instead runs the app on a second thread and crosses threads several times per
    request, which costs more than a whole Django request (see the floor row).

    Every request runs inside one long-lived task, as under a real server: AnyIO keeps its
    worker threads (sync endpoints, the session store) for as long as the task they were
    started from, so a task per request would start and stop a thread on every request."""

    def __init__(self, app: Any) -> None:
        import httpx

        self.loop = asyncio.new_event_loop()
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app),
                                      base_url="http://testserver", follow_redirects=False)
        self.requests: asyncio.Queue[tuple[Any, asyncio.Future[Any]]] = asyncio.Queue()
        self.server = self.loop.create_task(self._serve())

    async def _serve(self) -> None:
        while True:
            request, answered = await self.requests.get()
            try:
                answered.set_result(await request)
            except Exception as exc:  # handed to the caller, who raises it
                answered.set_exception(exc)

    def _send(self, request: Any) -> Any:
        answered = self.loop.create_future()
        self.requests.put_nowait((request, answered))
        return self.loop.run_until_complete(answered)

    @property
    def cookies(self) -> Any:
        return self.http.cookies

    def get(self, url: str, **options: Any) -> Any:
        return self._send(self.http.get(url, **options))

    def post(self, url: str, **options: Any) -> Any:
        return self._send(self.http.post(url, **options))

    def close(self) -> None:
        self._send(self.http.aclose())
        self.server.cancel()  # its end stops AnyIO's worker threads, or they hold the exit
        self.loop.run_until_complete(asyncio.gather(self.server, return_exceptions=True))
        self.loop.close()


class CivicStack:
    """Our provider: the real app (create_app) on a migrated database with reference units,
    a person with an active account, and a client registered like DOT's (confidential,
    client_secret_basic, RS256 ID tokens, the same redirect URI and scopes)."""

    def __init__(self, name: str, database_url: str, data_dir: Path,
                 id_token_alg: str = "RS256") -> None:  # noqa: S107 (an algorithm)
        from fastapi.testclient import TestClient
        from tests.support.oidc import LiveProvider
        from tests.support.people import make_person

        from civicstack.app import create_app
        from civicstack.config import Settings
        from civicstack.kit.db import make_engine, make_session_factory, transaction
        from civicstack.kit.migrate import upgrade
        from civicstack.registry.units import sync_reference_units

        self.name = name
        upgrade(database_url)
        engine = make_engine(database_url)
        with transaction(make_session_factory(engine)) as session:
            sync_reference_units(session)
        engine.dispose()
        self.app = create_app(Settings(database_url=database_url, data_dir=data_dir,
                                       public_url="http://testserver", log_level="WARNING"))
        live = LiveProvider("http://testserver", self.app, data_dir)
        with transaction(live.factory) as session:
            self.person = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
        live.active_account(self.person)
        self.clients = {alg: live.register_client(
            name=f"Bank {alg}", redirect_uris=(REDIRECT,), post_logout_redirect_uris=(),
            scopes=("openid", "profile", "offline_access"), id_token_alg=alg)
            for alg in ("RS256", "ES256")}
        self.use(id_token_alg)
        self.browser = TestClient(self.app, follow_redirects=False)
        self.test_clients = (TestClient(self.app, follow_redirects=False),
                             TestClient(self.app, follow_redirects=False))
        for client in (self.browser, *self.test_clients):
            client.__enter__()
        self.direct = (DirectAsgi(self.app), DirectAsgi(self.app), DirectAsgi(self.app))
        self.backchannel, self.logins = self.test_clients
        self.front = self.browser
        client, token = self.login_page(self.browser)
        assert status_of(self.login(client, token)) == 303, "the citizen could not sign in"
        self.direct[2].cookies.update(self.browser.cookies)  # the same signed-in browser

    def use(self, id_token_alg: str) -> None:
        registered = self.clients[id_token_alg]
        assert registered.client_secret is not None
        self.id_token_alg = id_token_alg
        self.client_id = registered.client_id
        self.authorization = basic_auth(registered.client_id, registered.client_secret)

    def variant(self, name: str, id_token_alg: str, direct: bool = False) -> CivicStack:
        """The same app and citizen, through the client with another ID token algorithm
        and/or with the timed requests sent straight into the ASGI app."""
        other = copy.copy(self)
        other.name = name
        other.use(id_token_alg)
        if direct:
            other.backchannel, other.logins, other.front = self.direct
        return other

    def close(self) -> None:
        for client in (self.browser, *self.test_clients):
            client.__exit__(None, None, None)
        for direct in self.direct:
            direct.close()
        from civicstack.kit.appservices import services_of

        services_of(self.app).engine.dispose()

    def authorize(self, parameters: dict[str, str]) -> str:
        """The signed-in citizen's browser at the authorization endpoint: where it is sent.
        The first time for a client the citizen consents (untimed: only warm-up asks)."""
        response = self.front.get("/oidc/authorize", params={"client_id": self.client_id,
                                                             **parameters})
        if response.status_code == 200:  # the first time for this client: consent
            pending = PENDING.search(response.text)
            csrf = CSRF.search(response.text)
            assert pending, response.text[:300]
            assert csrf, response.text[:300]
            response = self.front.post("/oidc/consent", data={
                "pending": pending.group(1), "csrf_token": csrf.group(1), "decision": "allow"})
        assert response.status_code in (302, 303), (response.status_code, response.text[:300])
        return str(response.headers["location"])

    def token(self, form: dict[str, str]) -> Any:
        return self.backchannel.post(
            "/oidc/token", content=urlencode(form),
            headers={"Authorization": self.authorization,
                     "Content-Type": "application/x-www-form-urlencoded"})

    def floor(self) -> Any:
        return self.backchannel.get("/healthz")

    def login_page(self, client: Any = None) -> tuple[Any, str]:
        client = client or self.logins
        client.cookies.clear()
        page = client.get("/account/login")
        found = CSRF.search(page.text)
        assert found, page.text[:300]
        return client, found.group(1)

    def login(self, client: Any, token: str) -> Any:
        return client.post("/account/login", data={
            "personal_id_number": self.person.personal_id_number, "password": PASSWORD,
            "csrf_token": token})


Side = DjangoOAuthToolkit | CivicStack


# --- the measurements ---------------------------------------------------------------------------

def mint_code(side: Side, figures: Figures | None = None) -> tuple[str, str, str]:
    """A code from the authorization endpoint (timed when `figures` are given), with the
    PKCE verifier and the nonce it was asked with."""
    verifier, challenge = pkce_pair()
    nonce = secrets.token_urlsafe(12)
    parameters = {"response_type": "code", "redirect_uri": REDIRECT, "scope": SCOPE,
                  "state": secrets.token_urlsafe(8), "nonce": nonce,
                  "code_challenge": challenge, "code_challenge_method": "S256"}
    with figures.timed() if figures else nullcontext():
        location = side.authorize(parameters)
    return code_from(location), verifier, nonce


def authorize(side: Side, figures: Figures | None, _: list[str]) -> None:
    """The authorization endpoint answering a signed-in citizen with a code (timed)."""
    mint_code(side, figures)


def exchange(side: Side, figures: Figures | None, refresh_tokens: list[str]) -> None:
    """Mint a code (untimed), exchange it at the token endpoint (timed)."""
    code, verifier, nonce = mint_code(side)
    _grant(side, figures, refresh_tokens, nonce, {
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})


def refresh(side: Side, figures: Figures | None, refresh_tokens: list[str]) -> None:
    """Rotate the newest refresh token of the chain (timed)."""
    _grant(side, figures, refresh_tokens, None,
           {"grant_type": "refresh_token", "refresh_token": refresh_tokens[-1]})


def _grant(side: Side, figures: Figures | None, refresh_tokens: list[str], nonce: str | None,
           form: dict[str, str]) -> None:
    """POST `form` to the token endpoint (timed), check the answer, keep its refresh token."""
    with figures.timed() if figures else nullcontext():
        response = side.token(form)
    assert status_of(response) == 200, (side.name, response.content[:300])
    body = body_of(response)
    check_grant(side, body, nonce)
    refresh_tokens.append(body["refresh_token"])


def floor(side: Side, figures: Figures | None, _: list[str]) -> None:
    """The cheapest request each framework's test client can make: a health check."""
    with figures.timed() if figures else nullcontext():
        response = side.floor()
    assert status_of(response) == 200


def login(side: Side, figures: Figures | None, _: list[str]) -> None:
    client, token = side.login_page()
    with figures.timed() if figures else nullcontext():
        response = side.login(client, token)
    assert status_of(response) in (302, 303), (side.name, status_of(response))


Step = Callable[[Side, Figures | None, list[str]], None]


def measure(sides: list[Side], step: Step, count: int, rounds: int,
            chains: dict[str, list[str]]) -> dict[str, Figures]:
    """`count` timed steps per side, in `rounds` alternating blocks, after a warm-up."""
    figures = {side.name: Figures() for side in sides}
    for side in sides:
        for _ in range(min(WARM_UP, count)):
            step(side, None, chains[side.name])
    per_round = [count // rounds + (1 if i < count % rounds else 0) for i in range(rounds)]
    for block in per_round:
        for side in sides:
            for _ in range(block):
                step(side, figures[side.name], chains[side.name])
    return figures


def table(title: str, unit: str, results: dict[str, Figures], peer: str) -> None:
    print(f"\n{title}")
    print(f"  {'provider':<38} {'n':>5} {unit + '/s':>12} {unit + '/CPU-s':>14} "
          f"{'median':>9} {'p95':>9}  {'vs peer (wall / CPU)':>20}")
    base = results[peer]
    for name, found in results.items():
        ratio = (f"{found.per_second() / base.per_second():6.2f}x / "
                 f"{found.per_cpu_second() / base.per_cpu_second():5.2f}x"
                 if name != peer else "")
        print(f"  {name:<38} {found.count:>5} {found.per_second():>12.1f} "
              f"{found.per_cpu_second():>14.1f} {found.median_ms():>7.2f}ms "
              f"{found.p95_ms():>7.2f}ms  {ratio:>20}")


@contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    """A database of our own on the server `url` names, dropped afterwards."""
    import psycopg

    libpq = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"civicstack_bench_{os.getpid()}"
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(url)
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(libpq, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grants", type=int, default=2000, help="timed grants of each kind")
    parser.add_argument("--logins", type=int, default=30, help="timed password sign-ins")
    parser.add_argument("--rounds", type=int, default=4, help="alternating blocks per side")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", module="oauth2_provider")
    pg_url = os.environ.get("CIVICSTACK_BENCH_PG_URL", "")

    with tempfile.TemporaryDirectory(prefix="civicstack-bench-oidc-") as temporary, \
            scratch_postgres(pg_url) if pg_url else nullcontext("") as pg_database:
        folder = Path(temporary)
        peer = DjangoOAuthToolkit(folder)
        apps = [CivicStack("SQLite", f"sqlite:///{folder / 'cs.db'}", folder / "data")]
        if pg_database:
            apps.append(CivicStack("PostgreSQL", pg_database, folder / "data-pg"))
        sides: list[Side] = [peer]
        for app in apps:
            sides.append(app.variant(f"CivicStack {app.name}, TestClient", "RS256"))
            sides.append(app.variant(f"CivicStack {app.name}, direct ASGI", "RS256",
                                     direct=True))
        # our default ID token algorithm, for reference (DOT signs only RS256 or HS256)
        sides.append(apps[0].variant("CivicStack SQLite, direct, ES256 ID", "ES256",
                                     direct=True))
        chains: dict[str, list[str]] = {side.name: [] for side in sides}
        started = time.perf_counter()
        results = {
            "floor": measure(sides, floor, args.grants, args.rounds, chains),
            "code": measure(sides, exchange, args.grants, args.rounds, chains),
            "refresh": measure(sides, refresh, args.grants, args.rounds, chains),
            "authorize": measure([s for s in sides if "ES256" not in s.name], authorize,
                                 args.grants, args.rounds, chains),
            "login": measure([s for s in sides if "ES256" not in s.name], login,
                             args.logins, min(args.rounds, args.logins), chains),
        }
        elapsed = time.perf_counter() - started
        for app in apps:
            app.close()

    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; one thread; "
          f"{args.grants} grants and {args.logins} sign-ins per side in {args.rounds} "
          f"alternating rounds after {WARM_UP} warm-up requests; {elapsed:.0f} s in all")
    print("Figures are per core: requests/s of wall time, and requests per CPU-second of the "
          "whole process. Ratios are to django-oauth-toolkit (SQLite).")
    table("In-process client floor (GET /healthz, no database)", "req", results["floor"],
          peer.name)
    table("Token endpoint: authorization_code + PKCE S256 + client_secret_basic + ID token",
          "grant", results["code"], peer.name)
    table("Token endpoint: refresh_token with rotation + ID token", "grant",
          results["refresh"], peer.name)
    table("Authorization endpoint: signed-in citizen, consent on record, PKCE S256 -> code",
          "code", results["authorize"], peer.name)
    table("Password sign-in, argon2id t=2 m=19 MiB p=1 (POST of the login form)", "login",
          results["login"], peer.name)
    print("\nTarget: ours >= 2x the peer on token grants (same backend, SQLite, RS256)")
    for driver in ("TestClient", "direct ASGI"):
        name = f"CivicStack SQLite, {driver}"
        ratios = [results[kind][name].per_second() / results[kind][peer.name].per_second()
                  for kind in ("code", "refresh")]
        verdict = "met" if min(ratios) >= 2 else "NOT met"
        print(f"  {name:<38} code {ratios[0]:.2f}x, refresh {ratios[1]:.2f}x: {verdict}")
    print("Target: ours >= 1x the peer per CPU-second at the authorization endpoint")
    for driver in ("TestClient", "direct ASGI"):
        name = f"CivicStack SQLite, {driver}"
        ratio = (results["authorize"][name].per_cpu_second()
                 / results["authorize"][peer.name].per_cpu_second())
        print(f"  {name:<38} {ratio:.2f}x: {'met' if ratio >= 1 else 'NOT met'}")


if __name__ == "__main__":
    main()
