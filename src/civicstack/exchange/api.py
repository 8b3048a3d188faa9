"""The exchange's HTTP surface for member systems: reading a dataset, pushing a dossier result
into a citizen's wallet, asking for agreements and deciding them, publishing datasets and
their records, the quality report of a published dataset, and the platform's exchange keys.

A member authenticates each request with a one-use signed assertion in the Authorization
header (`Bearer <JWT>`, iss = sub = its code, aud = this endpoint's URL, at most 5 minutes,
a fresh jti). An answer is a compact JWS (`application/jwt`) holding exactly the fields its
agreement grants; a refusal is an RFC 9457 problem, and both are in the message log.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request, Security
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from civicstack.exchange import datasets, quality, service
from civicstack.exchange.models import AgreementRequest, ExchangeMember
from civicstack.exchange.site import EXCHANGE_KEYS
from civicstack.kit.apisecurity import bearer_checked_by_handler
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.deps import DbSession, RowKey
from civicstack.kit.errors import Problem, Unauthorized
from civicstack.kit.keys import KeyRing
from civicstack.kit.metrics import EXCHANGE_REFUSALS
from civicstack.kit.tally import tally_of
from civicstack.kit.web import csv_download
from civicstack.wallet.site import site_of

# Declared for the OpenAPI document; `calling_member` checks it in each handler, where a
# forged assertion is counted before it is refused.
MEMBER_ASSERTION = bearer_checked_by_handler(
    "memberAssertion", "JWT",
    "A one-use assertion signed by the member system: iss = sub = its code, aud = this "
    "endpoint's URL, at most 5 minutes, a fresh jti.")
router = APIRouter(prefix="/exchange", tags=["exchange"],
                   dependencies=[Security(MEMBER_ASSERTION)])
public = APIRouter(tags=["exchange"])
PID = Field(min_length=12, max_length=12, pattern=r"^\d{12}$")


class ExchangeRequest(BaseModel):
    personal_id_number: str = PID
    purpose: str = Field(min_length=5, max_length=300)


class PushRequest(ExchangeRequest):
    document_type: str = Field(min_length=1, max_length=40)
    claims: dict[str, Any]


class AgreementAsked(BaseModel):
    dataset: str = Field(max_length=40)
    fields: list[str] = Field(max_length=40)
    purpose: str = Field(max_length=300)
    legal_basis: str = Field(max_length=300)
    valid_from: date
    valid_to: date


class Decision(BaseModel):
    grant: bool
    justification: str = Field(default="", max_length=2000)


class RequestOut(BaseModel):
    id: int
    dataset: str
    fields: list[str]
    purpose: str
    status: str
    justification: str
    agreement_id: int | None

    @classmethod
    def of(cls, request: AgreementRequest) -> RequestOut:
        return cls(id=request.id, dataset=request.dataset, fields=request.fields,
                   purpose=request.purpose, status=request.status,
                   justification=request.justification, agreement_id=request.agreement_id)


class DatasetDeclared(BaseModel):
    title: str = Field(max_length=200)
    fields: list[str] = Field(max_length=40)
    required: list[str] = Field(default_factory=list, max_length=40)


def keys_of(request: Request) -> KeyRing:
    ring: KeyRing = services_of(request.app)[EXCHANGE_KEYS]
    return ring


def calling_member(request: Request, session: Session) -> ExchangeMember:
    scheme, _, assertion = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not assertion:
        raise Unauthorized("send a signed member assertion as 'Authorization: Bearer <JWT>'")
    try:
        return service.authenticate(session, assertion.strip(), str(request.url))
    except Unauthorized:
        # Not in the message log: a forged assertion names no member it may be charged to.
        tally_of(services_of(request.app).tallies, service.AUTHENTICATION_REFUSALS).add()
        EXCHANGE_REFUSALS.labels("authentication").inc()
        raise


def acting(member: ExchangeMember) -> Actor:
    return Actor("exchange", member.code)


def answered(request: Request, found: service.Answer) -> Response:
    headers = {"Exchange-Message": str(found.seq)}
    if found.token is None:  # returned, not raised: the refusal's log entry must commit
        extras = {"errors": [e.as_dict() for e in found.errors]} if found.errors else {}
        return Problem(found.status, "Refused by the data exchange", found.refusal or "",
                       "exchange-refused", request.url.path, extras, headers).response()
    return Response(found.token, media_type="application/jwt", headers=headers)


@public.get("/exchange/jwks.json")
def exchange_jwks(request: Request) -> JSONResponse:
    """The keys that sign exchange answers (retired ones included while answers may be
    checked)."""
    return JSONResponse(keys_of(request).public_jwks(),
                        headers={"Cache-Control": "public, max-age=300"})


# Routes with fixed paths come before /{dataset}, which would otherwise take them.

@router.post("/wallet/push", response_class=Response,
             responses={200: {"content": {"application/jwt": {}}}})
def push_to_wallet(body: PushRequest, request: Request, session: DbSession) -> Response:
    """A procedure system's dossier result into the citizen's wallet; a signed receipt."""
    member = calling_member(request, session)
    return answered(request, service.push_document(
        session, site_of(request), keys_of(request).signing_key(service.SIGNING_ALGORITHM), member,
        service.Push(body.personal_id_number, body.purpose, body.document_type, body.claims)))


@router.post("/agreement-requests", status_code=201)
def ask_for_agreement(body: AgreementAsked, request: Request, session: DbSession) -> RequestOut:
    member = calling_member(request, session)
    return RequestOut.of(service.request_agreement(session, acting(member), service.NewAgreement(
        member.code, body.dataset, tuple(body.fields), body.purpose, body.legal_basis,
        body.valid_from, body.valid_to)))


@router.get("/agreement-requests")
def my_agreement_requests(request: Request, session: DbSession) -> list[RequestOut]:
    """The caller's requests, as consumer and as provider, with decisions and justifications."""
    member = calling_member(request, session)
    return [RequestOut.of(r) for r in service.requests_of(session, acting(member), member.code)]


@router.post("/agreement-requests/{request_id}/decision")
def decide(request_id: RowKey, body: Decision, request: Request, session: DbSession) -> RequestOut:
    member = calling_member(request, session)
    return RequestOut.of(service.decide_request(session, acting(member), request_id, body.grant,
                                                body.justification))


@router.put("/datasets/{code}", status_code=201)
def publish_dataset(code: str, body: DatasetDeclared, request: Request,
                    session: DbSession) -> dict[str, Any]:
    member = calling_member(request, session)
    published = datasets.publish(session, acting(member), datasets.NewDataset(
        member.code, code, body.title, tuple(body.fields), tuple(body.required)))
    return {"code": published.code, "fields": published.fields, "required": published.required}


@router.put("/datasets/{code}/records")
async def upload_records(code: str, request: Request, session: DbSession) -> dict[str, int]:
    """The dataset's full set of records, replacing the last: `text/csv` with a header row, or
    JSON `{"records": [{...}, ...]}`."""
    member = calling_member(request, session)
    return {"records": datasets.upload(session, acting(member), member.code, code,
                                       await _rows(request))}


async def _rows(request: Request) -> list[dict[str, Any]]:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("text/csv"):
        return datasets.rows_from_csv(body.decode("utf-8", errors="replace"))
    return datasets.rows_from_json(body)


@router.get("/datasets/{code}/quality.csv", response_class=Response)
def quality_csv(code: str, request: Request, session: DbSession) -> Response:
    """The newest quality report's mismatching records, for the provider to clean up."""
    member = calling_member(request, session)
    view = quality.latest_report(session, acting(member), code)
    return csv_download(quality.issue_rows(view), f"{code}-quality-{view.report.id}.csv")


@router.post("/{dataset}", response_class=Response,
             responses={200: {"content": {"application/jwt": {}}}})
def read_dataset(dataset: str, body: ExchangeRequest, request: Request,
                 session: DbSession) -> Response:
    member = calling_member(request, session)
    return answered(request, service.answer(
        session, keys_of(request).signing_key(service.SIGNING_ALGORITHM), member, dataset,
        body.personal_id_number, body.purpose))
