"""The citizen's wallet in the portal: cards, a document's fields, in-person QR codes, reporting
a lost document, adding documents from the population register; and the public monthly list
of integrated documents. Every rule is in service.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from itertools import groupby
from typing import Annotated, Any

import segno
from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.identity.auth import Citizen
from civicstack.kit.appservices import Services
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, NotFound
from civicstack.kit.i18n import N_
from civicstack.kit.qr import scalable_svg
from civicstack.kit.web import field_errors, render
from civicstack.wallet import service
from civicstack.wallet.qr import encode as qr_text
from civicstack.wallet.service import Card
from civicstack.wallet.site import KEY_BINDING_MAX_AGE_S, WALLET_SITE, WalletSite

router = html_router()
WALLET = "/wallet"
# Shown on every card whatever the document; the rest of the card shows one claim of its own.
HOLDER_CLAIMS = ("full_name", "name")
NUMBER_CLAIMS = ("personal_id_number", "tax_code")
COMMON_CLAIMS = frozenset({*HOLDER_CLAIMS, *NUMBER_CLAIMS, "date_of_birth", "sex"})
DEFAULT_DISCLOSED = ("full_name", "date_of_birth")
TOO_LARGE = N_("these fields do not fit in one QR code; choose fewer")



def key_claims(found: Card) -> list[service.LabelledClaim]:
    """The two or three fields a card shows: the holder, the document's own first plain field
    and the holder's number."""
    plain = [c for c in service.labelled_claims(found.document, found.claims)
             if c.type not in ("array", "object")]
    own = [c for c in plain if c.name not in COMMON_CLAIMS][:1]
    return ([c for c in plain if c.name in HOLDER_CLAIMS] + own
            + [c for c in plain if c.name in NUMBER_CLAIMS])[:3]


# --- the wallet -----------------------------------------------------------------------------

def _wallet_page(request: Request, session: Session, site: WalletSite, personal_id_number: str,
                 refusal: DomainError | None = None) -> Response:
    held = service.cards(session, site, personal_id_number)
    return render(request, "portal/wallet.html", {
        "cards": [(found, key_claims(found)) for found in held],
        "addable": service.addable_from_register(session, held, personal_id_number,
                                                 date.today()), "refusal": refusal,
        "organisations": service.organisation_wallets(session, personal_id_number),
        "children": [(found, key_claims(found)) for found in
                     service.children_cards(session, site, personal_id_number)]},
        refusal.status if refusal else 200)


@router.get(WALLET, response_class=HTMLResponse)
def wallet(request: Request, session: DbSession, services: Services,
           signed: Citizen) -> Response:
    """The wallet; an authorisation to act for an organisation granted since the last visit is
    issued into it first, so the member can show it to a bank at once."""
    service.issue_authorisations(session, services[WALLET_SITE],
                                 signed.account.personal_id_number)
    return _wallet_page(request, session, services[WALLET_SITE],
                        signed.account.personal_id_number)


@router.post(WALLET + "/add", response_class=HTMLResponse)
def add_from_register(request: Request, session: DbSession, services: Services,
                      signed: Citizen, document_code: Annotated[str, Form()] = "") -> Response:
    """Issue a document whose data is the register's; a refusal (no ID card on record, no
    marriage recorded) is shown on the wallet page. It comes before anything is written but
    after the register was read, and that read stays in the audit log."""
    site, pid = services[WALLET_SITE], signed.account.personal_id_number
    try:
        issued = service.issue_from_register(session, site, pid, document_code)
    except DomainError as exc:
        return _wallet_page(request, session, site, pid, exc)
    return RedirectResponse(f"{WALLET}/cards/{issued.credential.public_id}", status_code=303)


# --- an organisation's wallet ---------------------------------------------------------------

@router.get(WALLET + "/organisations/{tax_code}", response_class=HTMLResponse)
def organisation_wallet(request: Request, session: DbSession, services: Services,
                        signed: Citizen, tax_code: str) -> Response:
    """The documents issued to an organisation, for the members allowed to see them."""
    site = services[WALLET_SITE]
    try:
        acting, held = service.organisation_cards(session, site, signed.account, tax_code)
    except DomainError as exc:
        return _wallet_page(request, session, site, signed.account.personal_id_number, exc)
    return render(request, "portal/wallet_organisation.html", {
        "acting": acting,
        "cards": [(found, service.labelled_claims(found.document, found.claims))
                  for found in held]})


# --- one card -------------------------------------------------------------------------------

def _card_page(request: Request, session: Session, site: WalletSite, personal_id_number: str,
               public_id: str, *, chosen: Iterable[str] = DEFAULT_DISCLOSED,
               errors: dict[str, str] | None = None, confirm_lost: bool = False,
               status_code: int = 200) -> Response:
    found = service.card(session, site, personal_id_number, public_id)
    return render(request, "portal/wallet_card.html", {
        "card": found, "claims": service.labelled_claims(found.document, found.claims),
        "chosen": set(chosen), "errors": errors or {}, "confirm_lost": confirm_lost,
        "showable": found.credential.status == "valid" and not found.expired}, status_code)


def _card_or_refusal(request: Request, session: Session, site: WalletSite,
                     personal_id_number: str, public_id: str, **options: Any) -> Response:
    """The card's page; a card not in this wallet is said so on the wallet page."""
    try:
        return _card_page(request, session, site, personal_id_number, public_id, **options)
    except NotFound as exc:
        return _wallet_page(request, session, site, personal_id_number, exc)


@router.get(WALLET + "/cards/{public_id}", response_class=HTMLResponse)
def card_page(request: Request, session: DbSession, services: Services, signed: Citizen,
              public_id: str) -> Response:
    return _card_or_refusal(request, session, services[WALLET_SITE],
                            signed.account.personal_id_number, public_id)


@router.post(WALLET + "/cards/{public_id}/qr", response_class=HTMLResponse)
def show_qr(request: Request, session: DbSession, services: Services, signed: Citizen,
            public_id: str, disclose: Annotated[list[str] | None, Form()] = None) -> Response:
    """A QR code of the chosen fields, signed by the portal wallet's key for the counter."""
    site, pid, chosen = services[WALLET_SITE], signed.account.personal_id_number, disclose or []
    try:
        presentation = service.present_in_person(session, site, pid, public_id, chosen)
    except NotFound as exc:
        return _wallet_page(request, session, site, pid, exc)
    except DomainError as exc:  # nothing chosen; a suspended or expired document
        return _card_or_refusal(request, session, site, pid, public_id, chosen=chosen,
                                errors=field_errors(exc), status_code=exc.status)
    scanned = qr_text(presentation)  # VN1: zlib + Base45, a smaller code than the raw text
    try:
        qr = qr_code(scanned)
    except segno.DataOverflowError:
        return _card_or_refusal(request, session, site, pid, public_id, chosen=chosen,
                                errors={"disclose": TOO_LARGE}, status_code=422)
    found = service.card(session, site, pid, public_id)
    return render(request, "portal/wallet_qr.html", {
        "card": found, "presentation": scanned, "qr": qr, "qr_svg": scalable_svg(qr),
        "shown": [c for c in service.labelled_claims(found.document, found.claims)
                  if c.name in chosen],
        "valid_until": service.now() + timedelta(seconds=KEY_BINDING_MAX_AGE_S),
        "valid_minutes": KEY_BINDING_MAX_AGE_S // 60})


def qr_code(text: str) -> segno.QRCode:
    """The smallest QR code that holds the text: level L, raised to M by segno when that
    needs no larger symbol. A screen is not scratched, so more redundancy would only make
    the modules smaller and the code harder to scan."""
    return segno.make_qr(text, error="l", boost_error=True)


@router.get(WALLET + "/cards/{public_id}/lost", response_class=HTMLResponse)
def confirm_lost(request: Request, session: DbSession, services: Services, signed: Citizen,
                 public_id: str) -> Response:
    return _card_or_refusal(request, session, services[WALLET_SITE],
                            signed.account.personal_id_number, public_id, confirm_lost=True)


@router.post(WALLET + "/cards/{public_id}/lost", response_class=HTMLResponse)
def report_lost(request: Request, session: DbSession, services: Services, signed: Citizen,
                public_id: str) -> Response:
    site, pid = services[WALLET_SITE], signed.account.personal_id_number
    try:
        service.report_lost(session, pid, public_id)
    except NotFound as exc:
        return _wallet_page(request, session, site, pid, exc)
    except DomainError as exc:  # already suspended
        return _card_or_refusal(request, session, site, pid, public_id,
                                errors=field_errors(exc), status_code=exc.status)
    return RedirectResponse(f"{WALLET}/cards/{public_id}", status_code=303)


# --- the public monthly list ----------------------------------------------------------------

@router.get(WALLET + "/documents", response_class=HTMLResponse)
def integrated_documents(request: Request, session: DbSession) -> Response:
    """Which documents each agency has integrated, month by month, and how many were issued."""
    listed = service.integrated_documents(session)
    months = [(month, list(rows)) for month, rows in
              groupby(sorted(listed, key=lambda row: row.month, reverse=True),
                              key=lambda row: row.month)]
    return render(request, "portal/wallet_documents.html", {
        "months": months, "listed": sorted(listed, key=lambda row: -row.issued),
        "most": max((row.issued for row in listed), default=0),
        "total": sum(row.issued for row in listed)})
