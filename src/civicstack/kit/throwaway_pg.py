"""A disposable PostgreSQL (initdb + pg_ctl on a free local port) for tests and benchmarks."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def find_pg_bin() -> Path:
    """initdb on PATH, else the newest Debian server under /usr/lib/postgresql."""
    on_path = shutil.which("initdb")
    if on_path:
        return Path(os.path.realpath(on_path)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable("initdb not found: install Debian's 'postgresql' package")
    return Path(candidates[0]).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningPostgres:
    port: int
    user: str

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"


def _run_as(user: str | None, args: list[str]) -> None:
    # PostgreSQL refuses to run as root; drop to the server's own account when we are root.
    command = ["runuser", "-u", user, "--", *args] if user else args
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise PostgresUnavailable(f"{args[0]} failed: {result.stderr.strip() or result.stdout}")


def _server_account() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise PostgresUnavailable("running as root and no 'postgres' user exists") from exc
    return "postgres"


@contextlib.contextmanager
def throwaway_postgres(durable: bool = False,
                       settings: tuple[str, ...] = ()) -> Iterator[RunningPostgres]:
    """Start a private cluster, with durability off (test data only) unless `durable` (for
    benchmarks whose figure is the cost of a commit, and backups), with further server
    `settings` ("name=value"), and remove it afterwards."""
    pg_bin, account = find_pg_bin(), _server_account()
    workdir = Path(tempfile.mkdtemp(prefix="civicstack-pg-"))
    if account:
        shutil.chown(workdir, user=account)
    data, port = workdir / "data", free_port()
    superuser = account or pwd.getpwuid(os.geteuid()).pw_name
    _run_as(account, [str(pg_bin / "initdb"), "-D", str(data), "-U", superuser,
                      "--auth=trust", "-E", "UTF8", "--no-locale"])
    options = f"-p {port} -k {workdir} -c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    options += "".join(f" -c {setting}" for setting in settings)
    _run_as(account, [str(pg_bin / "pg_ctl"), "-D", str(data), "-o", options,
                      "-l", str(workdir / "server.log"), "-w", "-t", "60", "start"])
    try:
        yield RunningPostgres(port=port, user=superuser)
    finally:
        with contextlib.suppress(PostgresUnavailable):
            _run_as(account, [str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate",
                              "-w", "stop"])
        shutil.rmtree(workdir, ignore_errors=True)
