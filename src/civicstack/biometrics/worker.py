"""The app's background loop for level-1 registration matches: the face pipeline takes about a
second per selfie, so it runs beside the requests, never inside one. Tests and operators call
service.run_registration_matches directly (or `civicstack biometrics match-registrations`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog
from anyio import to_thread
from fastapi import FastAPI

from civicstack.biometrics import service

POLL_SECONDS = 3.0
log = structlog.get_logger(__name__)


async def _match_forever(app: FastAPI) -> None:
    state = app.state
    while True:
        try:
            outcomes = await to_thread.run_sync(service.run_registration_matches,
                                                state.session_factory, state.biometrics,
                                                state.photo_vault)
            if outcomes:
                log.info("registration_matches", outcomes={k: v.value for k, v in outcomes.items()})
        except Exception:  # a failed round is retried; the loop must outlive one bad row
            log.exception("registration_matches_failed")
        await asyncio.sleep(POLL_SECONDS)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    task = asyncio.create_task(_match_forever(app))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        app.state.biometrics.gallery.save()
