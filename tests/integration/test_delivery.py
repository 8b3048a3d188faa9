"""The outbox's channels against real servers on this machine (an SMTP server, an HTTP SMS
gateway), and `civicstack worker`, which delivers what the app queued: a security alert reaches
its contact's mail server."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import Message
from email.parser import BytesParser
from email.policy import default
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
from aiosmtpd.controller import Controller
from sqlalchemy import select

from civicstack.config import Settings
from civicstack.domains import install_all
from civicstack.identity import service as identity
from civicstack.kit.appservices import AppServices
from civicstack.kit.db import transaction
from civicstack.kit.delivery import HttpSmsGateway, SmtpMailer, channels_from
from civicstack.kit.installing import Installer
from civicstack.kit.outbox import FileMailbox, OutboxMessage, Undeliverable, enqueue
from civicstack.worker import install_kit_jobs, run_job
from tests.support.crashes import ROOT

CONTACT = "soc@civicstack.example"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """aiosmtpd's handler: keeps every message the server accepted; refuses one address."""

    refused = "nobody@civicstack.example"

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_RCPT(  # noqa: N802 (the name aiosmtpd calls)
            self, server: Any, session: Any, envelope: Any, address: str,
            options: Any) -> str:
        if address == self.refused:
            return "550 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 (the name aiosmtpd calls)
            self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(BytesParser(policy=default).parsebytes(envelope.content))
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Gateway(BaseHTTPRequestHandler):
    """A local SMS gateway: 200 with an id, 422 for a number it cannot reach, 503 when told."""

    received: ClassVar[list[tuple[str, dict[str, str]]]] = []
    down: ClassVar[bool] = False

    def do_POST(self) -> None:
        payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Gateway.received.append((self.headers["Authorization"], payload))
        if Gateway.down:
            self._answer(503, {"error": "maintenance"})
        elif not payload["to"].startswith("09"):
            self._answer(422, {"error": "not a mobile number"})
        else:
            self._answer(200, {"id": f"gw-{len(Gateway.received)}"})

    def _answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def sms_gateway() -> Iterator[str]:
    Gateway.received, Gateway.down = [], False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/send"
    server.shutdown()
    server.server_close()


def test_smtp_mail_reaches_the_server_with_its_message_id(
        smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    mailer = SmtpMailer("127.0.0.1", port, "CivicStack <no-reply@civicstack.example>", 5)

    message_id = mailer.deliver(CONTACT, "Cảnh báo an ninh", "Đăng nhập thất bại: 51")

    [mail] = inbox.messages
    assert (mail["To"], mail["Message-ID"]) == (CONTACT, message_id)
    assert str(mail["Subject"]) == "Cảnh báo an ninh"
    assert "Đăng nhập thất bại: 51" in mail.get_payload(decode=True).decode()
    with pytest.raises(Undeliverable):
        mailer.deliver(Inbox.refused, "x", "y")


def test_smtp_server_down_is_an_error_to_retry_not_a_refusal() -> None:
    mailer = SmtpMailer("127.0.0.1", free_port(), "no-reply@civicstack.example", 2)
    with pytest.raises(ConnectionRefusedError):
        mailer.deliver(CONTACT, "x", "y")


def test_the_sms_gateway_gets_the_text_and_gives_its_id(sms_gateway: str) -> None:
    gateway = HttpSmsGateway(sms_gateway, "gateway-token", 5)

    assert gateway.deliver("0912345678", "CivicStack", "Mã xác thực: 123456") == "gw-1"
    assert Gateway.received == [("Bearer gateway-token",
                                 {"to": "0912345678", "text": "Mã xác thực: 123456"})]
    with pytest.raises(Undeliverable):
        gateway.deliver("+1 555 0100", "CivicStack", "code")
    Gateway.down = True
    with pytest.raises(requests.HTTPError, match="503"):  # retried later
        gateway.deliver("0912345678", "CivicStack", "code")


def test_each_kind_takes_the_channel_its_setting_names(tmp_path: Path) -> None:
    demo = channels_from(Settings(data_dir=tmp_path))
    assert demo == {"sms": FileMailbox(tmp_path / "mailbox"),
                    "email": FileMailbox(tmp_path / "mailbox")}
    site = channels_from(Settings(data_dir=tmp_path, sms_channel="http",
                                  sms_gateway_url="http://gw/send", email_channel="smtp",
                                  smtp_host="mail.example", smtp_port=587))
    assert site["sms"] == HttpSmsGateway("http://gw/send", "", 10)
    assert site["email"] == SmtpMailer("mail.example", 587,
                                       "CivicStack <no-reply@civicstack.invalid>", 10)
    with pytest.raises(ValueError, match="SMTP_HOST"):
        Settings(email_channel="smtp")


def worker_services(settings: Settings) -> AppServices:
    """What `civicstack worker` runs on: the services, the kit's jobs and every domain's."""
    services = AppServices.start(settings)
    installer = Installer(settings, services=services)
    install_kit_jobs(installer)
    install_all(installer)
    return services


def run(services: AppServices, job_name: str) -> None:
    run_job(services, next(job for job in services.jobs if job.name == job_name))


def test_a_security_alert_is_mailed_to_its_contact_by_the_workers_jobs(
        database_url: str, tmp_path: Path, smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    services = worker_services(Settings(
        database_url=database_url, data_dir=tmp_path, email_channel="smtp",
        smtp_host="127.0.0.1", smtp_port=port, security_contact=CONTACT,
        security_failed_logins=1, log_json=False))
    with transaction(services.session_factory) as session:
        identity.sign_in(session, services[identity.UNKNOWN_IDENTIFIERS], "001090000001",
                         "guessing")

    run(services, "hash_chains")  # verified and intact: no alert of its own
    run(services, "security_alerts")
    run(services, "outbox_dispatch")

    assert [str(mail["Subject"]) for mail in inbox.messages] == [
        "CivicStack security alert: failed_logins"]
    with transaction(services.session_factory) as session:
        sent = session.execute(select(OutboxMessage)).scalar_one()
    assert (sent.status, sent.provider_message_id) == ("delivered",
                                                       inbox.messages[0]["Message-ID"])
    services.engine.dispose()


def test_civicstack_worker_delivers_queued_sms_and_stops_on_sigterm(
        database_url: str, tmp_path: Path, sms_gateway: str) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    services = AppServices.start(settings)
    with transaction(services.session_factory) as session:
        enqueue(session, "sms", "0912345678", "CivicStack", "Hồ sơ đã được tiếp nhận")
    services.engine.dispose()
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
                   "CIVICSTACK_DATABASE_URL": database_url,
                   "CIVICSTACK_DATA_DIR": str(tmp_path), "CIVICSTACK_SMS_CHANNEL": "http",
                   "CIVICSTACK_SMS_GATEWAY_URL": sms_gateway}
    worker = subprocess.Popen([sys.executable, "-m", "civicstack.cli", "worker"], cwd=ROOT,
                              env=environment, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while not Gateway.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [payload["text"] for _, payload in Gateway.received] == [
            "Hồ sơ đã được tiếp nhận"]
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "worker_stopped" in output
