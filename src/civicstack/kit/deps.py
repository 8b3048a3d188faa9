"""FastAPI dependencies shared by every domain: a transactional session, the operator key's
caller, and the CSRF check every unsafe browser request passes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit import apikeys, csrf
from civicstack.kit.appservices import services_of
from civicstack.kit.audit import Actor
from civicstack.kit.errors import Forbidden, Unauthorized
from civicstack.kit.threads import on_worker_thread

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@asynccontextmanager
async def _request_transaction(factory: sessionmaker[Session]) -> AsyncIterator[Session]:
    """A transaction begun on the event loop, since a session connects only at its first
    statement, and ended on a worker thread: as a sync dependency, its start would cross
    threads too, and every page already crosses for its handler and its caller."""
    session = factory()
    session.begin()
    try:
        yield session
    except BaseException:
        await on_worker_thread(lambda: _end(session, commit=False))
        raise
    await on_worker_thread(lambda: _end(session, commit=True))


def _end(session: Session, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def db_session(request: Request) -> AsyncIterator[Session]:
    """The request owns the transaction: commit on success, roll back on any error."""
    async with _request_transaction(services_of(request.app).session_factory) as session:
        yield session


# "function" scope commits before the response leaves, so a failed commit is never a 200.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


async def read_only_db_session(request: Request) -> AsyncIterator[Session]:
    """A read-only transaction for pages that may show data a few seconds old: on the read
    replica when one is set, else on the primary. Writes, and reads that are audited, take a
    DbSession instead."""
    async with _request_transaction(services_of(request.app).read_session_factory) as session:
        yield session


ReadOnlyDb = Annotated[Session, Depends(read_only_db_session)]

# The largest key of an INTEGER column (PostgreSQL's, 32 bits). A larger number in a path names
# no record, and sent to the database it is an error (SQLite cannot bind past 64 bits), not a
# miss: refused as invalid before any query.
LARGEST_KEY = 2**31 - 1
RowKey = Annotated[int, Path(ge=0, le=LARGEST_KEY)]


# Read by the dependency below (which refuses in our problem shape, not FastAPI's), and named
# in the OpenAPI document as the `operatorKey` scheme.
OPERATOR_KEY = HTTPBearer(
    scheme_name="operatorKey", bearerFormat=f"{apikeys.KEY_PREFIX}_<lookup id>_<secret>",
    auto_error=False,
    description="An operator or agency API key, made with `civicstack apikey create`; its "
                "role and scope decide what it may do.")


def operator(request: Request, session: DbSession,
             credentials: Annotated[HTTPAuthorizationCredentials | None,
                                    Security(OPERATOR_KEY)]) -> Actor:
    """The operator key's actor: its role and scope decide what it may do (kit/authz.py)."""
    token = credentials.credentials if credentials else ""
    if not token:
        raise Unauthorized("send an operator API key as 'Authorization: Bearer <key>'")
    return apikeys.authenticate(session, services_of(request.app).pepper, token)


Operator = Annotated[Actor, Depends(operator)]


async def check_csrf(request: Request) -> None:
    """An unsafe request from a browser must carry its page's token (a form field, or a header
    for scripts): another site can make the browser send its cookies, not the token."""
    if request.method in SAFE_METHODS:
        return
    submitted = request.headers.get(csrf.HEADER)
    if submitted is None and request.headers.get("content-type", "").startswith(FORM_TYPES):
        value = (await request.form()).get(csrf.FIELD)  # parsed once, kept for the handler
        submitted = value if isinstance(value, str) else None
    if not submitted or not csrf.accepts(request, submitted):
        raise Forbidden("the form expired or did not come from this site; reload and retry")


Csrf = Annotated[None, Depends(check_csrf)]


def html_router() -> APIRouter:
    """A router of browser pages: out of the API's schema, every unsafe request CSRF-checked."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(check_csrf)])
