"""The wallet's public and agency-facing HTTP surface: issuer keys and metadata, status lists,
the trust bundle for offline verifiers, agencies pushing documents and changing their status,
and the monthly list of integrated documents (JSON and CSV)."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from civicstack.kit.deps import DbSession, Operator, RowKey
from civicstack.wallet import service
from civicstack.wallet.schemas import (
    CredentialIssued,
    CredentialPush,
    IntegratedDocumentOut,
    StatusChange,
    StatusOut,
)
from civicstack.wallet.site import STATUS_LIST_TTL_S, site_of

public = APIRouter(tags=["wallet"])
router = APIRouter(prefix="/wallet", tags=["wallet"])
STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"



@public.get("/wallet/issuers/{slug}/jwks.json")
def issuer_jwks(slug: str, request: Request, session: DbSession) -> JSONResponse:
    """The issuer's public signing keys, including retired ones still verifying documents."""
    service.issuer(session, slug)
    return JSONResponse(site_of(request).jwks(slug),
                        headers={"Cache-Control": f"public, max-age={STATUS_LIST_TTL_S}"})


@public.get("/.well-known/jwt-vc-issuer/wallet/issuers/{slug}")
def jwt_vc_issuer_metadata(slug: str, request: Request, session: DbSession) -> dict[str, Any]:
    """SD-JWT VC issuer metadata: how a verifier finds the keys for `iss`."""
    found = service.issuer(session, slug)
    site = site_of(request)
    return {"issuer": site.issuer_url(slug), "jwks": site.jwks(slug),
            "display": [{"locale": "vi", "name": found.name},
                        {"locale": "en", "name": found.name_en}]}


@public.get("/wallet/issuers/{slug}/status/{number}")
def status_list(slug: str, number: RowKey, request: Request, session: DbSession) -> Response:
    """The Token Status List as a signed JWT; cacheable for its `ttl`, with an ETag so a
    verifier's refresh costs a 304 when nothing changed."""
    signed = service.status_list_token(session, site_of(request), slug, number)
    etag = '"' + hashlib.sha256(signed.token.encode()).hexdigest()[:32] + '"'
    headers = {"Cache-Control": f"public, max-age={STATUS_LIST_TTL_S}", "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(signed.token, media_type=STATUS_LIST_MEDIA_TYPE, headers=headers)


@router.get("/trust-bundle")
def trust_bundle(request: Request, session: DbSession) -> dict[str, Any]:
    """Every issuer's keys and status lists in one document, for verifiers that work offline
    (`civicstack wallet verify --bundle`); refresh it at least daily."""
    return service.trust_bundle(session, site_of(request))


@router.post("/issuers/{slug}/credentials", status_code=201, response_model=CredentialIssued)
def push_credential(slug: str, push: CredentialPush, request: Request, session: DbSession,
                    principal: Operator) -> CredentialIssued:
    """An issuing agency's system puts a document into a citizen's (or organisation's) wallet.
    The operator key needs the `wallet:issue` permission and a grant for this issuer
    (`civicstack wallet grant`); claims are checked against the document type's schema and the
    person against the population register."""
    issued = service.push_credential(session, site_of(request), principal, slug,
                                     push.document_type, push.subject_id, push.claims)
    credential = issued.credential
    return CredentialIssued(id=credential.public_id, document_type=push.document_type,
                            subject_id=credential.subject_id, status=credential.status,
                            issued_at=credential.issued_at.astimezone(UTC),
                            expires_at=credential.expires_at.astimezone(UTC))


@router.post("/credentials/{public_id}/status", response_model=StatusOut)
def change_status(public_id: str, change: StatusChange, session: DbSession,
                  principal: Operator) -> StatusOut:
    """Revoke, suspend or reinstate a document (`wallet:status`, and a grant for the document's
    issuer: `civicstack wallet grant`); the issuer's status list changes at once, so verifiers
    see it at their next refresh."""
    credential = service.change_status(session, principal, public_id, change.status,
                                       change.reason)
    return StatusOut(id=credential.public_id, status=credential.status,
                     reason=credential.status_reason)


def _integrated(session: DbSession) -> list[IntegratedDocumentOut]:
    return [IntegratedDocumentOut(
        month=row.month, agency=row.issuer.name, agency_en=row.issuer.name_en,
        document_type=row.document.code, name=row.document.name, name_en=row.document.name_en,
        kind=row.document.subject_kind, issued=row.issued)
        for row in service.integrated_documents(session)]


@router.get("/integrated-documents", response_model=list[IntegratedDocumentOut])
def integrated_documents(session: DbSession) -> list[IntegratedDocumentOut]:
    """The monthly list of documents integrated into the wallet, per agency."""
    return _integrated(session)


@router.get("/integrated-documents.csv", response_class=Response)
def integrated_documents_csv(session: DbSession) -> Response:
    """The same list as CSV (UTF-8 with a BOM, so spreadsheet programs read the accents)."""
    rows = _integrated(session)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(IntegratedDocumentOut.model_fields))
    writer.writerows([list(row.model_dump().values()) for row in rows])
    return Response("\ufeff" + buffer.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition":
                             'attachment; filename="integrated-documents.csv"'})
