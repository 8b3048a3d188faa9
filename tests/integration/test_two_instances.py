"""Issue 18: two app instances, each with its own data directory, on one PostgreSQL database
and one root key, behind a reverse proxy that alternates between them and appends the client's
address to X-Forwarded-For (as nginx's $proxy_add_x_forwarded_for does). Everything runs over
real sockets: the instances are uvicorn servers configured as `civicstack serve` configures
them, the proxy is this test's own, and the outbox is delivered by `civicstack worker`
processes. Browser sessions, rate limits, signing keys and the outbox must behave as on one
instance."""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from civicstack.app import create_app
from civicstack.cli import proxy_options
from civicstack.config import Settings
from civicstack.kit.appservices import AppServices, services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import NATIONAL, Role
from civicstack.kit.db import transaction
from civicstack.kit.outbox import OutboxMessage
from civicstack.oidc import clients
from civicstack.registry.models import Person
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE
from tests.integration.test_delivery import free_port
from tests.support.crashes import ROOT
from tests.support.eid import PASSWORD, make_active_account
from tests.support.people import make_person
from tests.support.services import publish_everywhere
from tests.support.wallet import give_id_card

# The proxy reaches the instances from 127.0.0.1, the only address they trust; clients come
# from other loopback addresses (all of 127.0.0.0/8 is this machine), each one a person.
PROXY_SOURCE = "127.0.0.1"
GUESSER, NEIGHBOUR, BYSTANDER = "127.0.0.7", "127.0.0.8", "127.0.0.9"
REDIRECT = "https://bank.example/callback"
PHONE = "0913777001"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PENDING = re.compile(r'name="pending" value="([^"]+)"')
RECEIPT = re.compile(r"/dossiers/([0-9]{2}[0-9]{6}-[0-9A-F]{6})$")
FORM_FIELD = re.compile(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"')
HOP_BY_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"host", b"content-length"}


@dataclass
class AlternatingProxy:
    """An HTTP reverse proxy as an ASGI app: each request to the next instance in turn, the
    peer's address appended to X-Forwarded-For; which instance answered what is kept."""

    backends: list[str]
    served: list[tuple[str, str, int]] = field(default_factory=list)
    _turn: Iterator[int] = field(init=False)
    _client: httpx.AsyncClient | None = None

    def __post_init__(self) -> None:
        self._turn = itertools.cycle(range(len(self.backends)))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = [(name, value) for name, value in scope["headers"]
                   if name.lower() not in HOP_BY_HOP | {b"x-forwarded-for"}]
        written = [v.decode() for n, v in scope["headers"] if n.lower() == b"x-forwarded-for"]
        headers.append((b"x-forwarded-for", ", ".join([*written, scope["client"][0]]).encode()))
        index = next(self._turn)
        if self._client is None:  # one per proxy, made in its server's event loop
            self._client = httpx.AsyncClient(timeout=60)
        query = scope["query_string"].decode()
        request = self._client.build_request(
            scope["method"], self.backends[index] + scope["path"] + (f"?{query}" if query
                                                                     else ""),
            headers=headers, content=bytes(body))
        response = await self._client.send(request, stream=True)
        content = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        self.served.append((scope["method"], scope["path"], index))
        await send({"type": "http.response.start", "status": response.status_code,
                    "headers": [(n, v) for n, v in response.headers.raw
                                if n.lower() not in HOP_BY_HOP]})
        await send({"type": "http.response.body", "body": content})

    def instance_of_last(self, path: str) -> int:
        return next(index for _, served, index in reversed(self.served) if served == path)


@dataclass
class Deployment:
    proxy_url: str
    proxy: AlternatingProxy
    instances: list[AppServices]
    instance_urls: list[str]

    def browser(self, address: str) -> httpx.Client:
        """A person's browser on the machine at `address`, going through the proxy."""
        return httpx.Client(base_url=self.proxy_url, timeout=60,
                            transport=httpx.HTTPTransport(local_address=address))


def serve_in_thread(app: Any, port: int, **options: Any) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None,
                                           **options))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline, "a server did not start"
        time.sleep(0.02)
    return server


@pytest.fixture
def deployment(database_url: str, tmp_path: Path) -> Iterator[Deployment]:
    if not database_url.startswith("postgresql"):
        pytest.skip("instances on several machines share a PostgreSQL server, not a file")
    proxy_port = free_port()
    proxy_url = f"http://127.0.0.1:{proxy_port}"
    servers, instances, urls = [], [], []
    for name in ("first", "second"):
        # The root key comes from the environment (tests/conftest.py), the same for both.
        settings = Settings(database_url=database_url, data_dir=tmp_path / name,
                            public_url=proxy_url, trusted_proxies=PROXY_SOURCE,
                            jobs_in_app=False, log_json=False, log_level="WARNING")
        app, port = create_app(settings), free_port()
        servers.append(serve_in_thread(app, port, **proxy_options(settings)))
        instances.append(services_of(app))
        urls.append(f"http://127.0.0.1:{port}")
    proxy = AlternatingProxy(urls)
    servers.append(serve_in_thread(proxy, proxy_port, lifespan="off", proxy_headers=False))
    try:
        yield Deployment(proxy_url, proxy, instances, urls)
    finally:
        for server in servers:
            server.should_exit = True
        time.sleep(0.3)


@pytest.fixture
def citizen(deployment: Deployment, tmp_path: Path) -> Person:
    """A citizen of Hà Nội with an active eID account and her ID card in her wallet; the
    catalogue published."""
    services = deployment.instances[0]
    with transaction(services.session_factory) as session:
        publish_everywhere(session)
        person = make_person(session, "Phạm Thị Hoa", date(1991, 4, 2), phone=PHONE)
        give_id_card(session, person)
        wallet.issue_from_register(session, services[WALLET_SITE], person.personal_id_number,
                                   "id_card")
    make_active_account(services.session_factory, services.pepper, person,
                        tmp_path / "registration-mailbox")
    return person


def form_token(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, f"no form on {page.url}: {page.status_code}"
    return found.group(1)


def signed_in(deployment: Deployment, person: Person, address: str = BYSTANDER) -> httpx.Client:
    browser = deployment.browser(address)
    page = browser.get("/account/login")
    answer = browser.post("/account/login", data={
        "personal_id_number": person.personal_id_number, "password": PASSWORD,
        "csrf_token": form_token(page)})
    assert answer.status_code == 303, answer.text[:300]
    return browser


@dataclass
class ConsoleLogin:
    """The officials' sign-in form in one browser: the form is fetched once (its token is the
    session's), so that successive attempts alternate between the instances."""

    browser: httpx.Client
    token: str = ""

    def fail(self, username: str, forwarded_for: str | None = None) -> int:
        self.token = self.token or form_token(self.browser.get("/console/login"))
        headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
        return self.browser.post("/console/login", headers=headers, data={
            "username": username, "password": "not the password", "csrf_token": self.token}
        ).status_code


# --- sessions ---------------------------------------------------------------------------------

def test_a_citizen_signed_in_through_one_instance_is_signed_in_on_the_other(
        deployment: Deployment, citizen: Person) -> None:
    browser = signed_in(deployment, citizen)
    pages = []
    for _ in range(2):
        pages.append(browser.get("/account"))
        pages[-1].extensions["instance"] = deployment.proxy.instance_of_last("/account")
    assert {page.extensions["instance"] for page in pages} == {0, 1}  # each shows it
    assert [page.status_code for page in pages] == [200, 200]
    assert all(citizen.personal_id_number in page.text for page in pages)
    # Signed out through one instance, the session is over on both.
    signed_out = browser.post("/account/logout", data={"csrf_token": form_token(pages[0])})
    assert signed_out.status_code == 303
    for _ in range(2):
        assert browser.get("/account").headers["location"].startswith("/account/login")


# --- rate limits ------------------------------------------------------------------------------

def test_failed_sign_ins_through_both_instances_count_together_per_forwarded_address(
        deployment: Deployment) -> None:
    guesser = ConsoleLogin(deployment.browser(GUESSER))
    assert [guesser.fail(f"guess-{n}") for n in range(10)] == [401] * 10
    assert {index for method, path, index in deployment.proxy.served
            if (method, path) == ("POST", "/console/login")} == {0, 1}
    held = [guesser.fail("one-more-guess") for _ in range(2)]
    assert held == [429, 429]  # on both instances
    assert {index for _, _, index in deployment.proxy.served[-2:]} == {0, 1}
    # The address the guesser writes is kept, but the proxy's own entry (the socket's peer) is
    # what the instances believe: writing another address changes nothing.
    assert guesser.fail("one-more-guess", forwarded_for="198.51.100.4") == 429
    # Someone else behind the same proxy is not held back with the guesser.
    assert ConsoleLogin(deployment.browser(NEIGHBOUR)).fail("a-typo") == 401


def test_an_instance_reached_around_the_proxy_believes_no_x_forwarded_for(
        deployment: Deployment) -> None:
    """X-Forwarded-For is believed from the proxy only: a client reaching an instance directly
    is limited by its own address, whatever it writes."""
    direct = ConsoleLogin(httpx.Client(base_url=deployment.instance_urls[0], timeout=60,
                                       transport=httpx.HTTPTransport(local_address=GUESSER)))
    for guess in range(10):
        assert direct.fail(f"guess-{guess}", f"198.51.100.{guess}") == 401
    assert direct.fail("guess", "198.51.100.99") == 429
    assert ConsoleLogin(deployment.browser(GUESSER)).fail("guess") == 429  # the same person


# --- keys -------------------------------------------------------------------------------------

def test_an_id_token_issued_by_one_instance_verifies_with_the_other_instances_jwks(
        deployment: Deployment, citizen: Person) -> None:
    services = deployment.instances[0]
    with transaction(services.session_factory) as session:
        client = clients.register_client(
            session, Actor("official", "sso-admin", NATIONAL, Role.ADMIN), services.pepper,
            clients.NewClient("Ngân hàng Hai Máy", (REDIRECT,), scopes=("openid", "profile")))
    assert client.client_secret is not None
    browser = signed_in(deployment, citizen)
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_hex(8)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    page = browser.get("/oidc/authorize?" + urlencode({
        "response_type": "code", "client_id": client.client_id, "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "nonce": nonce,
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256"}))
    found = PENDING.search(page.text)
    assert found, page.text[:300]
    consented = browser.post("/oidc/consent", data={
        "pending": found.group(1), "decision": "allow", "csrf_token": form_token(page)})
    code = parse_qs(urlsplit(consented.headers["location"]).query)["code"][0]
    token = httpx.post(f"{deployment.proxy_url}/oidc/token", auth=(
        client.client_id, client.client_secret), data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert token.status_code == 200, token.text
    issuing = deployment.proxy.instance_of_last("/oidc/token")

    other_jwks = httpx.get(f"{deployment.instance_urls[1 - issuing]}/oidc/jwks").json()
    decoded = jwt.decode(token.json()["id_token"], KeySet.import_key_set(other_jwks))
    assert decoded.claims["iss"] == deployment.proxy_url
    assert decoded.claims["aud"] == client.client_id
    assert decoded.claims["nonce"] == nonce


# --- the outbox -------------------------------------------------------------------------------

def submit_residence_confirmation(browser: httpx.Client) -> str:
    account = browser.get("/account")
    started = browser.post("/services/DVC-CT-04/start", data={"csrf_token": form_token(account)})
    assert started.status_code == 303, started.text[:300]
    receipt = RECEIPT.search(started.headers["location"])
    assert receipt, started.headers["location"]
    form = browser.get(f"/dossiers/{receipt.group(1)}")
    submitted = browser.post(f"/dossiers/{receipt.group(1)}", data={
        **dict(FORM_FIELD.findall(form.text)), "action": "submit",
        "csrf_token": form_token(form)})
    assert submitted.status_code == 303, submitted.text[:500]
    return receipt.group(1)


def messages_to_the_citizen(services: AppServices) -> list[OutboxMessage]:
    with transaction(services.session_factory) as session:
        messages = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipient == PHONE).order_by(OutboxMessage.id)))
        session.expunge_all()
    return messages


def message(services: AppServices, message_id: int) -> OutboxMessage:
    [found] = [m for m in messages_to_the_citizen(services) if m.id == message_id]
    return found


def test_a_message_queued_through_one_instance_is_delivered_once_by_the_workers(
        deployment: Deployment, citizen: Person, database_url: str, tmp_path: Path) -> None:
    receipt = submit_residence_confirmation(signed_in(deployment, citizen))
    # Neither instance sends (the phone's registration code was sent before): the workers do,
    # the dossier's message and the account's approval notice alike.
    pending = [m for m in messages_to_the_citizen(deployment.instances[0])
               if m.status == "pending"]
    assert len([m for m in pending if receipt in m.body]) == 1

    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
                   "CIVICSTACK_DATABASE_URL": database_url, "CIVICSTACK_LOG_LEVEL": "WARNING"}
    workers = [subprocess.Popen(
        [sys.executable, "-m", "civicstack.cli", "worker"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, env={**environment, "CIVICSTACK_DATA_DIR": str(
            tmp_path / f"worker-{n}")}) for n in range(2)]
    try:
        deadline = time.monotonic() + 180
        while any(message(deployment.instances[1], m.id).status != "delivered"
                  for m in pending):
            assert time.monotonic() < deadline, "the workers did not deliver the message"
            assert all(worker.poll() is None for worker in workers), "a worker stopped"
            time.sleep(0.5)
        time.sleep(3.5)  # a further dispatch round of each worker: nothing is sent again
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    assert all(worker.returncode == 0 for worker in workers)
    assert [message(deployment.instances[1], m.id).attempts for m in pending] == [1] * len(
        pending)
    mailboxes = [tmp_path / f"worker-{n}" / "mailbox" / f"{PHONE}.txt" for n in range(2)]
    received = "".join(box.read_text() for box in mailboxes if box.exists())
    assert received.count("=== ") == len(pending)
    assert receipt in received
