"""Serving in production: the database timeouts every serving connection has, one instance at
a time for a site's job, and `civicstack serve --workers N` stopping gracefully."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from civicstack.config import Settings
from civicstack.kit.appservices import AppServices, Job, JobReach
from civicstack.kit.db import exclusively
from civicstack.worker import run_job
from tests.integration.test_delivery import free_port
from tests.support.crashes import ROOT


def test_a_serving_postgresql_session_has_the_configured_timeouts(
        database_url: str, tmp_path: Path) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has no server to cut a statement short: its busy_timeout only")
    services = AppServices.start(Settings(
        database_url=database_url, data_dir=tmp_path, db_statement_timeout_ms=1500,
        db_lock_timeout_ms=700, db_idle_in_transaction_timeout_ms=9000, db_pool_size=3,
        db_max_overflow=2))
    try:
        with services.engine.connect() as connection:
            shown = {name: connection.execute(text(f"SHOW {name}")).scalar_one() for name in
                     ("statement_timeout", "lock_timeout",
                      "idle_in_transaction_session_timeout")}
        assert shown == {"statement_timeout": "1500ms", "lock_timeout": "700ms",
                         "idle_in_transaction_session_timeout": "9s"}
        assert (services.engine.pool.size(), services.engine.pool._max_overflow) == (3, 2)  # type: ignore[attr-defined]
    finally:
        services.engine.dispose()


def test_a_site_job_runs_on_one_instance_at_a_time(database_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=database_url, data_dir=tmp_path)
    first, second = AppServices.start(settings), AppServices.start(settings)
    runs: list[str] = []
    job = Job("reconcile", 60, lambda services: runs.append(
        "first" if services is first else "second"))
    one_process = not database_url.startswith("postgresql")  # SQLite: nobody else to wait for
    try:
        with exclusively(first.engine, "civicstack job reconcile") as mine:
            assert mine
            run_job(second, job)  # the other instance holds it: skipped
            assert runs == (["second"] if one_process else [])
        run_job(second, job)  # released: runs
        concurrent = Job("dispatch", 3, lambda _: runs.append("concurrent"),
                         JobReach.SITE_CONCURRENT)
        with exclusively(first.engine, "civicstack job dispatch"):
            run_job(second, concurrent)  # claims its own rows: never waits for a lock
    finally:
        first.engine.dispose()
        second.engine.dispose()
    assert runs[-2:] == ["second", "concurrent"]


def test_serve_runs_several_workers_and_stops_gracefully_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "src"),
                   "CIVICSTACK_DATA_DIR": str(tmp_path), "CIVICSTACK_SHUTDOWN_TIMEOUT_S": "5",
                   "CIVICSTACK_JOBS_IN_APP": "false"}
    subprocess.run([sys.executable, "-m", "civicstack.cli", "db", "upgrade"], cwd=ROOT,
                   env=environment, check=True, capture_output=True, timeout=300)
    server = subprocess.Popen(
        [sys.executable, "-m", "civicstack.cli", "serve", "--port", str(port), "--workers", "2",
         "--forwarded-allow-ips", "10.0.0.0/8"],
        cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert _answers(f"http://127.0.0.1:{port}/readyz", within_s=120)
        workers = _children(server.pid)
        assert len(workers) == 2, workers
        for worker in workers:  # one setting for uvicorn and the app, in every worker
            assert b"CIVICSTACK_TRUSTED_PROXIES=10.0.0.0/8\0" in Path(
                f"/proc/{worker}/environ").read_bytes()
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=60)
    assert server.returncode == 0, output
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)


def _answers(url: str, within_s: float) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        threading.Event().wait(0.5)
    return False


def _children(pid: int) -> list[int]:
    """The serving processes uvicorn started (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            command = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"resource_tracker" not in command:
                found.append(int(child))
    return found
