"""The exchange's HTTP surface for member systems: one endpoint per dataset, the platform's
exchange keys (to check answers), and nothing else.

A member authenticates each request with a one-use signed assertion in the Authorization
header (`Bearer <JWT>`, iss = sub = its code, aud = this endpoint's URL, at most 5 minutes,
a fresh jti). The answer is a compact JWS (`application/jwt`) holding exactly the fields its
agreement grants; a refusal is an RFC 9457 problem, and both are in the message log.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from civicstack.exchange import service
from civicstack.kit.deps import DbSession
from civicstack.kit.errors import Problem, Unauthorized
from civicstack.kit.keys import KeyRing

router = APIRouter(prefix="/exchange", tags=["exchange"])
public = APIRouter(tags=["exchange"])
SIGNING_ALGORITHM = "ES256"


class ExchangeRequest(BaseModel):
    personal_id_number: str = Field(min_length=12, max_length=12, pattern=r"^\d{12}$")
    purpose: str = Field(min_length=5, max_length=300)


def keys_of(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.exchange_keys
    return ring


@public.get("/exchange/jwks.json")
def exchange_jwks(request: Request) -> JSONResponse:
    """The keys that sign exchange answers (retired ones included while answers may be
    checked)."""
    return JSONResponse(keys_of(request).public_jwks(),
                        headers={"Cache-Control": "public, max-age=300"})


@router.post("/{dataset}", response_class=Response,
             responses={200: {"content": {"application/jwt": {}}}})
def read_dataset(dataset: str, body: ExchangeRequest, request: Request,
                 session: DbSession) -> Response:
    scheme, _, assertion = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not assertion:
        raise Unauthorized("send a signed member assertion as 'Authorization: Bearer <JWT>'")
    member = service.authenticate(session, assertion.strip(), str(request.url))
    found = service.answer(session, keys_of(request).signing_key(SIGNING_ALGORITHM), member,
                           dataset, body.personal_id_number, body.purpose)
    headers = {"Exchange-Message": str(found.seq)}
    if found.token is None:  # returned, not raised: the refusal's log entry must commit
        return Problem(found.status, "Refused by the data exchange", found.refusal or "",
                       "exchange-refused", request.url.path, headers=headers).response()
    return Response(found.token, media_type="application/jwt", headers=headers)
