"""Blocking work (the database, password hashing) off the event loop, in one hop.

Starlette runs sync endpoints and sync dependencies on AnyIO's worker threads, one hop each:
a page with a database session, a signed-in citizen and the app's services as dependencies
crosses threads five times, and each AnyIO hop costs about 1 ms of CPU against about 0.3 ms for
asyncio's executor (docs/benchmarks.md). The hot paths (the token and authorization endpoints,
sign-in, the browser session) do all their blocking work in one executor hop instead.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")


async def on_worker_thread(work: Callable[[], T]) -> T:
    """`work()` on one of asyncio's executor threads, seeing this task's context variables
    (the request id bound for logging)."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(None, context.run, work)


async def in_one_transaction(factory: sessionmaker[Session],
                             work: Callable[[Session], T]) -> T:
    """`work(session)` in one transaction on one worker thread; it commits when `work`
    returns (before the response leaves) and rolls back when it raises."""
    def in_transaction() -> T:
        with factory() as session, session.begin():
            return work(session)

    return await on_worker_thread(in_transaction)
