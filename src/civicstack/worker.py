"""Background jobs, never inside a request: in `civicstack worker`, a process of its own that
may run on several machines at once, or in the web app's lifespan for the one-process demo
(`jobs_in_app`). Each domain adds its own at install time (kit/installing.py), the kit's are
below; most also have a CLI command for operators and tests.

A job of the site runs on one instance at a time (an advisory lock on PostgreSQL: another
worker skips it while it runs); the outbox's dispatch runs on every worker at once, each
claiming its own messages; a job of the process (its tallies) runs wherever they are held."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, datetime, timedelta

import structlog
from anyio import to_thread
from fastapi import FastAPI

from civicstack.config import Settings
from civicstack.domains import install_all
from civicstack.kit import outbox, ratelimit, tally, websession
from civicstack.kit.appservices import AppServices, Job, JobReach, services_of
from civicstack.kit.db import exclusively, transaction
from civicstack.kit.installing import Installer
from civicstack.kit.logging import configure_logging

TICK_SECONDS = 3.0
log = structlog.get_logger(__name__)


def install_kit_jobs(installer: Installer) -> None:
    """The jobs of what kit/ keeps for every domain: messages, sessions, counts."""
    installer.job("outbox_dispatch", TICK_SECONDS, dispatch_outbox, JobReach.SITE_CONCURRENT)
    installer.job("outbox_purge", 3600, purge_outbox)
    installer.job("outbox_counts", 60, count_outbox, JobReach.PROCESS)
    installer.job("web_sessions_purge", 600, purge_web_sessions)
    installer.job("rate_counts_purge", 600, purge_rate_counts)
    installer.job("tallies_flush", TICK_SECONDS, flush_tallies, JobReach.PROCESS)
    installer.on_shutdown(flush_tallies)


def dispatch_outbox(services: AppServices) -> int | None:
    return outbox.dispatch_pending(services.session_factory, services.channels,
                                   outbox.RetryPolicy.from_settings(services.settings)) or None


def purge_outbox(services: AppServices) -> int | None:
    retention = timedelta(days=services.settings.outbox_retention_days)
    return outbox.purge_delivered(services.session_factory, retention) or None


def count_outbox(services: AppServices) -> None:
    with transaction(services.session_factory) as session:
        outbox.publish_counts(session)  # quietly: a gauge, not news


def purge_web_sessions(services: AppServices) -> int | None:
    return websession.purge_expired(services.session_factory, services.settings) or None


def purge_rate_counts(services: AppServices) -> int | None:
    moment = datetime.now(UTC)
    with transaction(services.session_factory) as session:
        return ratelimit.purge(session, moment) + tally.purge(session, moment) or None


def flush_tallies(services: AppServices) -> None:
    services.flush_tallies()  # quietly: the worker logs what a job returns


def run_job(services: AppServices, job: Job) -> None:
    """Run `job` now, logging what it did; a failure is logged and retried when next due, so
    the loop outlives one bad row."""
    try:
        if job.reach is not JobReach.SITE:
            done = job.run(services)
        else:
            with exclusively(services.engine, f"civicstack job {job.name}") as mine:
                if not mine:
                    return  # another instance is running it
                done = job.run(services)
        if done:
            log.info("background_job", job=job.name, result=str(done))
    except Exception:
        log.exception("background_job_failed", job=job.name)


def due_jobs(jobs: list[Job]) -> list[Job]:
    """The jobs whose time has come, each then due again after its interval."""
    moment = time.monotonic()
    due = [job for job in jobs if job.due_at <= moment]
    for job in due:
        job.due_at = moment + job.every_s
    return due


def jobs_of_the_app(services: AppServices) -> list[Job]:
    if services.settings.jobs_in_app:
        return services.jobs
    return [job for job in services.jobs if job.reach is JobReach.PROCESS]


async def _run_forever(services: AppServices, jobs: list[Job]) -> None:
    while True:
        for job in due_jobs(jobs):
            await to_thread.run_sync(run_job, services, job)
        await asyncio.sleep(TICK_SECONDS)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    services = services_of(app)
    task = asyncio.create_task(_run_forever(services, jobs_of_the_app(services)))
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
        _shut_down(services)


def run_worker(services: AppServices, stop: threading.Event) -> None:
    """`civicstack worker`: every job when due until `stop` is set (SIGTERM, SIGINT); the job
    running then finishes first."""
    log.info("worker_started", jobs=[job.name for job in services.jobs])
    while not stop.is_set():
        for job in due_jobs(services.jobs):
            if stop.is_set():
                break
            run_job(services, job)
        stop.wait(TICK_SECONDS)
    _shut_down(services)
    log.info("worker_stopped")


def _shut_down(services: AppServices) -> None:
    for hook in services.shutdown_hooks:
        hook(services)
    services.engine.dispose()


def run_worker_process(settings: Settings) -> None:
    """`civicstack worker`: the site's jobs and every domain's, until SIGTERM or SIGINT."""
    configure_logging(settings.log_level, settings.log_json)
    services = AppServices.start(settings)
    installer = Installer(settings, services=services)
    install_kit_jobs(installer)
    install_all(installer)
    stop = threading.Event()
    for stopping in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stopping, lambda *_: stop.set())
    run_worker(services, stop)
