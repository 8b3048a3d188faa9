"""Liveness and readiness: /healthz says the process runs, /readyz that the database answers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from civicstack.kit.appservices import services_of
from civicstack.kit.errors import Problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    try:
        with services_of(request.app).engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        # Like every other error, a 503 leaves as a problem; only the error's class is named,
        # never its message (which can carry the database URL).
        return Problem(503, "Not ready", "the database does not answer", "not-ready",
                       request.url.path, {"database": type(exc).__name__}).response()
    return JSONResponse({"status": "ready", "database": "ok"})
