"""Server-rendered pages: templates with per-request locale, the language switch, and CSRF."""

from __future__ import annotations

import csv
import io
from contextvars import ContextVar
from datetime import datetime
from ipaddress import IPv4Network, IPv6Network, ip_address
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from babel.numbers import format_decimal, format_percent
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from civicstack.kit import audit_labels, audit_purposes, csrf
from civicstack.kit.appservices import services_of
from civicstack.kit.calendar import VIETNAM
from civicstack.kit.db import as_utc
from civicstack.kit.errors import DomainError
from civicstack.kit.headers import csp_nonce
from civicstack.kit.i18n import SUPPORTED_LOCALES, Message, localise, negotiate_locale, translations
from civicstack.kit.ratelimit import REFUSALS, FailureLimiter
from civicstack.kit.tally import tally_of

PACKAGE_DIR = Path(__file__).resolve().parent.parent
STATIC_DIR = PACKAGE_DIR / "static"
TEMPLATE_DIR = PACKAGE_DIR / "templates"
LANG_COOKIE = "lang"
_locale: ContextVar[str] = ContextVar("locale", default=SUPPORTED_LOCALES[0])


# Jinja's new-style gettext fills in the %(name)s values itself (escaped): these only translate.
# A Message (a domain error's detail) brings its own values: Markup's "%" escapes them, and
# the result's "%" is doubled, since Jinja then formats it once more (with no values).
def _gettext(message: str) -> str:
    locale = _locale.get()
    if not (isinstance(message, Message) and message.values):
        return localise(locale, message)
    values = {name: localise(locale, value) if isinstance(value, Message) else value
              for name, value in message.values.items()}
    # The template is our own catalogue's text, never a caller's.
    sentence = Markup(translations(locale).gettext(message.template)) % values  # noqa: S704
    return sentence.replace("%", "%%")


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_locale.get()).ngettext(singular, plural, n)


def _environment() -> Environment:
    environment = Environment(loader=FileSystemLoader(TEMPLATE_DIR),
                              autoescape=select_autoescape(default=True),
                              extensions=["jinja2.ext.i18n"])
    # The callables read the locale from a context variable set just before each render, so
    # concurrent requests in different languages never see each other's catalogue.
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True)
    return environment


def local_time(moment: datetime) -> str:
    """Stored instants are UTC; people read Vietnam time."""
    return as_utc(moment).astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M")


def percent(fraction: float | None, digits: int = 1) -> str:
    """A share (0.511) as the page's language writes it: "51,1%" in Vietnamese, "51.1%" in
    English (CLDR's pattern through Babel); a dash when there is nothing to divide."""
    if fraction is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + "%"
    return format_percent(fraction, format=pattern, locale=_locale.get())


def number(value: float, digits: int = 0) -> str:
    """A count or measure with the page's language's separators: 1.234.567 / 1,234,567."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_locale.get())


ENVIRONMENT = _environment()
ENVIRONMENT.filters["percent"] = percent
ENVIRONMENT.filters["number"] = number
ENVIRONMENT.filters["local_time"] = local_time
ENVIRONMENT.filters["action_label"] = audit_labels.action_label
ENVIRONMENT.filters["actor_label"] = audit_labels.actor_label
ENVIRONMENT.filters["purpose_parts"] = audit_purposes.purpose_parts


def request_locale(request: Request) -> str:
    default = services_of(request.app).settings.default_locale
    return negotiate_locale(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                            request.headers.get("accept-language"), default)


def language_links(request: Request) -> dict[str, str]:
    """The current page in each language, keeping its other query parameters."""
    path, query = _page_address(request)
    params = {k: v for k, v in query if k != "lang"}
    return {code: f"{path}?{urlencode({**params, 'lang': code})}" for code in SUPPORTED_LOCALES}


def _page_address(request: Request) -> tuple[str, list[tuple[str, str]]]:
    """The address a browser can load again. A page answered to a form has none of its own
    (a GET of the POST's address answers 405), so it is the form's page: the same-site
    Referer, or the home page when there is none."""
    if request.method in ("GET", "HEAD"):
        return request.url.path, list(request.query_params.multi_items())
    referrer = urlsplit(request.headers.get("referer", ""))
    if referrer.netloc == request.url.netloc and referrer.path.startswith("/"):
        return referrer.path, parse_qsl(referrer.query)
    return "/", []


class LazyCsrfToken:
    """The page's CSRF token (kit/csrf.py), made only if a template writes it: a page without
    a form (a crawler's every page) makes none."""

    def __init__(self, request: Request) -> None:
        self.request = request

    def __str__(self) -> str:
        return csrf.form_token(self.request)

    def __html__(self) -> str:  # Jinja's autoescape asks for this; a token is URL-safe text
        return str(self)


def render(request: Request, template: str, context: dict[str, Any] | None = None,
           status_code: int = 200) -> HTMLResponse:
    locale = request_locale(request)
    token = _locale.set(locale)
    try:
        html = ENVIRONMENT.get_template(template).render(
            request=request, locale=locale, languages=language_links(request),
            csrf_token=LazyCsrfToken(request), csp_nonce=csp_nonce(request),
            **(context or {}))
    finally:
        _locale.reset(token)
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") in SUPPORTED_LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="lax")
    return response


def field_errors(exc: DomainError) -> dict[str, str]:
    """Field -> reason, to show each error next to its field; `form` for the rest."""
    if not exc.errors:
        return {"form": exc.detail}
    return {error.field: error.reason for error in exc.errors}


def limiter(request: Request, name: str, max_failures: int = 10, window_seconds: float = 300,
            refusal: str = "too many failed attempts") -> FailureLimiter:
    """The limiter for one purpose; by default 10 failures per key per 5 minutes, counted in
    the database for every instance. The security view lists those this process made
    (AppServices.limiters)."""
    services = services_of(request.app)
    if name not in services.limiters:
        services.limiters[name] = FailureLimiter(
            name, max_failures, window_seconds, tally_of(services.tallies, REFUSALS + name),
            services.pepper, refusal)
    return services.limiters[name]


def client_address(request: Request) -> str:
    """Who sent the request: the socket's peer, unless the peer is one of the trusted proxies
    (CIVICSTACK_TRUSTED_PROXIES); then the address that proxy saw, read from X-Forwarded-For
    right to left past every trusted proxy. What lies left of the first address that is not a
    trusted proxy was written by the client itself, so it is never believed."""
    peer = request.client.host if request.client else "unknown"
    trusted = services_of(request.app).settings.trusted_proxies
    if not trusted:
        return peer
    hops = [hop.strip() for header in request.headers.getlist("x-forwarded-for")
            for hop in header.split(",")]
    address = peer
    for hop in reversed(hops):
        if not _is_trusted(address, trusted):
            break
        try:  # a proxy writes an address: past anything else nothing is known
            address = str(ip_address(hop))
        except ValueError:
            break
    return address


def _is_trusted(address: str, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:  # not an address at all (a test client, a Unix socket)
        return False
    return any(parsed in network for network in trusted)


def local_path(target: str | None, default: str) -> str:
    """`target` when it is a path on this site, else `default`: where to go after signing in.

    An attacker can put anything in a `next` parameter, so only "/path" passes. "//host" and
    "/\\host" are read by browsers as another host, and browsers drop tabs and newlines from
    URLs, so "/<tab>/host" would become "//host": all of these fall back to `default`.
    """
    if not target or len(target) > 2000 or not target.startswith("/"):
        return default
    if target.startswith("//") or "\\" in target or any(c <= " " or c == "\x7f" for c in target):
        return default
    parts = urlsplit(target)
    return default if parts.scheme or parts.netloc else target


def csv_download(rows: list[list[Any]], filename: str) -> Response:
    """Rows as a CSV file (UTF-8 with a BOM, so spreadsheet programs read the accents)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
