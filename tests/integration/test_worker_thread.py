"""kit/threads.py: the one thread hop the hot paths (authorization, sign-in, the browser
session) take for their blocking work, and the transaction it carries."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.threads import in_one_transaction, on_worker_thread
from civicstack.kit.websession import WebSession

REQUEST_ID = contextvars.ContextVar("request_id", default="")


def _row(digest: str) -> WebSession:
    moment = datetime.now(UTC)
    return WebSession(id_digest=digest, data="{}", created_at=moment, last_seen_at=moment)


def _stored(factory: sessionmaker[Session]) -> list[str]:
    with factory() as session:
        return list(session.scalars(select(WebSession.id_digest)))


def test_work_runs_off_the_event_loop_with_the_callers_context() -> None:
    async def call() -> tuple[str, bool]:
        REQUEST_ID.set("req-7")
        loop_thread = threading.get_ident()
        return await on_worker_thread(
            lambda: (REQUEST_ID.get(), threading.get_ident() != loop_thread))

    assert asyncio.run(call()) == ("req-7", True)


def test_the_transaction_commits_when_the_work_returns(
        session_factory: sessionmaker[Session]) -> None:
    def work(session: Session) -> str:
        session.add(_row("kept"))
        return "done"

    assert asyncio.run(in_one_transaction(session_factory, work)) == "done"
    assert _stored(session_factory) == ["kept"]


def test_the_transaction_rolls_back_when_the_work_raises(
        session_factory: sessionmaker[Session]) -> None:
    def work(session: Session) -> None:
        session.add(_row("lost"))
        session.flush()
        raise LookupError("refused after writing")

    with pytest.raises(LookupError):
        asyncio.run(in_one_transaction(session_factory, work))
    assert _stored(session_factory) == []
