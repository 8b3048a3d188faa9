"""Members, agreements, and answering a member's request within an agreement.

An answer carries exactly the agreement's fields of the dataset, signed by the platform's
exchange key; a request outside every agreement is refused with the reason. Both are chained
in the message log, and every answer is also an audited read of the person (the citizen sees
who read their data, when and why).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicstack.exchange import log
from civicstack.exchange.models import ExchangeMember, SharingAgreement, SpentMemberAssertion
from civicstack.kit import assertions, audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.errors import Conflict, Invalid, NotFound, Unauthorized
from civicstack.registry import service as registry
from civicstack.registry.models import Person

ASSERTION_LONGEST_LIFE = timedelta(minutes=5)
MEMBER_KINDS = ("ministry", "province", "system")
# What the platform shares, field by field; an agreement names a subset.
DATASETS: dict[str, tuple[str, ...]] = {
    "verify_person": ("full_name", "date_of_birth", "sex", "status"),
    "residence": ("permanent_province_code", "permanent_ward_code", "permanent_address_line",
                  "temporary_ward_code", "temporary_address_line"),
}


def now() -> datetime:
    return datetime.now(UTC)


# --- members and agreements ---------------------------------------------------------------

def register_member(session: Session, actor: Actor, code: str, name: str, kind: str,
                    jwks: dict[str, Any]) -> ExchangeMember:
    actor.require(Permission.EXCHANGE_MANAGE)
    code = code.strip().lower()
    if not code or len(code) > 40 or not all(c.isalnum() or c == "-" for c in code):
        raise Invalid("code", "a member code is up to 40 letters, digits and dashes")
    if kind not in MEMBER_KINDS:
        raise Invalid("kind", "a member is a ministry, a province or a system")
    assertions.check_public_jwks(jwks)
    if session.scalar(select(ExchangeMember.id).where(ExchangeMember.code == code)):
        raise Conflict("a member with this code exists")
    member = ExchangeMember(code=code, name=name.strip(), kind=kind, jwks=jwks,
                            status="active", created_at=now())
    session.add(member)
    session.flush()
    audit.record(session, actor, "exchange.member.register", subject_type="exchange_member",
                 subject_id=code, purpose="data exchange membership", detail={"kind": kind})
    return member


@dataclass(frozen=True)
class NewAgreement:
    consumer: str
    dataset: str
    fields: tuple[str, ...]
    purpose: str
    legal_basis: str
    valid_from: date
    valid_to: date


def add_agreement(session: Session, actor: Actor, new: NewAgreement) -> SharingAgreement:
    actor.require(Permission.EXCHANGE_MANAGE)
    consumer = _member(session, new.consumer)
    offered = DATASETS.get(new.dataset)
    if offered is None:
        raise Invalid("dataset", f"datasets shared: {', '.join(DATASETS)}")
    if not new.fields or set(new.fields) - set(offered):
        raise Invalid("fields", f"choose fields of {new.dataset}: {', '.join(offered)}")
    if len(new.purpose.strip()) < 5 or len(new.legal_basis.strip()) < 5:
        raise Invalid("purpose", "an agreement names its purpose and its legal basis")
    if new.valid_to < new.valid_from:
        raise Invalid("valid_to", "an agreement ends after it starts")
    agreement = SharingAgreement(
        consumer_id=consumer.id, dataset=new.dataset, fields=list(new.fields),
        purpose=new.purpose.strip(), legal_basis=new.legal_basis.strip(),
        valid_from=new.valid_from, valid_to=new.valid_to, created_at=now(),
        created_by=str(actor))
    session.add(agreement)
    session.flush()
    audit.record(session, actor, "exchange.agreement.add", subject_type="exchange_member",
                 subject_id=consumer.code, purpose=agreement.legal_basis,
                 detail={"agreement": agreement.id, "dataset": new.dataset,
                         "fields": list(new.fields)})
    return agreement


def _member(session: Session, code: str) -> ExchangeMember:
    member = session.scalar(select(ExchangeMember).where(ExchangeMember.code == code))
    if member is None:
        raise NotFound(f"no exchange member '{code}'")
    return member


# --- a member's request -------------------------------------------------------------------

def authenticate(session: Session, assertion: str, audience: str) -> ExchangeMember:
    """The member whose key signed this one-use assertion (RFC 7523, as private_key_jwt)."""
    try:
        member = session.scalar(select(ExchangeMember).where(
            ExchangeMember.code == assertions.claimed_issuer(assertion)))
        if member is None or member.status != "active":
            raise Unauthorized("unknown or suspended exchange member")
        claims = assertions.verified_claims(assertion, member.jwks, member.code, [audience],
                                            ASSERTION_LONGEST_LIFE, now())
    except assertions.AssertionRefused as refused:
        raise Unauthorized(str(refused)) from None
    _spend(session, member.code, str(claims["jti"]), assertions.expiry(claims))
    return member


def _spend(session: Session, member_code: str, jti: str, expires: datetime) -> None:
    if not assertions.spend_once(session, SpentMemberAssertion(
            member_code=member_code, jti=jti[:200], expires_at=expires), now()):
        raise Unauthorized("this assertion was already used")


@dataclass(frozen=True)
class Answer:
    """Either a signed answer (`token`) or a refusal with its reason and HTTP status."""

    seq: int
    token: str | None = None
    refusal: str | None = None
    status: int = 200


def answer(session: Session, signer: ECKey | RSAKey, member: ExchangeMember, dataset: str,
           personal_id_number: str, purpose: str) -> Answer:
    """Refusals are returned, not raised, so that they are logged with the transaction."""
    started = time.perf_counter()
    request = {"dataset": dataset, "personal_id_number": personal_id_number,
               "purpose": purpose}
    base = {"member": member.code, "dataset": dataset[:40],
            "subject_id": personal_id_number[:12], "purpose": purpose[:300],
            "request_digest": log.digest(_canonical(request))}
    agreement, why = _agreement_for(session, member, dataset, purpose)
    person = _person(session, member, personal_id_number, purpose) if agreement else None
    if agreement is None or person is None:
        reason = why or "no person with this ID number"
        message = log.append(
            session, **base, agreement_id=agreement.id if agreement else None,
            outcome="refused", reason=reason, response_digest="", latency_ms=_since(started))
        return Answer(message.seq, refusal=reason, status=403 if agreement is None else 404)
    data = {name: _value(person, name) for name in agreement.fields}
    token = _signed(signer, member, agreement, data, personal_id_number)
    message = log.append(session, **base, agreement_id=agreement.id, outcome="answered",
                         reason="", response_digest=log.digest(token.encode()),
                         latency_ms=_since(started))
    return Answer(message.seq, token=token)


def _agreement_for(session: Session, member: ExchangeMember, dataset: str,
                   purpose: str) -> tuple[SharingAgreement | None, str]:
    """The agreement that allows this read today, or None with the reason for refusing."""
    if dataset not in DATASETS:
        return None, f"the exchange shares no dataset '{dataset}'"
    agreements = list(session.scalars(select(SharingAgreement).where(
        SharingAgreement.consumer_id == member.id, SharingAgreement.dataset == dataset)))
    if not agreements:
        return None, f"no agreement lets {member.code} read {dataset}"
    today = now().date()
    current = [a for a in agreements if a.valid_from <= today <= a.valid_to]
    if not current:
        ended = max(a.valid_to for a in agreements)
        return None, f"the agreement for {dataset} is not in force (it ended on {ended})"
    for agreement in current:
        if " ".join(purpose.split()).casefold() == agreement.purpose.casefold():
            return agreement, ""
    return None, f"the agreement for {dataset} does not cover this purpose"


def _person(session: Session, member: ExchangeMember, personal_id_number: str,
            purpose: str) -> Person | None:
    try:  # an audited read: the citizen sees the member, the time and the purpose
        return registry.get_person(session, Actor("exchange", member.code),
                                   personal_id_number, purpose)
    except NotFound:
        return None


def _value(person: Person, name: str) -> Any:
    value = getattr(person, name)
    return value.isoformat() if isinstance(value, date) else value


def _signed(signer: ECKey | RSAKey, member: ExchangeMember, agreement: SharingAgreement,
            data: dict[str, Any], personal_id_number: str) -> str:
    payload = {"iss": "civicstack-exchange", "aud": member.code, "iat": int(time.time()),
               "agreement": agreement.id, "dataset": agreement.dataset,
               "personal_id_number": personal_id_number, "data": data}
    header = {"alg": "ES256", "typ": "exchange-answer+jwt", "kid": signer.kid}
    return jws.serialize_compact(header, _canonical(payload), signer)


def _canonical(value: dict[str, Any]) -> bytes:
    text: str = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()


def _since(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
