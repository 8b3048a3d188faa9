"""In-person verification, at an official's counter or on the public verifier page (a bank's
desk): the citizen's QR code is read, the presentation verified against this server's live
keys and statuses, refused if it was already shown here, and the read is audited (refusals
too)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from civicstack.kit import audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.i18n import N_
from civicstack.wallet import qr, replay, repository, sdjwt, service
from civicstack.wallet.jws import PresentationRefused
from civicstack.wallet.models import DocumentType, Issuer
from civicstack.wallet.site import IN_PERSON_AUDIENCE, KEY_BINDING_MAX_AGE_S, WalletSite
from civicstack.wallet.trust import LiveTrust

PURPOSE = "in-person check of a wallet document at a counter"
PUBLIC_PURPOSE = "check of a wallet document on the public verifier page"
PUBLIC_VERIFIER = Actor("verifier", "public")  # whoever opened the page; no sign-in
REPLAY = N_("this QR code was already shown here; ask the holder for a fresh one")
UNKNOWN_TYPE = N_("the document type is not in this server's catalogue")
# Scanners type what they read; anything much longer than the largest QR code is not one.
MAX_PRESENTATION_LENGTH = 8_000


@dataclass(frozen=True)
class Verified:
    issuer: Issuer
    document: DocumentType
    claims: list[service.LabelledClaim]
    issued_at: datetime
    expires_at: datetime
    presented_at: datetime  # when the holder's wallet made the QR code


def _now() -> datetime:
    return datetime.now(UTC)


def _moment(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _check(session: Session, site: WalletSite, presentation: str) -> Verified:
    if len(presentation) > MAX_PRESENTATION_LENGTH:
        raise PresentationRefused("this is not an SD-JWT presentation")
    found = sdjwt.verify(qr.decode(presentation), LiveTrust(session, site),
                         sdjwt.Expectations(IN_PERSON_AUDIENCE, int(_now().timestamp()),
                                            max_key_binding_age_s=KEY_BINDING_MAX_AGE_S))
    document = repository.document_type(session, service.document_code_of(found.vct))
    if document is None:
        raise PresentationRefused(UNKNOWN_TYPE)
    issuer = session.get(Issuer, document.issuer_id)
    assert issuer is not None  # a foreign key
    replay.accept_once(session, found, REPLAY)
    return Verified(issuer, document, service.labelled_claims(document, found.claims),
                    _moment(found.issued_at), _moment(found.expires_at),
                    _moment(found.key_binding_issued_at))


def verify_in_person(session: Session, site: WalletSite, actor: Actor,
                     presentation: str) -> Verified:
    """Verify a QR code presented at a counter; raises PresentationRefused with the reason.
    Both outcomes are audited: a refusal may be a forgery attempt worth finding later."""
    actor.require(Permission.WALLET_VERIFY)
    return _audited_check(session, site, actor, presentation, PURPOSE)


def verify_for_anyone(session: Session, site: WalletSite, presentation: str) -> Verified:
    """Verify a QR code on the public verifier page (a bank, a landlord, an employer), where
    no one signs in. The holder's signed choice of fields is the consent: the page shows and
    the audit keeps no more than the QR code discloses."""
    return _audited_check(session, site, PUBLIC_VERIFIER, presentation, PUBLIC_PURPOSE)


def _audited_check(session: Session, site: WalletSite, actor: Actor, presentation: str,
                   purpose: str) -> Verified:
    try:
        verified = _check(session, site, presentation)
    except PresentationRefused as refused:
        audit.record(session, actor, "wallet.presentation.refuse", subject_type="person",
                     subject_id="unknown", purpose=purpose, detail={"reason": refused.reason})
        raise
    shown: dict[str, Any] = {claim.name: claim.value for claim in verified.claims}
    audit.record(session, actor, "wallet.presentation.verify", subject_type="person",
                 subject_id=str(shown.get("personal_id_number", "unknown")), purpose=purpose,
                 detail={"document": verified.document.code, "claims": sorted(shown)})
    return verified
