"""One camera frame at any touchpoint: airport devices decide by flight, urban gates by pass."""

from __future__ import annotations

from sqlalchemy.orm import Session

from civicstack.travel import touchpoints, urban
from civicstack.travel.models import Touchpoint
from civicstack.travel.site import TravelSite


def decide(session: Session, site: TravelSite, device: Touchpoint, image: bytes,
           record_locator: str | None = None) -> touchpoints.Decision:
    if device.kind in touchpoints.URBAN_KINDS:
        return urban.decide(session, site, device, image)
    return touchpoints.decide(session, site, device, image, record_locator)
