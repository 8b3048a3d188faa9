"""The app's background jobs, run in its lifespan beside the requests, never inside one. Each
domain adds its own at install time (kit/installing.py); most also have a CLI command for
operators and tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog
from anyio import to_thread
from fastapi import FastAPI

from civicstack.kit.appservices import AppServices, services_of

TICK_SECONDS = 3.0
log = structlog.get_logger(__name__)


async def _run_forever(services: AppServices) -> None:
    while True:
        for job in services.jobs:
            if time.monotonic() < job.due_at:
                continue
            job.due_at = time.monotonic() + job.every_s
            try:
                done = await to_thread.run_sync(job.run, services)
                if done:
                    log.info("background_job", job=job.name, result=str(done))
            except Exception:  # retried next round: the loop must outlive one bad row
                log.exception("background_job_failed", job=job.name)
        await asyncio.sleep(TICK_SECONDS)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = services_of(app)
    task = asyncio.create_task(_run_forever(services))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        for hook in services.shutdown_hooks:
            hook(services)
