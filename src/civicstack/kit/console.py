"""The officials' console as every domain's pages see it: `Official`, the signed-in official (an
`Actor` with role and scope) as a typed dependency, and how console forms answer (`act`,
`refusal_page`). Who is signed in is identity's to say: it provides the resolver at install
time, so kit, and the register's pages that identity itself depends on, import no account."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Protocol
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.kit.appservices import ServiceKey, services_of
from civicstack.kit.audit import Actor
from civicstack.kit.authz import ROLE_LABELS, Permission
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError, Redirect
from civicstack.kit.i18n import N_
from civicstack.kit.web import ENVIRONMENT, render


class OfficialResolver(Protocol):
    def __call__(self, request: Request, session: Session) -> Actor | None:
        """The official signed in on this browser, re-read from the database, or None."""


OFFICIAL_RESOLVER = ServiceKey[OfficialResolver]("official_resolver")
# The signed-in official's name and scope label, kept in the session for the console's header.
HEADER = "official_header"


@dataclass(frozen=True)
class Section:
    """A part of the console, linked from its header for the officials whose role holds any
    of `any_of` (each page checks the same permission itself when it answers)."""

    path: str
    label: str
    any_of: frozenset[Permission]

    def open_to(self, official: Actor) -> bool:
        return any(official.may(permission) for permission in self.any_of)


def _section(path: str, label: str, *any_of: Permission) -> Section:
    return Section(path, label, frozenset(any_of))


# The console's header, in this order; a role sees the sections it may use and no other.
SECTIONS = (
    _section("/console/officials", N_("Officials"), Permission.OFFICIALS_MANAGE),
    _section("/console/security", N_("Security"), Permission.SECURITY_READ),
    _section("/console/dossiers", N_("Public service dossiers"), Permission.DOSSIER_PROCESS),
    _section("/console/accounts", N_("eID approvals"), Permission.IDENTITY_APPROVE),
    _section("/console/registry", N_("Register"), Permission.REGISTRY_READ),
    _section("/console/support", N_("Support requests"), Permission.SUPPORT_HANDLE,
             Permission.AUDIT_READ, Permission.REGISTRY_READ, Permission.IDENTITY_APPROVE),
    _section("/console/monitoring", N_("Task monitoring"), Permission.TASKS_MANAGE),
    _section("/console/monitoring/mine", N_("My tasks"), Permission.TASKS_REPORT),
    _section("/console/learning", N_("Digital Education for All"), Permission.LEARNING_MANAGE),
    _section("/console/organisations", N_("Organisations"), Permission.ORGANISATION_APPROVE),
    _section("/console/biometrics", N_("Face biometrics"), Permission.BIOMETRICS_REVIEW),
    _section("/console/wallet/verify", N_("Check a wallet document"), Permission.WALLET_VERIFY),
    _section("/console/wallet/credentials", N_("Wallet documents"), Permission.WALLET_STATUS),
    _section("/console/exchange", N_("Data exchange"), Permission.EXCHANGE_MANAGE),
    _section("/console/catalogue", N_("Procedure catalogue"), Permission.CATALOGUE_MANAGE),
    _section("/console/relying-parties", N_("Relying parties"), Permission.OIDC_CLIENTS),
    _section("/console/travel", N_("Airport lanes"), Permission.TRAVEL_OPERATE),
)
# Where each official lands after signing in, and where a refusal sends them back: the first
# row whose permission their role holds. A permission stands for the work that only the roles
# doing it hold (level 2 activation is the police's counter work, the whole catalogue of
# officials the admin's), so the order, not the role's name, decides.
LANDINGS = (
    (Permission.OFFICIALS_MANAGE, "/console/officials"),
    (Permission.IDENTITY_LEVEL2, "/console/accounts"),
    (Permission.DOSSIER_PROCESS, "/console/dossiers"),
    (Permission.SUPPORT_HANDLE, "/console/support"),
    (Permission.TASKS_MANAGE, "/console/monitoring"),
    (Permission.REGISTRY_READ, "/console/registry"),
    (Permission.TRAVEL_OPERATE, "/console/travel"),
    (Permission.TASKS_REPORT, "/console/monitoring/mine"),
)
PASSWORD_PAGE = "/console/password"  # noqa: S105 - every official may choose theirs


def landing_of(official: Actor | None) -> str:
    """The official's own work; before sign-in, the console's door (it asks who they are)."""
    if official is None:
        return "/console"
    return next((path for permission, path in LANDINGS if official.may(permission)),
                PASSWORD_PAGE)


def sections_of(official: Actor) -> list[Section]:
    return [section for section in SECTIONS if section.open_to(official)]


def current_section(official: Actor, path: str) -> Section | None:
    """The header's section this page belongs to: the longest path that starts it."""
    matching = [section for section in sections_of(official)
                if path == section.path or path.startswith(section.path + "/")]
    return max(matching, key=lambda section: len(section.path), default=None)


# The console's layout draws its header from these (every console page passes `operator`).
ENVIRONMENT.globals.update(console_sections=sections_of, console_landing=landing_of,
                           console_current=current_section, role_labels=ROLE_LABELS)


def this_page(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def official_login(next_path: str) -> str:
    return f"/console/login?next={quote(next_path)}"


def current_official(request: Request, session: DbSession) -> Actor:
    actor = services_of(request.app)[OFFICIAL_RESOLVER](request, session)
    if actor is None:
        raise Redirect(official_login(this_page(request)))
    request.state.official = actor  # an error page later in this request shows the header
    return actor


Official = Annotated[Actor, Depends(current_official)]


def act(request: Request, official: Actor, change: Callable[[Actor], object],
        done: str) -> Response:
    """A console form that changes something (its route already checked CSRF and sign-in):
    `change`'s service checks role and scope; a refusal is shown on the console's error page."""
    try:
        change(official)
    except DomainError as exc:
        return refusal_page(request, official, exc)
    return RedirectResponse(done, status_code=303)


def refusal_page(request: Request, official: Actor, exc: DomainError) -> Response:
    """A refused console page or action, shown on the console's error page with its status."""
    return render(request, "console/error.html", {"operator": official, "error": exc},
                  exc.status)
