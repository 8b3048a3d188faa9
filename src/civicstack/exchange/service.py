"""Members, agreements and requests for them, and answering a member within an agreement.

An answer carries exactly the agreement's fields of the dataset, signed by the platform's
exchange key; a request outside every agreement is refused with the reason. Both are chained
in the message log, and every answer is also an audited read of the person (the citizen sees
who read their data, when and why). A provider refusing to share must say why; the consumer
is shown the justification.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from joserfc import jws
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy.orm import Session

from civicstack.exchange import datasets, log, repository
from civicstack.exchange.datasets import Dataset
from civicstack.exchange.models import (
    AgreementRequest,
    ExchangeMember,
    SharingAgreement,
    SpentMemberAssertion,
)
from civicstack.kit import assertions, audit
from civicstack.kit.audit import Actor
from civicstack.kit.authz import Permission
from civicstack.kit.db import as_utc
from civicstack.kit.errors import (
    Conflict,
    DomainError,
    FieldError,
    Invalid,
    NotFound,
    Unauthorized,
)
from civicstack.kit.keys import KeyRing
from civicstack.kit.metrics import EXCHANGE_REFUSALS
from civicstack.kit.secrets import SecretStore
from civicstack.kit.tlog import log as tlog
from civicstack.kit.tlog.log import LogReport
from civicstack.kit.transparency import LogPublishing
from civicstack.wallet import service as wallet
from civicstack.wallet.site import WalletSite

ASSERTION_LONGEST_LIFE = timedelta(minutes=5)
KEY_RING = "exchange"
MEMBER_KINDS = ("ministry", "province", "system")
SHORTEST_JUSTIFICATION = 10


def key_ring(secrets: SecretStore) -> KeyRing:
    """The exchange's answer-signing keys, apart from the OpenID provider's."""
    return KeyRing(secrets, KEY_RING, (SIGNING_ALGORITHM,))


def now() -> datetime:
    return datetime.now(UTC)


# --- members --------------------------------------------------------------------------------

def register_member(session: Session, actor: Actor, code: str, name: str, kind: str,
                    jwks: dict[str, Any]) -> ExchangeMember:
    actor.require(Permission.EXCHANGE_MANAGE)
    code = code.strip().lower()
    if not code or len(code) > 40 or not all(c.isalnum() or c == "-" for c in code):
        raise Invalid("code", "a member code is up to 40 letters, digits and dashes")
    if kind not in MEMBER_KINDS:
        raise Invalid("kind", "a member is a ministry, a province or a system")
    if len(name.strip()) < 3:
        raise Invalid("name", "give the member's name")
    assertions.check_public_jwks(jwks)
    if repository.member_by_code(session, code):
        raise Conflict("a member with this code exists")
    member = ExchangeMember(code=code, name=name.strip(), kind=kind, jwks=jwks,
                            status="active", created_at=now())
    session.add(member)
    session.flush()
    audit.record(session, actor, "exchange.member.register", subject_type="exchange_member",
                 subject_id=code, purpose="data exchange membership", detail={"kind": kind})
    return member


def suspend_member(session: Session, actor: Actor, code: str) -> ExchangeMember:
    """A suspended member's assertions are refused, and nobody reads its datasets."""
    actor.require(Permission.EXCHANGE_MANAGE)
    member = member_named(session, code)
    if member.status == "suspended":
        raise Conflict("this member is already suspended")
    member.status = "suspended"
    audit.record(session, actor, "exchange.member.suspend", subject_type="exchange_member",
                 subject_id=code, purpose="data exchange membership")
    return member


def members(session: Session, actor: Actor) -> list[ExchangeMember]:
    actor.require(Permission.EXCHANGE_MANAGE)
    return repository.members(session)


def member_named(session: Session, code: str) -> ExchangeMember:
    member = repository.member_by_code(session, code)
    if member is None:
        raise NotFound(f"no exchange member '{code}'")
    return member


# --- agreements and requests for them ----------------------------------------------------

@dataclass(frozen=True)
class NewAgreement:
    """What a consumer may read: the provider is the dataset's."""

    consumer: str
    dataset: str
    fields: tuple[str, ...]
    purpose: str
    legal_basis: str
    valid_from: date
    valid_to: date


@dataclass(frozen=True)
class _Parties:
    consumer: ExchangeMember
    provider: ExchangeMember


def _checked(session: Session, new: NewAgreement) -> _Parties:
    consumer = member_named(session, new.consumer)
    dataset = datasets.find(session, new.dataset)
    if dataset is None:
        raise Invalid("dataset", f"datasets shared: {', '.join(datasets.all_codes(session))}")
    if not new.fields or set(new.fields) - set(dataset.fields):
        raise Invalid("fields", f"choose fields of {new.dataset}: {', '.join(dataset.fields)}")
    if len(new.purpose.strip()) < 5 or len(new.legal_basis.strip()) < 5:
        raise Invalid("purpose", "an agreement names its purpose and its legal basis")
    if new.valid_to < new.valid_from:
        raise Invalid("valid_to", "an agreement ends after it starts")
    return _Parties(consumer, member_named(session, dataset.provider))


def _terms(new: NewAgreement, parties: _Parties) -> dict[str, Any]:
    return {"consumer_id": parties.consumer.id, "provider_id": parties.provider.id,
            "dataset": new.dataset, "fields": list(new.fields),
            "purpose": " ".join(new.purpose.split()), "legal_basis": new.legal_basis.strip(),
            "valid_from": new.valid_from, "valid_to": new.valid_to}


def add_agreement(session: Session, actor: Actor, new: NewAgreement) -> SharingAgreement:
    actor.require(Permission.EXCHANGE_MANAGE)
    return _agreement(session, actor, new, _checked(session, new))


def _agreement(session: Session, actor: Actor, new: NewAgreement,
               parties: _Parties) -> SharingAgreement:
    agreement = SharingAgreement(**_terms(new, parties), created_at=now(),
                                 created_by=str(actor))
    session.add(agreement)
    session.flush()
    audit.record(session, actor, "exchange.agreement.add", subject_type="exchange_member",
                 subject_id=parties.consumer.code, purpose=agreement.legal_basis,
                 detail={"agreement": agreement.id, "dataset": new.dataset,
                         "provider": parties.provider.code, "fields": list(new.fields)})
    return agreement


def request_agreement(session: Session, actor: Actor, new: NewAgreement) -> AgreementRequest:
    """A consumer (or an admin for it) asks the dataset's provider for an agreement."""
    parties = _checked(session, new)
    datasets.require_acting_for(actor, parties.consumer)
    request = AgreementRequest(**_terms(new, parties), status="pending", justification="",
                               requested_at=now(), requested_by=str(actor), decided_by="")
    session.add(request)
    session.flush()
    audit.record(session, actor, "exchange.agreement.request", subject_type="exchange_member",
                 subject_id=parties.consumer.code, purpose=request.purpose,
                 detail={"request": request.id, "dataset": new.dataset,
                         "provider": parties.provider.code})
    return request


def decide_request(session: Session, actor: Actor, request_id: int, grant: bool,
                   justification: str) -> AgreementRequest:
    """The provider (or an admin for it) grants the request, which becomes an agreement, or
    refuses it; a refusal must carry its justification, recorded and shown to the consumer."""
    request = session.get(AgreementRequest, request_id)
    if request is None:
        raise NotFound(f"no agreement request {request_id}")
    provider = session.get(ExchangeMember, request.provider_id)
    consumer = session.get(ExchangeMember, request.consumer_id)
    assert provider is not None  # a foreign key
    assert consumer is not None
    datasets.require_acting_for(actor, provider)
    if request.status != "pending":
        raise Conflict(f"this request was already {request.status}")
    justification = " ".join(justification.split())
    if not grant and len(justification) < SHORTEST_JUSTIFICATION:
        raise Invalid("justification", "a refusal to share must say why (at least 10 "
                                       "characters)")
    if grant:
        request.agreement_id = _agreement(session, actor, NewAgreement(
            consumer.code, request.dataset, tuple(request.fields), request.purpose,
            request.legal_basis, request.valid_from, request.valid_to),
            _Parties(consumer, provider)).id
    request.status = "granted" if grant else "refused"
    request.justification, request.decided_at, request.decided_by = \
        justification, now(), str(actor)
    audit.record(session, actor, f"exchange.agreement.{'grant' if grant else 'refuse'}",
                 subject_type="exchange_member", subject_id=consumer.code,
                 purpose=request.purpose, detail={"request": request.id,
                                                  "justification": justification})
    return request


def requests_of(session: Session, actor: Actor, member_code: str) -> list[AgreementRequest]:
    """A member's requests, as consumer and as provider, with their decisions."""
    member = member_named(session, member_code)
    datasets.require_acting_for(actor, member)
    return repository.agreement_requests(session, member.id)


@dataclass(frozen=True)
class AgreementsView:
    agreements: list[SharingAgreement]
    requests: list[AgreementRequest]
    member_codes: dict[int, str]


def agreements_view(session: Session, actor: Actor) -> AgreementsView:
    actor.require(Permission.EXCHANGE_MANAGE)
    return AgreementsView(repository.agreements(session),
                          repository.agreement_requests(session),
                          {m.id: m.code for m in repository.members(session)})


# --- a member's request -------------------------------------------------------------------

def authenticate(session: Session, assertion: str, audience: str) -> ExchangeMember:
    """The member whose key signed this one-use assertion (RFC 7523, as private_key_jwt)."""
    try:
        member = repository.member_by_code(session, assertions.claimed_issuer(assertion))
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
    errors: tuple[FieldError, ...] = ()  # of a refused document's claims


@dataclass(frozen=True)
class _Asked:
    """One request as the log records it, and when its handling started."""

    member: ExchangeMember
    dataset: str
    personal_id_number: str
    purpose: str
    request: dict[str, Any]
    started: float

    def log(self, session: Session, agreement: SharingAgreement | None, reason: str,
            response: str) -> int:
        return log.append(
            session, member=self.member.code, dataset=self.dataset[:40],
            subject_id=self.personal_id_number[:12], purpose=self.purpose[:300],
            request_digest=log.digest(_canonical(self.request)),
            agreement_id=agreement.id if agreement else None,
            outcome="refused" if reason else "answered", reason=reason[:300],
            response_digest=log.digest(response.encode()) if response else "",
            latency_ms=int((time.perf_counter() - self.started) * 1000)).seq

    def refused(self, session: Session, agreement: SharingAgreement | None, reason: str,
                status: int, errors: tuple[FieldError, ...] = ()) -> Answer:
        # Outside every agreement is what security watches; a miss within one is not.
        EXCHANGE_REFUSALS.labels("agreement" if agreement is None else "answer").inc()
        return Answer(self.log(session, agreement, reason, ""), refusal=reason, status=status,
                      errors=errors)

    def answered(self, session: Session, signer: ECKey | RSAKey, agreement: SharingAgreement,
                 data: dict[str, Any]) -> Answer:
        payload = {"iss": "civicstack-exchange", "aud": self.member.code,
                   "iat": int(time.time()), "agreement": agreement.id,
                   "dataset": agreement.dataset, "personal_id_number": self.personal_id_number,
                   "data": data}
        header = {"alg": "ES256", "typ": "exchange-answer+jwt", "kid": signer.kid}
        token = jws.serialize_compact(header, _canonical(payload), signer)
        return Answer(self.log(session, agreement, "", token), token=token)


SIGNING_ALGORITHM = "ES256"
AUTHENTICATION_REFUSALS = "exchange.authentication_refused"  # the tally (kit/tally) of the API


@dataclass(frozen=True)
class Refusal:
    """A refused request as the security view shows it: no subject, so no person's data."""

    occurred_at: datetime
    member: str
    dataset: str
    reason: str


def refusal_count(session: Session, since: datetime) -> int:
    """Requests refused since `since` because no agreement in force covered them."""
    return repository.refused_count(session, since)


def latest_refusals(session: Session, since: datetime, limit: int) -> list[Refusal]:
    return [Refusal(as_utc(m.occurred_at), m.member, m.dataset, m.reason)
            for m in repository.latest_refused(session, since, limit)]


MESSAGE_LOG = log.MESSAGE_LOG


def verify_log(session: Session, publishing: LogPublishing) -> LogReport:
    """The messages sealed since the last check against the witnessed checkpoint."""
    return tlog.verify(session, MESSAGE_LOG, publishing.witness, publishing.verifier)


def _asked(member: ExchangeMember, dataset: str, personal_id_number: str, purpose: str,
           **extra: Any) -> _Asked:
    return _Asked(member, dataset, personal_id_number, purpose,
                  {"dataset": dataset, "personal_id_number": personal_id_number,
                   "purpose": purpose, **extra}, time.perf_counter())


def answer(session: Session, signer: ECKey | RSAKey, member: ExchangeMember, dataset: str,
           personal_id_number: str, purpose: str) -> Answer:
    """Refusals are returned, not raised, so that they are logged with the transaction."""
    asked = _asked(member, dataset, personal_id_number, purpose)
    if dataset == datasets.WALLET_PUSH:
        return asked.refused(session, None, "wallet_push is an operation: post documents to "
                                            "/api/v1/exchange/wallet/push", 403)
    found = datasets.find(session, dataset)
    agreement, why = _agreement_for(session, member, found, dataset, purpose)
    if agreement is None or found is None:
        return asked.refused(session, None, why, 403)
    records = datasets.records_of(session, Actor("exchange", member.code), found,
                                  personal_id_number, purpose)
    if not records:
        return asked.refused(session, agreement,
                             f"{dataset} holds nothing about this person", 404)
    return asked.answered(session, signer, agreement, _shaped(found, agreement, records))


def _shaped(dataset: Dataset, agreement: SharingAgreement,
            records: list[dict[str, Any]]) -> dict[str, Any]:
    """Exactly the agreement's fields: of the one record, or of each record in a list."""
    kept = [{name: record.get(name) for name in agreement.fields} for record in records]
    return {"records": kept} if dataset.many else kept[0]


def _agreement_for(session: Session, member: ExchangeMember, dataset: Dataset | None,
                   code: str, purpose: str) -> tuple[SharingAgreement | None, str]:
    """The agreement that allows this request today, or None with the reason for refusing."""
    if dataset is None:
        return None, f"the exchange shares no dataset '{code}'"
    agreements = repository.agreements_for(session, member.id, code)
    if not agreements:
        return None, f"no agreement lets {member.code} read {code}"
    provider = repository.member_by_code(session, dataset.provider)
    if provider is None or provider.status != "active":
        return None, f"the provider of {code} is suspended from the exchange"
    today = now().date()
    current = [a for a in agreements if a.valid_from <= today <= a.valid_to]
    if not current:
        ended = max(a.valid_to for a in agreements)
        return None, f"the agreement for {code} is not in force (it ended on {ended})"
    for agreement in current:
        if " ".join(purpose.split()).casefold() == agreement.purpose.casefold():
            return agreement, ""
    return None, f"the agreement for {code} does not cover this purpose"


# --- a procedure system pushing a result into a citizen's wallet ------------------------------

@dataclass(frozen=True)
class Push:
    personal_id_number: str
    purpose: str
    document_type: str
    claims: dict[str, Any]


def push_document(session: Session, site: WalletSite, signer: ECKey | RSAKey,
                  member: ExchangeMember, push: Push) -> Answer:
    """A connected procedure system's dossier result, issued into the citizen's wallet in the
    document's agency's name, when an agreement for wallet_push names its document type. The
    answer is a signed receipt; both are logged like reads."""
    asked = _asked(member, datasets.WALLET_PUSH, push.personal_id_number, push.purpose,
                   document_type=push.document_type, claims=push.claims)
    agreement, why = _agreement_for(session, member, datasets.find(session, datasets.WALLET_PUSH),
                                    datasets.WALLET_PUSH, push.purpose)
    if agreement is None:
        return asked.refused(session, None, why, 403)
    if push.document_type not in agreement.fields:
        return asked.refused(session, None, f"the agreement for wallet_push does not cover "
                                            f"'{push.document_type}'", 403)
    try:
        with session.begin_nested():  # a refused document leaves nothing of itself behind
            issued = wallet.issue_credential(session, site, Actor("exchange", member.code),
                                             push.document_type, push.personal_id_number,
                                             push.claims)
    except DomainError as refused:
        return asked.refused(session, agreement, refused.detail, refused.status,
                             tuple(refused.errors))
    return asked.answered(session, signer, agreement, {
        "credential": issued.credential.public_id, "document_type": push.document_type})


def _canonical(value: dict[str, Any]) -> bytes:
    text: str = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode()
