"""The portal's front page. A visitor learns what the portal offers and where to start; a
signed-in citizen lands on their home, the way VNeID's app opens: the wallet, their latest
dossiers with their state, their notifications, who last used their data, and help. It lives
with online services, the domain that already reads identity and the wallet."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from civicstack.identity import service as identity
from civicstack.identity.auth import MaybeCitizen
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.web import render
from civicstack.services import service
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WALLET_SITE

router = html_router()
LATEST = 3  # of each list on the home page; each links to the whole list


@router.get("/", response_class=HTMLResponse)
def portal_home(request: Request, session: DbSession, services: Services,
                maybe: MaybeCitizen) -> Response:
    if maybe is None:
        return render(request, "portal/home.html")
    account = maybe.account
    pid = account.personal_id_number
    dossiers = service.my_dossiers(session, pid)
    me = str(Actor("citizen", pid))
    return render(request, "portal/citizen_home.html", {
        "documents": len(wallet.cards(session, services[WALLET_SITE], pid)),
        "dossiers": [(d, service.procedure_of(session, d)) for d in dossiers[:LATEST]],
        "dossier_count": len(dossiers),
        "notices": identity.my_notifications(session, account)[:LATEST],
        # others' uses only: the citizen's own sign-ins are not "who used my data"
        "uses": [e for e in identity.my_audit_trail(session, pid).entries
                 if e.actor != me][:LATEST]})
