"""The portal page that offers one document of the citizen's wallet to a wallet app: the QR
code and link of an OpenID4VCI credential offer, and its PIN. The rules are in vci.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.identity.auth import Citizen
from civicstack.kit import qr
from civicstack.kit.appservices import Services
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError
from civicstack.kit.i18n import N_, translations
from civicstack.kit.web import render, request_locale
from civicstack.wallet import vci
from civicstack.wallet.site import WALLET_SITE

router = html_router()
WALLET = "/wallet"
# Shown by the wallet app when it asks for the PIN, in the language the offer was made in.
TX_CODE_DESCRIPTION = N_("The PIN shown next to the QR code in the CivicStack portal")


@router.post(f"{WALLET}/offer", response_class=HTMLResponse)
def offer(request: Request, session: DbSession, services: Services, signed: Citizen,
          document_code: Annotated[str, Form()] = "") -> Response:
    description = translations(request_locale(request)).gettext(TX_CODE_DESCRIPTION)
    try:
        new = vci.create_offer(session, services[WALLET_SITE],
                               signed.account.personal_id_number, document_code, description)
    except DomainError as exc:
        return render(request, "portal/wallet_offer.html", {"refusal": exc}, exc.status)
    response = render(request, "portal/wallet_offer.html", {
        "offer": new, "qr_svg": qr.svg_of(new.uri)})
    response.headers["Cache-Control"] = "no-store"  # the code and PIN must not be cached
    return response
