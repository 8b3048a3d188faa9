"""The replay guard every verifier here shares (the counter's QR check and OpenID4VP answers):
a presentation is accepted once, remembered for as long as its key binding could still pass,
and forgotten after that. Keyed on what the holder signed in the key-binding JWT
(`presentation_id`), not on the JWT's text: the same fields of the same card shown twice,
rightly, share their `sd_hash`, and one signature has several spellings that verify."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicstack.wallet import repository, sdjwt
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.models import SeenPresentation
from civicstack.wallet.site import KEY_BINDING_MAX_AGE_S

MARGIN = timedelta(seconds=sdjwt.CLOCK_SKEW_S)


def accept_once(session: Session, verified: sdjwt.VerifiedPresentation, refusal: str) -> None:
    """Refuse with `refusal` a presentation already accepted; two verifiers racing on one
    presentation meet the unique index."""
    moment = datetime.now(UTC)
    repository.forget_seen_presentations(session, moment)
    if repository.presentation_seen(session, verified.presentation_id):
        raise PresentationRefused(refusal)
    made_at = datetime.fromtimestamp(verified.key_binding_issued_at, UTC)
    try:
        with session.begin_nested():
            session.add(SeenPresentation(
                sd_hash=verified.presentation_id, audience=verified.audience[:200],
                seen_at=moment,
                forget_after=made_at + timedelta(seconds=KEY_BINDING_MAX_AGE_S) + MARGIN))
    except IntegrityError as exc:
        raise PresentationRefused(refusal) from exc
