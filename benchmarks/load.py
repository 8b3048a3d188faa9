"""Load benchmark: many concurrent users against `civicstack serve --workers 2` and `civicstack
worker` on a throwaway PostgreSQL with fsync on, as a production site runs.

A small population is seeded first (citizens with an active eID account and their ID card in
the wallet, a relying party they have consented to, officials with their authenticator, an
agency's API key, the catalogue published). Then USERS virtual users, each a citizen with a
signed-in browser and a signed-in official at the counter beside them, loop for DURATION
seconds over a weighted mix, each step a real HTTP request over a socket:

    public statistics      GET  /services/statistics                          (anyone)
    register read          GET  /api/v1/registry/persons/{pid}?purpose=...    (an agency key)
    password sign-in       GET + POST /account/login                          (a new browser)
    OIDC code exchange     GET  /oidc/authorize (signed in, consented) -> POST /oidc/token
    wallet presentation    POST /wallet/cards/{id}/qr (the holder) -> POST
                           /console/wallet/verify (an official's scanner)
    dossier submission     POST /services/DVC-CT-04/start -> GET + POST /dossiers/{receipt}

Every answer is checked (status, and the token endpoint's ID token): a request answered
wrongly counts as an error, not as throughput. Figures are per core two ways: requests per
second of wall time divided by the server's 2 workers, and requests per CPU-second the server
processes (app workers and job worker) really used, read from /proc, which stays honest on a
machine shared with other work. Keycloak's published sizing is printed beside them.

    .venv/bin/python benchmarks/load.py --users 24 --duration 45
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import os
import random
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support builds people, accounts and officials

from tests.support.eid import PASSWORD, code_for, make_active_account  # noqa: E402
from tests.support.officials import make_official  # noqa: E402
from tests.support.people import make_person  # noqa: E402
from tests.support.services import publish_everywhere  # noqa: E402
from tests.support.wallet import give_id_card  # noqa: E402

from civicstack.app import create_app  # noqa: E402
from civicstack.config import Settings  # noqa: E402
from civicstack.identity.photos import PHOTO_VAULT  # noqa: E402
from civicstack.kit import apikeys  # noqa: E402
from civicstack.kit.appservices import services_of  # noqa: E402
from civicstack.kit.audit import Actor  # noqa: E402
from civicstack.kit.authz import NATIONAL, Role  # noqa: E402
from civicstack.kit.db import transaction  # noqa: E402
from civicstack.kit.keyprovider import new_root_key  # noqa: E402
from civicstack.kit.throwaway_pg import free_port, throwaway_postgres  # noqa: E402
from civicstack.oidc import clients  # noqa: E402
from civicstack.wallet import qr  # noqa: E402
from civicstack.wallet import service as wallet  # noqa: E402
from civicstack.wallet.site import WALLET_SITE  # noqa: E402

SERVER_WORKERS = 2
REDIRECT = "https://bank.example/callback"
PROCEDURE = "DVC-CT-04"  # residence confirmation: the applicant's fields and ID card prefilled
PURPOSE = "kiem-tra-ho-so-vay"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')
CARD_LINK = re.compile(r'href="/wallet/cards/([0-9a-f]{32})"')
PRESENTATION = re.compile(r'<textarea readonly id="presentation"[^>]*>([^<]+)</textarea>')
RECEIPT = re.compile(r"/dossiers/([0-9]{2}[0-9]{6}-[0-9A-F]{6})$")
FORM_FIELD = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')
# Keycloak 26's sizing guide ("Concepts for sizing CPU and memory resources"), per vCPU.
KEYCLOAK_PER_VCPU = {"password sign-in": 15.0, "OIDC token (code exchange)": 120.0,
                     "OIDC token (refresh)": 120.0}
# How often each step comes up: most traffic reads, a tenth signs in, a tenth submits.
MIX = {"statistics": 30, "register": 25, "oidc": 15, "sign_in": 10, "wallet": 10,
       "dossier": 10}
# Steps that can be run alone with --only: the mix's, and a refresh grant (the token endpoint
# with nothing else in the step, the nearest to Keycloak's "token grants per vCPU").
ALONE = (*MIX, "refresh")
SLOW_TIMEOUT_S = 60


class WrongAnswer(Exception):
    """The server answered, but not what the step needs: counted as an error."""


# --- measuring ------------------------------------------------------------------------------

@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @contextmanager
    def timed(self, kind: str) -> Iterator[None]:
        started = time.perf_counter()
        yield
        self.latencies[kind].append(time.perf_counter() - started)

    def requests(self) -> int:
        return sum(len(values) for values in self.latencies.values())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their children, from /proc (clock ticks)."""
    ticks, total = os.sysconf("SC_CLK_TCK"), 0
    for pid in _with_descendants(pids):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _with_descendants(pids: list[int]) -> list[int]:
    found, queue = [], list(pids)
    while queue:
        pid = queue.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                queue.extend(int(child) for child in (task / "children").read_text().split())
            except FileNotFoundError:
                continue
    return found


# --- the site -------------------------------------------------------------------------------

@dataclass
class Population:
    people: list[str]  # personal ID numbers, each with an active account and an ID card
    officials: list[tuple[str, str, str]]  # username, password, authenticator secret
    agency_key: str
    client_id: str
    client_secret: str


def seed(settings: Settings, users: int) -> Population:
    """Through the services, as the registration desk and the administrators would."""
    services = services_of(create_app(settings))
    factory = services.session_factory
    people = []
    with transaction(factory) as session:
        publish_everywhere(session)
    for number in range(users):
        with transaction(factory) as session:
            person = make_person(session, f"Nguyễn Văn Tải {number}",
                                 date(1970, 1, 1) + timedelta(days=97 * number),
                                 phone=f"09130{number:05d}")
            give_id_card(session, person)
            wallet.issue_from_register(session, services[WALLET_SITE],
                                       person.personal_id_number, "id_card")
        make_active_account(factory, services.pepper, person, settings.data_dir / "seed-mailbox",
                            vault=services[PHOTO_VAULT])
        people.append(person.personal_id_number)
    officials = [make_official(factory, services.totp_key, Role.SERVICE_CLERK)
                 for _ in range(users)]
    with transaction(factory) as session:
        agency = apikeys.create_key(session, services.pepper, "bank-kyc",
                                    Role.AGENCY_APPROVER, NATIONAL)
        client = clients.register_client(
            session, Actor("official", "sso-admin", NATIONAL, Role.ADMIN), services.pepper,
            clients.NewClient("Ngân hàng Tải", (REDIRECT,),
                              scopes=("openid", "profile", "offline_access")))
    services.engine.dispose()
    assert client.client_secret is not None
    return Population(people, [(o.username, o.password, o.secret) for o in officials],
                      agency.token, client.client_id, client.client_secret)


@contextmanager
def running_site(environment: dict[str, str], port: int) -> Iterator[list[int]]:
    """`civicstack serve --workers 2` and `civicstack worker`; their process ids."""
    command = [sys.executable, "-m", "civicstack.cli"]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen([*command, "serve", "--port", str(port), "--workers",
                                   str(SERVER_WORKERS)], env=environment, stdout=log,
                                  stderr=log)
        worker = subprocess.Popen([*command, "worker"], env=environment, stdout=log,
                                  stderr=log)
        try:
            deadline = time.monotonic() + 180
            while not _ready(f"http://127.0.0.1:{port}/readyz"):
                if time.monotonic() > deadline or server.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"the server did not start:\n"
                                     f"{log.read().decode()[-3000:]}")
                time.sleep(0.5)
            yield [server.pid, worker.pid]
        finally:
            for process in (server, worker):
                process.terminate()
            for process in (server, worker):
                process.wait(timeout=60)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


# --- the users ------------------------------------------------------------------------------

def expect(response: httpx.Response, status: int) -> httpx.Response:
    if response.status_code != status:
        raise WrongAnswer(f"{response.request.method} {response.request.url.path}: "
                          f"{response.status_code}, expected {status}")
    return response


def found(pattern: re.Pattern[str], text: str, what: str) -> str:
    match = pattern.search(text)
    if not match:
        raise WrongAnswer(f"no {what} in the page")
    return match.group(1)


@dataclass
class User:
    """A citizen with a signed-in browser, and the official who scans their QR codes."""

    base: str
    population: Population
    pid: str
    official: tuple[str, str, str]
    tally: Tally
    browser: httpx.AsyncClient = field(init=False)
    counter: httpx.AsyncClient = field(init=False)
    browser_csrf: str = ""
    counter_csrf: str = ""
    card: str = ""
    refresh_token: str = ""

    def __post_init__(self) -> None:
        self.browser = self._client()
        self.counter = self._client()

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.base, timeout=SLOW_TIMEOUT_S)

    async def prepare(self) -> None:
        """Untimed: the citizen signs in, consents to the bank once and finds the ID card; the
        official signs in to the console with password and authenticator code."""
        self.browser_csrf = await self._password_sign_in(self.browser)
        code, verifier = (await self._authorize(consent=True)).split()
        self.refresh_token = (await self._exchange(code, verifier))["refresh_token"]
        self.card = found(CARD_LINK, expect(await self.browser.get("/wallet"), 200).text,
                          "ID card")
        username, password, secret = self.official
        page = expect(await self.counter.get("/console/login"), 200)
        expect(await self.counter.post("/console/login", data={
            "username": username, "password": password,
            "csrf_token": found(CSRF, page.text, "form")}), 303)
        page = expect(await self.counter.get("/console/login/code"), 200)
        expect(await self.counter.post("/console/login/code", data={
            "code": code_for(secret, 1), "csrf_token": found(CSRF, page.text, "form")}), 303)
        self.counter_csrf = found(CSRF, expect(await self.counter.get(
            "/console/wallet/verify"), 200).text, "form")

    async def _password_sign_in(self, browser: httpx.AsyncClient) -> str:
        page = expect(await browser.get("/account/login"), 200)
        token = found(CSRF, page.text, "form")
        with self.tally.timed("password sign-in"):
            expect(await browser.post("/account/login", data={
                "personal_id_number": self.pid, "password": PASSWORD, "csrf_token": token}), 303)
        return found(CSRF, expect(await browser.get("/account"), 200).text, "form")

    async def _authorize(self, consent: bool = False) -> str:
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode({
            "response_type": "code", "client_id": self.population.client_id,
            "redirect_uri": REDIRECT, "scope": "openid profile offline_access",
            "state": secrets.token_hex(8),
            "nonce": secrets.token_hex(8), "code_challenge": challenge.rstrip(b"=").decode(),
            "code_challenge_method": "S256"})
        with self.tally.timed("OIDC authorize (signed in)"):
            answer = await self.browser.get(f"/oidc/authorize?{query}")
        if consent and answer.status_code == 200:
            answer = await self.browser.post("/oidc/consent", data={
                "pending": found(PENDING, answer.text, "consent"), "decision": "allow",
                "csrf_token": found(CSRF, answer.text, "form")})
        location = expect(answer, 303).headers["location"]
        if not location.startswith(REDIRECT):
            raise WrongAnswer(f"authorize sent the browser to {location[:80]}")
        code = parse_qs(urlsplit(location).query)["code"][0]
        return f"{code} {verifier}"

    # Each step of the mix; the timed part is the request the kind names.

    async def statistics(self) -> None:
        with self.tally.timed("public statistics"):
            expect(await self.counter.get("/services/statistics"), 200)

    async def register(self) -> None:
        pid = random.choice(self.population.people)
        with self.tally.timed("register read (agency key)"):
            answer = expect(await self.counter.get(
                f"/api/v1/registry/persons/{pid}", params={"purpose": PURPOSE},
                headers={"authorization": f"Bearer {self.population.agency_key}"}), 200)
        if answer.json()["personal_id_number"] != pid:
            raise WrongAnswer("the register answered for someone else")

    async def sign_in(self) -> None:
        async with self._client() as fresh:
            await self._password_sign_in(fresh)

    async def _token(self, form: dict[str, str]) -> dict[str, str]:
        answer = expect(await self.counter.post("/oidc/token", data=form, auth=(
            self.population.client_id, self.population.client_secret)), 200).json()
        if "id_token" not in answer or "refresh_token" not in answer:
            raise WrongAnswer("no ID token or refresh token")
        return dict(answer)

    async def _exchange(self, code: str, verifier: str) -> dict[str, str]:
        return await self._token({"grant_type": "authorization_code", "code": code,
                                  "redirect_uri": REDIRECT, "code_verifier": verifier})

    async def oidc(self) -> None:
        code, verifier = (await self._authorize()).split()
        with self.tally.timed("OIDC token (code exchange)"):
            await self._exchange(code, verifier)

    async def refresh(self) -> None:
        with self.tally.timed("OIDC token (refresh)"):
            answer = await self._token({"grant_type": "refresh_token",
                                        "refresh_token": self.refresh_token})
        self.refresh_token = answer["refresh_token"]

    async def wallet(self) -> None:
        with self.tally.timed("wallet QR made (holder)"):
            page = expect(await self.browser.post(f"/wallet/cards/{self.card}/qr", data={
                "disclose": ["full_name", "date_of_birth"], "csrf_token": self.browser_csrf}),
                200)
        presentation = qr.decode(found(PRESENTATION, page.text, "presentation"))
        with self.tally.timed("wallet presentation verified"):
            expect(await self.counter.post("/console/wallet/verify", data={
                "presentation": presentation, "csrf_token": self.counter_csrf}), 200)

    async def dossier(self) -> None:
        headers = {"X-CSRF-Token": self.browser_csrf}
        with self.tally.timed("dossier started"):
            started = expect(await self.browser.post(f"/services/{PROCEDURE}/start",
                                                     headers=headers), 303)
        receipt = found(RECEIPT, started.headers["location"], "receipt")
        form = expect(await self.browser.get(f"/dossiers/{receipt}"), 200)
        values = dict(FORM_FIELD.findall(form.text))
        with self.tally.timed("dossier submitted"):
            expect(await self.browser.post(f"/dossiers/{receipt}", data={
                **values, "action": "submit", "csrf_token": self.browser_csrf}), 303)

    async def loop(self, until: float, mix: dict[str, int]) -> None:
        steps: dict[str, Callable[[], Awaitable[None]]] = {
            "statistics": self.statistics, "register": self.register, "oidc": self.oidc,
            "sign_in": self.sign_in, "wallet": self.wallet, "dossier": self.dossier,
            "refresh": self.refresh}
        names, weights = list(mix), list(mix.values())
        while time.monotonic() < until:
            name = random.choices(names, weights)[0]
            try:
                await steps[name]()
            except (WrongAnswer, httpx.HTTPError, KeyError, ValueError) as refused:
                self.tally.errors[name].append(f"{type(refused).__name__}: {refused}")


async def drive(base: str, population: Population, users: int, duration: float,
                pids: list[int], mix: dict[str, int]) -> tuple[Tally, float, float]:
    setup = Tally()
    crowd = [User(base, population, population.people[n], population.officials[n], setup)
             for n in range(users)]
    await asyncio.gather(*(user.prepare() for user in crowd))
    tally = Tally()
    for user in crowd:
        user.tally = tally
    cpu, wall = cpu_seconds(pids), time.monotonic()
    await asyncio.gather(*(user.loop(wall + duration, mix) for user in crowd))
    wall, cpu = time.monotonic() - wall, cpu_seconds(pids) - cpu
    for user in crowd:
        await user.browser.aclose()
        await user.counter.aclose()
    return tally, wall, cpu


# --- the report -----------------------------------------------------------------------------

def report(tally: Tally, wall: float, cpu: float, users: int) -> None:
    load = os.getloadavg()
    requests = tally.requests()
    print(f"\n{users} users for {wall:.1f} s against `civicstack serve --workers "
          f"{SERVER_WORKERS}` + `civicstack worker`, PostgreSQL fsync on; machine: "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"timed requests: {requests} = {requests / wall:.1f}/s; per server core "
          f"{requests / wall / SERVER_WORKERS:.1f}/s; server CPU {cpu:.1f} s = "
          f"{cpu / wall:.2f} cores busy -> {requests / cpu:.1f} requests per CPU-second")
    print(f"\n{'kind':<32}{'count':>7}{'/s':>8}{'/CPU-s':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'Keycloak /vCPU':>16}")
    for kind, values in sorted(tally.latencies.items()):
        keycloak = KEYCLOAK_PER_VCPU.get(kind)
        print(f"{kind:<32}{len(values):>7}{len(values) / wall:>8.1f}{len(values) / cpu:>8.1f}"
              f"{statistics.median(values) * 1000:>9.1f}{percentile(values, 0.99):>9.1f}"
              f"{f'{keycloak:.0f}' if keycloak else '':>16}")
    errors = sum(len(found) for found in tally.errors.values())
    print(f"\nerrors: {errors}")
    for step, messages in tally.errors.items():
        print(f"  {step}: {len(messages)}, e.g. {messages[0]}")
    print("(/CPU-s: completed requests of the kind per CPU-second the server processes used "
          "in all; a kind's figure therefore shares the CPU with the whole mix, whereas "
          "Keycloak's figures are each for that operation alone.)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=24, help="Concurrent virtual users.")
    parser.add_argument("--duration", type=float, default=45, help="Seconds of load.")
    parser.add_argument("--only", choices=ALONE, help=(
        "Run one step alone, so its per-CPU-second figure is that operation's own (what "
        "Keycloak's sizing states) rather than a share of the mix."))
    arguments = parser.parse_args()
    mix = {arguments.only: 1} if arguments.only else MIX
    with throwaway_postgres(durable=True) as postgres, \
            tempfile.TemporaryDirectory(prefix="civicstack-load-") as folder:
        with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as db:
            db.execute("CREATE DATABASE civicstack")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        environment = {
            **os.environ, "PYTHONPATH": str(ROOT / "src"),
            "CIVICSTACK_DATABASE_URL": postgres.url("civicstack"),
            "CIVICSTACK_DATA_DIR": folder, "CIVICSTACK_ROOT_KEY": new_root_key(),
            "CIVICSTACK_PUBLIC_URL": base, "CIVICSTACK_JOBS_IN_APP": "false",
            "CIVICSTACK_LOG_LEVEL": "WARNING"}
        subprocess.run([sys.executable, "-m", "civicstack.cli", "db", "upgrade"],
                       env=environment, check=True, capture_output=True)
        started = time.monotonic()
        population = seed(Settings(database_url=environment["CIVICSTACK_DATABASE_URL"],
                                   data_dir=Path(folder), public_url=base, log_json=False,
                                   log_level="WARNING",
                                   root_key=environment["CIVICSTACK_ROOT_KEY"]),
                          arguments.users)
        print(f"seeded {arguments.users} citizens and officials in "
              f"{time.monotonic() - started:.0f} s")
        with running_site(environment, port) as pids:
            tally, wall, cpu = asyncio.run(drive(base, population, arguments.users,
                                                 arguments.duration, pids, mix))
        report(tally, wall, cpu, arguments.users)


if __name__ == "__main__":
    main()
