"""Benchmark: password sign-in over HTTP during a surge, on PostgreSQL, against Django's
LoginView (what django-oauth-toolkit signs people in with) under gunicorn's sync workers with the
same argon2id parameters, side by side in one run.

Ours runs as `civicstack serve` does (uvicorn, its C HTTP parser and event loop): one worker
with one hashing slot (what `serve --workers N` gives each worker on N cores), one worker with a
slot per core (one worker's default: argon2 releases the interpreter lock, so the cores hash at
once), and `serve --workers 2`; Django under one and two gunicorn sync workers (one request at
a time each). Each simulated user is a thread with its own HTTP connection that signs in again
and again: GET /account/login (the form and its CSRF token), then POST the personal ID number
and password (argon2id, 19 MiB, t=2, p=1), answered 303 (Django: 302). For 1 and 8 users at
once, it prints sign-ins per second and per CPU-second of the server's processes (read from
/proc, so the users' own threads on the same machine do not count), and each one's ratio to
Django's with as many workers. The servers take turns in rounds so that drift of the machine
hits all of them.

    .venv/bin/pip install -e '.[bench]'
    .venv/bin/python benchmarks/signin.py --seconds 20 --rounds 3
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support makes an active account through the services

from tests.support.eid import PASSWORD  # noqa: E402
from tests.support.oidc import CSRF, LiveProvider  # noqa: E402
from tests.support.people import make_person  # noqa: E402

from civicstack.app import create_app  # noqa: E402
from civicstack.config import Settings  # noqa: E402
from civicstack.identity.passwords import cores  # noqa: E402
from civicstack.kit.appservices import services_of  # noqa: E402
from civicstack.kit.db import make_engine, make_session_factory, transaction  # noqa: E402
from civicstack.kit.migrate import upgrade  # noqa: E402
from civicstack.kit.throwaway_pg import free_port, throwaway_postgres  # noqa: E402
from civicstack.registry.units import sync_reference_units  # noqa: E402

DJANGO_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
DJANGO_USER = "citizen"


def citizen(database_url: str, data_dir: Path) -> str:
    """A migrated database with one active account; its personal ID number."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with transaction(make_session_factory(engine)) as session:
        sync_reference_units(session)
    engine.dispose()
    app = create_app(Settings(database_url=database_url, data_dir=data_dir,
                              public_url="http://127.0.0.1", log_level="WARNING"))
    live = LiveProvider("http://127.0.0.1", app, data_dir)
    with transaction(live.factory) as session:
        person = make_person(session, "Nguyễn Văn An", date(1990, 5, 17))
        number = person.personal_id_number
    live.active_account(person)
    services_of(app).engine.dispose()
    return number


@dataclass(frozen=True)
class Login:
    """How a user signs in to one server: the form's page, its CSRF token, what to post."""

    path: str
    csrf: re.Pattern[str]
    fields: dict[str, str]
    token_field: str
    signed_in: int  # the status of a successful sign-in


@dataclass
class Server:
    name: str
    base: str
    process: subprocess.Popen[bytes]
    login: Login
    workers: int
    jobs: subprocess.Popen[bytes] | None = None  # ours: `civicstack worker` (the audit sealer)

    def cpu_seconds(self) -> float:
        """User and system time of the server's processes so far (Linux /proc), its jobs'
        worker's included: the audit entries each sign-in writes are sealed there."""
        return _tree_cpu_seconds(self.process.pid) + self.jobs_cpu_seconds()

    def jobs_cpu_seconds(self) -> float:
        return _tree_cpu_seconds(self.jobs.pid) if self.jobs else 0.0


def _tree_cpu_seconds(pid: int) -> float:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sum(_cpu_seconds(int(each)) for each in (pid, *children)
               if Path(f"/proc/{each}").exists())


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def serving(name: str, command: list[str], environment: dict[str, str], port: int,
            login: Login, workers: int) -> Iterator[Server]:
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(command, env={**os.environ, **environment})
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}{login.path}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"{name} did not start")
        yield Server(name, base, process, login, workers)
    finally:
        process.terminate()
        process.wait(30)


def environment_of(database_url: str, data_dir: Path, port: int = 0) -> dict[str, str]:
    return {"CIVICSTACK_DATABASE_URL": database_url, "CIVICSTACK_DATA_DIR": str(data_dir),
            "CIVICSTACK_PUBLIC_URL": f"http://127.0.0.1:{port}", "CIVICSTACK_LOG_LEVEL": "WARNING",
            "CIVICSTACK_JOBS_IN_APP": "false"}  # as deployed: a `civicstack worker` runs them


@contextmanager
def jobs_worker(database_url: str, data_dir: Path) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-m", "civicstack.cli", "worker"],
                               env={**os.environ, **environment_of(database_url, data_dir)})
    try:
        yield process
    finally:
        process.terminate()
        process.wait(30)


def civicstack(name: str, database_url: str, data_dir: Path, number: str, workers: int,
               slots: int = 0) -> contextlib.AbstractContextManager[Server]:
    """`civicstack serve`; `slots` 0 leaves the hashing slots to serve's default."""
    port = free_port()
    environment = environment_of(database_url, data_dir, port)
    if slots:
        environment["CIVICSTACK_PASSWORD_HASHING_SLOTS"] = str(slots)
    return serving(name, [sys.executable, "-m", "civicstack.cli", "serve", "--port", str(port),
                          "--workers", str(workers)], environment, port,
                   Login("/account/login", CSRF, {"personal_id_number": number,
                                                  "password": PASSWORD}, "csrf_token", 303),
                   workers)


def django(database_url: str, workers: int) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    return serving(f"django, {workers} gunicorn worker{'s' if workers > 1 else ''}", [
        sys.executable, __file__, "--serve-django", str(port), database_url, str(workers)], {},
        port, Login("/accounts/login/", DJANGO_CSRF,
                    {"username": DJANGO_USER, "password": PASSWORD},
                    "csrfmiddlewaretoken", 302), workers)


def serve_django(port: int, database_url: str, workers: int) -> None:
    """Django's LoginView with an argon2id hasher given our parameters, under gunicorn's sync
    workers (what django-oauth-toolkit's deployments default to)."""
    import django as framework
    from django.conf import settings

    address = urlsplit(database_url.replace("+psycopg", ""))
    settings.configure(
        DEBUG=False, SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS=["127.0.0.1"],
        USE_TZ=True, ROOT_URLCONF="__main__", LOGIN_REDIRECT_URL="/", LOGGING_CONFIG=None,
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                        "django.contrib.sessions"],
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                    "django.middleware.common.CommonMiddleware",
                    "django.middleware.csrf.CsrfViewMiddleware",
                    "django.contrib.auth.middleware.AuthenticationMiddleware"],
        DATABASES={"default": {
            "ENGINE": "django.db.backends.postgresql", "NAME": "django",
            "HOST": address.hostname, "PORT": address.port, "USER": address.username,
            "PASSWORD": address.password or "", "ATOMIC_REQUESTS": True, "CONN_MAX_AGE": None}},
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                    "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {
                        "registration/login.html":
                            '<form method="post">{% csrf_token %}{{ form }}</form>'})]}}],
        PASSWORD_HASHERS=["__main__.CivicStackArgon2"])
    framework.setup()
    from django.contrib.auth.hashers import Argon2PasswordHasher
    from django.contrib.auth.models import User
    from django.contrib.auth.views import LoginView
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connections
    from django.urls import path
    from gunicorn.app.base import BaseApplication

    from civicstack.identity.passwords import hasher

    ours = hasher()

    class CivicStackArgon2(Argon2PasswordHasher):
        time_cost, memory_cost, parallelism = ours.time_cost, ours.memory_cost, ours.parallelism

        def params(self) -> Any:
            found = super().params()
            found.hash_len = ours.hash_len  # Django's default is 16 bytes
            return found

    here = sys.modules["__main__"]  # the settings' URLconf and hasher
    here.CivicStackArgon2 = CivicStackArgon2  # type: ignore[attr-defined]
    here.urlpatterns = [path("accounts/login/", LoginView.as_view())]  # type: ignore[attr-defined]
    call_command("migrate", verbosity=0)
    if not User.objects.filter(username=DJANGO_USER).exists():
        User.objects.create_user(DJANGO_USER, password=PASSWORD)
    connections.close_all()  # or the forked workers would share this connection's socket

    class Gunicorn(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in {"bind": f"127.0.0.1:{port}", "workers": workers,
                               "worker_class": "sync", "accesslog": None,
                               "loglevel": "warning"}.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return get_wsgi_application()

    Gunicorn().run()


def sign_in_again_and_again(server: Server, until: float, done: list[int]) -> None:
    login = server.login
    with httpx.Client(base_url=server.base, follow_redirects=False, timeout=60) as http:
        while time.perf_counter() < until:
            http.cookies.clear()
            page = http.get(login.path)
            found = login.csrf.search(page.text)
            assert found, page.text[:300]
            answer = http.post(login.path, data={**login.fields,
                                                 login.token_field: found.group(1)})
            assert answer.status_code == login.signed_in, (answer.status_code,
                                                           answer.text[:300])
            done.append(1)


@dataclass
class Figures:
    per_second: list[float]
    per_cpu_second: list[float]
    jobs_share: list[float]


def surge(server: Server, users: int, seconds: float) -> tuple[float, float, float]:
    """(sign-ins per second, per CPU-second of the server, the jobs' share of that CPU) with
    `users` signing in at once."""
    done: list[int] = []
    cpu, jobs, started = server.cpu_seconds(), server.jobs_cpu_seconds(), time.perf_counter()
    until = started + seconds
    threads = [threading.Thread(target=sign_in_again_and_again, args=(server, until, done))
               for _ in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, used = time.perf_counter() - started, server.cpu_seconds() - cpu
    return len(done) / wall, len(done) / used, (server.jobs_cpu_seconds() - jobs) / used


def main() -> None:
    if sys.argv[1:2] == ["--serve-django"]:
        serve_django(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, nargs="+", default=[1, 8])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civicstack-signin-") as folder, \
            throwaway_postgres() as postgres, contextlib.ExitStack() as servers:
        with psycopg.connect(postgres.url().replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
            admin.execute("CREATE DATABASE django")
        url, data_dir = postgres.url("bench"), Path(folder)
        number = citizen(url, data_dir)
        jobs = servers.enter_context(jobs_worker(url, data_dir))
        running = [
            servers.enter_context(civicstack("ours, 1 worker, 1 slot", url, data_dir, number,
                                             1, slots=1)),
            servers.enter_context(civicstack(f"ours, 1 worker, {cores()} slots", url, data_dir,
                                             number, 1)),
            servers.enter_context(django(url, 1)),
            servers.enter_context(civicstack("ours, serve --workers 2", url, data_dir, number,
                                             2)),
            servers.enter_context(django(url, 2))]
        for server in running:
            if not server.name.startswith("django"):
                server.jobs = jobs
        results = {(server.name, users): Figures([], [], []) for server in running
                   for users in args.users}
        for server in running:
            surge(server, 2, 2)  # warm: imports, connections, templates
        for _ in range(args.rounds):
            for users in args.users:
                for server in running:
                    rate, per_cpu, share = surge(server, users, args.seconds)
                    results[(server.name, users)].per_second.append(rate)
                    results[(server.name, users)].per_cpu_second.append(per_cpu)
                    results[(server.name, users)].jobs_share.append(share)
        workers = {server.name: server.workers for server in running}
    print(f"password sign-in over HTTP, PostgreSQL, {cores()} cores "
          f"(median of {args.rounds} rounds of {args.seconds:.0f} s)")
    print("per CPU-s: of the server's processes and, for ours, of the `civicstack worker` that "
          "seals the audit entries (its share in the last column)")
    print(f"{'server':28} {'users':>5} {'sign-ins/s':>10} {'per CPU-s':>10} {'vs Django':>9} "
          f"{'jobs':>5}")
    for users in args.users:
        for name, count in workers.items():
            peer = next(other for other, each in workers.items()
                        if other.startswith("django") and each == count)
            found = results[(name, users)]
            per_cpu = statistics.median(found.per_cpu_second)
            ratio = per_cpu / statistics.median(results[(peer, users)].per_cpu_second)
            print(f"{name:28} {users:>5} {statistics.median(found.per_second):>10.1f} "
                  f"{per_cpu:>10.1f} {ratio:>9.2f} {statistics.median(found.jobs_share):>5.0%}")


if __name__ == "__main__":
    main()
