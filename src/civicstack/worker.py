"""The app's background jobs, run in its lifespan beside the requests, never inside one:
level-1 selfies matched against the ID-card face (about a second each), the purge of flight
data and face copies past their delay after departure, the escalation of late support tickets,
the verification of the logs' hash chains, and the security alerts. Each job also has a CLI
command (`biometrics match-registrations`, `travel purge`, `support escalate`, `security
verify-chains`) for operators and tests, except the alerts: they need this process's counts of
refused requests (security/service.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta

import structlog
from anyio import to_thread
from fastapi import FastAPI

from civicstack.biometrics import service as biometrics
from civicstack.kit.audit import SYSTEM
from civicstack.kit.db import transaction
from civicstack.security import service as security
from civicstack.security.site import process_counts, thresholds_from
from civicstack.support import service as support
from civicstack.travel import service as travel

TICK_SECONDS = 3.0
log = structlog.get_logger(__name__)


@dataclass
class Job:
    name: str
    every_s: float
    run: Callable[[FastAPI], object]
    due_at: float = 0.0


def _match_registrations(app: FastAPI) -> object:
    state = app.state
    outcomes = biometrics.run_registration_matches(state.session_factory, state.biometrics,
                                                   state.photo_vault)
    return {pid: outcome.value for pid, outcome in outcomes.items()} or None


def _purge_travel(app: FastAPI) -> object:
    with transaction(app.state.session_factory) as session:
        report = travel.purge(session, app.state.settings.travel_purge_hours)
    return report if any(vars(report).values()) else None


def _verify_chains(app: FastAPI) -> object:
    every = timedelta(hours=app.state.settings.security_chain_check_hours)
    with transaction(app.state.session_factory) as session:
        checks = security.verify_chains_when_due(session, security.now(), every)
    return {check.log: check.intact for check in checks} or None


def _evaluate_security_alerts(app: FastAPI) -> object:
    state = app.state
    with transaction(state.session_factory) as session:
        changes = security.evaluate_alerts(session, process_counts(state),
                                           thresholds_from(state.settings),
                                           state.settings.security_contact, security.now())
    return [f"{change.kind} {'raised' if change.raised else 'cleared'}"
            for change in changes] or None


def _escalate_support(app: FastAPI) -> object:
    with transaction(app.state.session_factory) as session:
        done = support.escalate_late(session, SYSTEM)
    return len(done) or None


async def _run_forever(app: FastAPI, jobs: list[Job]) -> None:
    while True:
        for job in jobs:
            if time.monotonic() < job.due_at:
                continue
            job.due_at = time.monotonic() + job.every_s
            try:
                done = await to_thread.run_sync(job.run, app)
                if done:
                    log.info("background_job", job=job.name, result=str(done))
            except Exception:  # retried next round: the loop must outlive one bad row
                log.exception("background_job_failed", job=job.name)
        await asyncio.sleep(TICK_SECONDS)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    jobs = [Job("registration_matches", TICK_SECONDS, _match_registrations),
            Job("travel_purge", 600, _purge_travel),
            # Chains first: at start-up, alerts must see this run's verification. Whether one
            # is due is asked often; the verifications it records set the pace.
            Job("hash_chains", 600, _verify_chains),
            Job("security_alerts", 60, _evaluate_security_alerts),
            Job("support_escalation", 300, _escalate_support)]
    task = asyncio.create_task(_run_forever(app, jobs))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        app.state.biometrics.gallery.save()
