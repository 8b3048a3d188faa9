"""Who is calling a page, as typed dependencies any domain's routes declare: `Citizen` (the
citizen signed in on this browser, with what the session has proven) and `MaybeCitizen`; and
the resolver of the official signed in to the console, which identity provides for kit's
`Official` (kit/console.py). A browser that is not signed in is sent to the right sign-in page,
and brought back afterwards to the page it asked for.

Both read the server-side browser session (kit/websession.py) and re-check the database at
every request: an ended, locked or downgraded session is refused at once on every instance.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from civicstack.identity import officials, service
from civicstack.identity.models import OfficialAccount
from civicstack.kit.audit import Actor
from civicstack.kit.console import this_page
from civicstack.kit.deps import SAFE_METHODS, DbSession
from civicstack.kit.errors import Redirect

CITIZEN_KEY = "citizen_session"  # the CitizenSession token, in the server-side session
OFFICIAL_KEY = "official"  # [official id, account generation]
PASSWORD_PAGE = "/console/password"  # noqa: S105 - the page where officials choose theirs


def citizen_login(next_path: str = "") -> str:
    """The citizen's sign-in page, coming back to `next_path` afterwards."""
    return f"/account/login?next={quote(next_path, safe='')}" if next_path else "/account/login"


def signed_in_citizen(request: Request, session: DbSession) -> service.SignedIn | None:
    """The citizen signed in on this browser, or None (for pages that anyone may see)."""
    token = request.session.get(CITIZEN_KEY)
    found = service.signed_in(session, str(token)) if token else None
    if found is None and token:
        request.session.pop(CITIZEN_KEY, None)
    return found


def current_citizen(request: Request, session: DbSession) -> service.SignedIn:
    found = signed_in_citizen(request, session)
    if found is None:
        # A form posted after the session ended cannot be replayed: start from its page.
        raise Redirect(citizen_login(this_page(request) if request.method in SAFE_METHODS
                                     else ""))
    return found


def console_account(request: Request, session: Session) -> OfficialAccount | None:
    """The official signed in to the console on this browser, whether or not they may act yet
    (the page where they choose their password needs them before they may)."""
    found = request.session.get(OFFICIAL_KEY)
    official = officials.signed_in(session, int(found[0]), int(found[1])) if found else None
    if official is None and found:
        request.session.pop(OFFICIAL_KEY, None)
    return official


def signed_in_official(request: Request, session: Session) -> Actor | None:
    """The official as they act on console pages. One still holding a password someone handed
    them is sent to choose their own first, from whichever page they asked for."""
    official = console_account(request, session)
    if official is not None and official.must_change_password:
        back = this_page(request) if request.method in SAFE_METHODS else ""
        raise Redirect(f"{PASSWORD_PAGE}?next={quote(back, safe='')}" if back else PASSWORD_PAGE)
    return officials.actor_of(official) if official is not None else None


Citizen = Annotated[service.SignedIn, Depends(current_citizen)]
MaybeCitizen = Annotated[service.SignedIn | None, Depends(signed_in_citizen)]
