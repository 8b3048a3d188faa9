"""The outbox's delivery channels and which one each kind of message takes (settings):
the file mailbox of the demo, an SMS gateway over HTTP, an SMTP server for e-mail."""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr

import requests

from civicstack.config import Settings
from civicstack.kit.outbox import DeliveryChannel, FileMailbox, Undeliverable

# Answers that say the gateway will never take this message; any other failure is retried.
PERMANENT_HTTP_REFUSALS = frozenset({400, 403, 404, 410, 413, 422})


@dataclass(frozen=True)
class HttpSmsGateway:
    """An SMS gateway's HTTP send endpoint: POST {"to", "text"} as JSON with a bearer token;
    a 2xx answer carries the gateway's id for the message as JSON {"id": ...}. Vietnamese
    operators' brand-name SMS APIs have this shape; an adapter for another is a few lines."""

    url: str
    token: str
    timeout_s: float

    def deliver(self, recipient: str, subject: str, body: str) -> str:
        response = requests.post(self.url, json={"to": recipient, "text": body},
                                 headers={"Authorization": f"Bearer {self.token}"},
                                 timeout=self.timeout_s)
        if response.status_code in PERMANENT_HTTP_REFUSALS:
            raise Undeliverable(f"gateway refused the message: HTTP {response.status_code} "
                                f"{response.text[:200]}")
        response.raise_for_status()
        return str(response.json()["id"])


@dataclass(frozen=True)
class SmtpMailer:
    """Mail handed to an SMTP server (the site's relay), one connection per message: the
    worker sends few e-mails (alerts, reminders), and a held connection would time out."""

    host: str
    port: int
    sender: str
    timeout_s: float
    starttls: bool = False
    username: str = ""
    password: str = ""

    def deliver(self, recipient: str, subject: str, body: str) -> str:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, recipient, subject
        message["Message-ID"] = make_msgid(domain=_domain_of(self.sender))
        message.set_content(body)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as server:
            if self.starttls:
                server.starttls()
            if self.username:
                server.login(self.username, self.password)
            try:
                server.send_message(message)
            except smtplib.SMTPRecipientsRefused as exc:
                if all(code >= 500 for code, _ in exc.recipients.values()):
                    raise Undeliverable(f"the mail server refused {recipient}") from exc
                raise
        return str(message["Message-ID"])


def _domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2] or "localhost"


def channels_from(settings: Settings) -> dict[str, DeliveryChannel]:
    """The channel of each kind of message the outbox holds, as configured."""
    mailbox = FileMailbox(settings.data_dir / "mailbox")
    sms: DeliveryChannel = mailbox
    email: DeliveryChannel = mailbox
    if settings.sms_channel == "http":
        sms = HttpSmsGateway(settings.sms_gateway_url, settings.sms_gateway_token,
                             settings.delivery_timeout_s)
    if settings.email_channel == "smtp":
        email = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_sender,
                           settings.delivery_timeout_s, settings.smtp_starttls,
                           settings.smtp_username, settings.smtp_password)
    return {"sms": sms, "email": email}
