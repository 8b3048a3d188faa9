"""The security headers of every response: a Content-Security-Policy whose scripts and styles
need this response's nonce, no framing, no MIME sniffing, referrers kept to our origin,
powerful browser features off, no stored copy of a page, and HSTS where the site says it is
served over HTTPS.

The policy runs nothing a page does not name: no inline script, event handler or style
attribute, no eval (htmx is configured without it), no plugin, no <base>. Forms may lead only
here, or to the relying party a citizen is signing in to (`allow_form_target`). Frames may
show only our own pages, save on the one response that names other origins
(`allow_frames_from`: the sign-out page's front-channel logout frames).
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NONCE_KEY = "civicstack.csp_nonce"  # in the ASGI scope: the nonce of this request's answer
FORM_TARGETS = "csp_form_targets"  # in the browser session: origins its forms may end at
FRAME_SOURCES_KEY = "civicstack.csp_frame_sources"  # in the ASGI scope: this answer's frames
MAX_FORM_TARGETS = 4
# An origin as it may stand in a policy: nothing that could end a directive or add a source.
ORIGIN = re.compile(r"^https?://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")
FIXED_HEADERS = {
    "X-Frame-Options": "DENY",  # frame-ancestors' elder, for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    # Cross-site, only our origin: a page's query (a search's name, a reset token, an OpenID
    # request's state) never reaches another site, and relying parties still see who sent
    # the citizen back. The Origin header of our own forms stays intact.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    # The kiosk and the face photos use <input type=file capture>, which opens the device's
    # own camera application, so pages need no camera; the QR verifier pages, which read the
    # camera's frames, say so themselves (`allow_camera`).
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def csp_nonce(connection: HTTPConnection) -> str:
    """The nonce this answer's <script> elements carry (and a stylesheet from another site,
    Swagger UI's). Empty only outside the middleware, where no policy asks for one."""
    return str(connection.scope.get(NONCE_KEY, ""))


def allow_form_target(connection: HTTPConnection, url: str) -> None:
    """Let this browser session's forms end at `url`'s origin.

    Browsers check form-action on every redirect that follows a form's submission, so a
    sign-in, step-up or consent that answers an OpenID Connect request, whose last redirect
    goes to the relying party's redirect URI, needs that origin allowed; kept in the session
    because the sign-in pages come before the redirect that needs it."""
    origin = _origin(url)
    targets = list(connection.session.get(FORM_TARGETS, []))
    if ORIGIN.match(origin) and origin not in targets:
        connection.session[FORM_TARGETS] = [*targets, origin][-MAX_FORM_TARGETS:]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def allow_frames_from(connection: HTTPConnection, urls: list[str]) -> None:
    """Let this one response frame these URLs' origins (and nothing else: the next response
    of the same browser is back to frames of our own pages only)."""
    sources = list(connection.scope.get(FRAME_SOURCES_KEY, []))
    for origin in map(_origin, urls):
        if ORIGIN.match(origin) and origin not in sources:
            sources.append(origin)
    connection.scope[FRAME_SOURCES_KEY] = sources


def allow_camera(response: Response) -> Response:
    """Let this one page ask for the camera (on our own origin, never in a frame)."""
    response.headers["Permissions-Policy"] = (
        "camera=(self), microphone=(), geolocation=(), payment=(), usb=()")
    return response


def content_security_policy(nonce: str, form_targets: list[str],
                            frame_sources: list[str] | None = None) -> str:
    allowed_targets = " ".join(["'self'", *(t for t in form_targets if ORIGIN.match(t))])
    frames = [source for source in frame_sources or [] if ORIGIN.match(source)]
    return "; ".join((
        "default-src 'self'",
        *([f"frame-src 'self' {' '.join(frames)}"] if frames else []),
        f"script-src 'self' 'nonce-{nonce}'",
        f"style-src 'self' 'nonce-{nonce}'",
        "img-src 'self' data:",  # Swagger UI's icons are data: URLs in its stylesheet
        "object-src 'none'",
        "base-uri 'none'",
        f"form-action {allowed_targets}",
        "frame-ancestors 'none'",
    ))


def keeps_no_copy(path: str, headers: MutableHeaders) -> bool:
    """Every page, and everything of the console: no browser or proxy keeps a copy.

    A page is made for the one who asked (a signed-in person's data, the session's CSRF token
    in its forms, the reader's language), so no copy of one is worth keeping, and telling the
    pages with personal data from the others would be a rule to forget on the next page. The
    console's downloads (exports, photos) are personal data too; the citizens' downloads say
    no-store themselves. A handler that chose its caching (status lists, key sets) keeps it,
    and /static, shared by everyone, stays cacheable."""
    if "cache-control" in headers or path.startswith("/static/"):
        return False
    return path.startswith("/console") or headers.get("content-type", "").startswith("text/html")


class SecurityHeadersMiddleware:
    """Draws a nonce for each request (`csp_nonce`) and adds the headers as the response
    starts; outside every other layer, so the catch-all's 500 page carries them too."""

    def __init__(self, app: ASGIApp, hsts_seconds: int = 0) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_seconds}; includeSubDomains" if hsts_seconds else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = scope[NONCE_KEY] = secrets.token_urlsafe(18)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add(MutableHeaders(scope=message), scope, nonce)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add(self, headers: MutableHeaders, scope: Scope, nonce: str) -> None:
        session = scope.get("session") or {}
        # Appended, not set: a handler's own policy (a download's sandbox) is enforced as well.
        headers.append("Content-Security-Policy", content_security_policy(
            nonce, list(session.get(FORM_TARGETS, [])), scope.get(FRAME_SOURCES_KEY)))
        for name, value in FIXED_HEADERS.items():
            headers.setdefault(name, value)
        if self.hsts:
            headers.setdefault("Strict-Transport-Security", self.hsts)
        if keeps_no_copy(scope["path"], headers):
            headers["Cache-Control"] = "no-store"
