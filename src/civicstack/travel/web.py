"""Travel's pages: the citizen's "traffic utility" (flights with face boarding on or off, urban
passes with face entry, trips and parking sessions), and the kiosk page a touchpoint device
shows, signed in with its own credential. Every rule is in service.py, touchpoints.py and
urban.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from anyio import to_thread
from fastapi import Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from civicstack.biometrics.site import image_bytes
from civicstack.identity.auth import Citizen
from civicstack.kit.appservices import Services
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession, html_router
from civicstack.kit.errors import DomainError, Unauthorized
from civicstack.kit.web import field_errors, render
from civicstack.travel import frames, repository, service, touchpoints, urban
from civicstack.travel.models import Touchpoint
from civicstack.travel.site import TRAVEL, TravelSite

router = html_router()
PAGE, KIOSK = "/travel", "/kiosk"  # the citizen's page, the kiosk's
DEVICE_KEY = "touchpoint"  # the signed-in device's lookup id


# --- the citizen's traffic utility ------------------------------------------------------------

def _page(request: Request, session: Session, actor: Actor,
          refusal: DomainError | None = None) -> Response:
    return render(request, "portal/travel.html", {
        "flights": service.my_flights(session, actor),
        "passes": urban.my_passes(session, actor),
        "journeys": urban.my_journeys(session, actor),
        "operators": [(operator, urban.pass_kind(kind)) for operator, kind in
                      repository.urban_operators(session)],
        "today": service.local_today(),
        "refusal": refusal, "errors": field_errors(refusal) if refusal else {},
    }, refusal.status if refusal else 200)


def traveller(signed: Citizen) -> Actor:
    """The signed-in citizen, as the actor travel's rules take."""
    return Actor("citizen", signed.account.personal_id_number)


Traveller = Annotated[Actor, Depends(traveller)]


@router.get(PAGE, response_class=HTMLResponse)
def travel_page(request: Request, session: DbSession, actor: Traveller) -> Response:
    return _page(request, session, actor)


def _act(request: Request, session: Session, services: Services, actor: Actor,
         change: Callable[[TravelSite, Actor], object]) -> Response:
    """Make one change for the signed-in citizen, then back to the page; a refusal shows the
    page with its reason and leaves nothing half-written."""
    try:
        with session.begin_nested():
            change(services[TRAVEL], actor)
    except DomainError as exc:
        return _page(request, session, actor, exc)
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/bookings/{booking_id}/face")
def opt_in(request: Request, session: DbSession, services: Services, actor: Traveller,
           booking_id: int, consent: Annotated[bool, Form()] = False) -> Response:
    return _act(request, session, services, actor, lambda site, actor: service.opt_in(
        session, site, actor, booking_id, consent))


@router.post(PAGE + "/bookings/{booking_id}/face/delete")
def opt_out(request: Request, session: DbSession, services: Services, actor: Traveller,
            booking_id: int) -> Response:
    return _act(request, session, services, actor, lambda _site, actor: service.opt_out(
        session, actor, booking_id))


@router.post(PAGE + "/passes")
def open_pass(request: Request, session: DbSession, services: Services, actor: Traveller,
              operator: Annotated[str, Form()] = "",
              consent: Annotated[bool, Form()] = False) -> Response:
    name, _, kind = operator.rpartition("|")  # the form's choice is "operator|kind"
    return _act(request, session, services, actor, lambda site, actor: urban.open_pass(
        session, site, actor, name, kind, consent))


@router.post(PAGE + "/passes/{pass_id}/face")
def resume_face_entry(request: Request, session: DbSession, services: Services,
                      actor: Traveller, pass_id: int,
                      consent: Annotated[bool, Form()] = False) -> Response:
    return _act(request, session, services, actor, lambda site, actor: urban.resume_face_entry(
        session, site, actor, pass_id, consent))


@router.post(PAGE + "/passes/{pass_id}/face/delete")
def end_face_entry(request: Request, session: DbSession, services: Services,
                   actor: Traveller, pass_id: int) -> Response:
    return _act(request, session, services, actor, lambda _site, actor: urban.end_face_entry(
        session, actor, pass_id))


# --- the kiosk page ---------------------------------------------------------------------------

def signed_in_device(request: Request, session: DbSession) -> Touchpoint | None:
    """The touchpoint signed in on this browser; a revoked credential signs it out."""
    lookup_id = request.session.get(DEVICE_KEY)
    device = touchpoints.signed_in(session, str(lookup_id)) if lookup_id else None
    if device is None:
        request.session.pop(DEVICE_KEY, None)
    return device


MaybeDevice = Annotated[Touchpoint | None, Depends(signed_in_device)]


def _kiosk(request: Request, device: Touchpoint | None, status_code: int = 200,
           **context: object) -> Response:
    template = "portal/travel_kiosk.html" if device else "portal/travel_kiosk_sign_in.html"
    return render(request, template, {"device": device, **context}, status_code)


@router.get(KIOSK, response_class=HTMLResponse)
def kiosk(request: Request, device: MaybeDevice) -> Response:
    return _kiosk(request, device)


@router.post(KIOSK + "/sign-in")
def kiosk_sign_in(request: Request, session: DbSession, services: Services,
                  credential: Annotated[str, Form()] = "") -> Response:
    try:
        device = touchpoints.authenticate(session, services.pepper, credential.strip())
    except Unauthorized:
        return _kiosk(request, None, 401, error=True)
    request.session[DEVICE_KEY] = device.lookup_id
    return RedirectResponse(KIOSK, status_code=303)


@router.post(KIOSK + "/sign-out")
def kiosk_sign_out(request: Request) -> Response:
    request.session.pop(DEVICE_KEY, None)
    return RedirectResponse(KIOSK, status_code=303)


@router.post(KIOSK, response_class=HTMLResponse)
async def kiosk_frame(request: Request, session: DbSession, services: Services,
                      device: MaybeDevice, image: Annotated[UploadFile, File()],
                      record_locator: Annotated[str, Form(max_length=6)] = "",
                      consent: Annotated[bool, Form()] = False,
                      checked_bags: Annotated[int, Form(ge=0, le=service.MAX_BAGS)] = 0,
                      ) -> Response:
    """A frame, with the booking code when scanned and the bags declared at a check-in kiosk;
    there, the passenger's ticked consent turns face boarding on for that booking first."""
    if device is None:
        return RedirectResponse(KIOSK, status_code=303)
    frame = await image_bytes(image)
    if consent and record_locator:
        try:
            decision = touchpoints.opt_in_at_kiosk(session, services[TRAVEL], device,
                                                   frame, record_locator, consent,
                                                   checked_bags)
        except DomainError as exc:
            return _kiosk(request, device, exc.status, refusal=exc)
    else:
        decision = await to_thread.run_sync(  # as the API's frames: off the event loop
            frames.decide, services.session_factory, services[TRAVEL], device, frame,
            record_locator or None, checked_bags)
    return _kiosk(request, device, decision=decision)
