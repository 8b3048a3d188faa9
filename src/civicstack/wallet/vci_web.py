"""The portal page that offers one document of the citizen's wallet to a wallet app: the QR
code and link of an OpenID4VCI credential offer, and its PIN. The rules are in vci.py."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from civicstack.identity.web import signed_in_citizen, to_login
from civicstack.kit.appservices import services_of
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import DomainError
from civicstack.kit.i18n import N_, translations
from civicstack.kit.web import check_csrf, render, request_locale
from civicstack.wallet import vci
from civicstack.wallet.site import WALLET_SITE

router = APIRouter(include_in_schema=False)
WALLET = "/wallet"
# Shown by the wallet app when it asks for the PIN, in the language the offer was made in.
TX_CODE_DESCRIPTION = N_("The PIN shown next to the QR code in the CivicStack portal")


@router.post(f"{WALLET}/offer", response_class=HTMLResponse)
def offer(request: Request, session: DbSession, document_code: Annotated[str, Form()] = "",
          csrf_token: Annotated[str, Form()] = "") -> Response:
    signed = signed_in_citizen(request, session)
    if signed is None:  # nothing is made without a citizen, so no CSRF check needed first
        return to_login(WALLET)
    check_csrf(request, csrf_token)
    description = translations(request_locale(request)).gettext(TX_CODE_DESCRIPTION)
    try:
        new = vci.create_offer(session, services_of(request.app)[WALLET_SITE],
                               signed.account.personal_id_number, document_code, description)
    except DomainError as exc:
        return render(request, "portal/wallet_offer.html", {"refusal": exc}, exc.status)
    response = render(request, "portal/wallet_offer.html", {
        "offer": new, "qr_svg": segno.make(new.uri, error="m").svg_inline(scale=3,
                                                                          light="#fff")})
    response.headers["Cache-Control"] = "no-store"  # the code and PIN must not be cached
    return response
