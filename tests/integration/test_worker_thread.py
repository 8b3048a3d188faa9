"""kit/threads.py: the one thread hop the hot paths (authorization, sign-in, the browser
session) take for their blocking work, and the transaction it carries; and the hops of an
ordinary page."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.threads import in_one_transaction, on_worker_thread
from civicstack.kit.websession import WebSession
from civicstack.registry.models import Person
from tests.integration.test_identity_web import approved_and_signed_in
from tests.support.web import Site

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


def test_a_portal_page_crosses_threads_only_for_blocking_work(
        site: Site, an: Person, monkeypatch: pytest.MonkeyPatch) -> None:
    """A signed-in citizen's page crosses to a worker thread four times: to read the browser
    session, to find the signed-in citizen, for the handler, and to commit (and a fifth to
    store the browser session, when the page changed it). The database
    session begins on the event loop (it connects at its first statement) and the app's
    services are an attribute's read: as sync dependencies, each crossed threads of its own."""
    crossings: list[object] = []
    anyio_hop, executor_hop = anyio.to_thread.run_sync, asyncio.BaseEventLoop.run_in_executor

    async def counted_anyio_hop(work: Callable[..., Any], *args: Any, **options: Any) -> Any:
        crossings.append(work)
        return await anyio_hop(work, *args, **options)

    def counted_executor_hop(loop: asyncio.BaseEventLoop, *args: Any) -> Any:
        crossings.append(args)
        return executor_hop(loop, *args)

    approved_and_signed_in(site, an)
    monkeypatch.setattr(anyio.to_thread, "run_sync", counted_anyio_hop)
    monkeypatch.setattr(asyncio.BaseEventLoop, "run_in_executor", counted_executor_hop)
    for page in ("/account", "/services", "/dossiers"):
        site.client.get(page)  # the first showing after sign-in may change the session
        crossings.clear()
        assert site.client.get(page, follow_redirects=False).status_code == 200
        assert len(crossings) == 4, page
