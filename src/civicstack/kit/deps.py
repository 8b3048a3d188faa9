"""FastAPI dependencies shared by every domain: a transactional session and the caller."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from civicstack.kit import apikeys
from civicstack.kit.audit import Actor
from civicstack.kit.errors import Unauthorized


def db_session(request: Request) -> Iterator[Session]:
    """The request owns the transaction: commit on success, roll back on any error."""
    factory = request.app.state.session_factory
    with factory() as session, session.begin():
        yield session


# "function" scope commits before the response leaves, so a failed commit is never a 200.
DbSession = Annotated[Session, Depends(db_session, scope="function")]


def operator(request: Request, session: DbSession) -> Actor:
    """The operator key's actor: its role and scope decide what it may do (kit/authz.py)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("send an operator API key as 'Authorization: Bearer <key>'")
    return apikeys.authenticate(session, request.app.state.pepper, token.strip())


Operator = Annotated[Actor, Depends(operator)]
