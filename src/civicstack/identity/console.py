"""The officials' console sign-in in two steps, kept in the server-side browser session (how
console pages answer is kit/console.py's).

The session holds only the official's id and the generation of their account it began in;
the account is re-read at every request (identity/auth.py), so disabling it, changing its role
or resetting its second factor ends the session at once. Between the password and the code,
the session holds a pending sign-in that expires after a few minutes.
"""

from __future__ import annotations

import time

from fastapi import Request

from civicstack.identity.auth import OFFICIAL_KEY
from civicstack.identity.models import OfficialAccount
from civicstack.kit.console import HEADER

PENDING = "official_pending"
PENDING_SECONDS = 300


def begin(request: Request, official: OfficialAccount) -> None:
    """The password was right: remember whose code to ask for next."""
    request.session.clear()  # a fresh session (a new id and CSRF token) at every sign-in
    request.session[PENDING] = [official.id, official.session_generation, int(time.time())]


def pending(request: Request) -> tuple[int, int] | None:
    """(official id, generation) of a sign-in waiting for its code; None once expired."""
    found = request.session.get(PENDING)
    if not found or time.time() - found[2] > PENDING_SECONDS:
        request.session.pop(PENDING, None)
        return None
    return int(found[0]), int(found[1])


def complete(request: Request, official: OfficialAccount, scope_label: str) -> None:
    """Both steps passed. The name and scope are kept for the console's header: neither can
    change without ending the session."""
    request.session.clear()
    request.session[OFFICIAL_KEY] = [official.id, official.session_generation]
    request.session[HEADER] = {"full_name": official.full_name, "scope_label": scope_label}
