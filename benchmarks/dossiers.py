"""Benchmark: dossiers through the workflow, and the statistics over many dossiers, on
PostgreSQL (a throwaway cluster).

(a) Dossiers started, submitted and moved through receive -> start -> approve per second, one
thread, through the services' rules (each step its own transaction, as each is its own
request; prefill from the register and the wallet, audit entries, events; no PDF).
(b) N synthetic dossiers bulk-loaded with COPY (a fast path for data, not the rules), the
statistics' tallies recounted (`civicstack services stats-rebuild`), then each read of the
tallies and every figure timed (median of 3 after one warm-up), against one GROUP BY over the
dossiers themselves (what every figure cost before the tallies), and the JSON API call.

    .venv/bin/python benchmarks/dossiers.py --dossiers 1000000 --workflow 300
"""

from __future__ import annotations

import argparse
import os
import statistics as stats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.support makes the wallet site over the secret store

from tests.support.keys import TEST_ROOT_KEY  # noqa: E402
from tests.support.wallet import wallet_site  # noqa: E402

from civicstack.config import get_settings  # noqa: E402
from civicstack.kit.audit import Actor  # noqa: E402
from civicstack.kit.authz import NATIONAL, Role  # noqa: E402
from civicstack.kit.db import make_engine, make_session_factory, transaction  # noqa: E402
from civicstack.kit.migrate import upgrade  # noqa: E402
from civicstack.kit.throwaway_pg import throwaway_postgres  # noqa: E402
from civicstack.registry import pid  # noqa: E402
from civicstack.registry import service as registry  # noqa: E402
from civicstack.registry.models import Sex  # noqa: E402
from civicstack.registry.rules import PersonFacts  # noqa: E402
from civicstack.registry.units import current_wards, sync_reference_units  # noqa: E402
from civicstack.services import demo, service, statistics, stats_repository, synthetic  # noqa: E402
from civicstack.services.payments import LocalTreasury  # noqa: E402
from civicstack.wallet import service as wallet  # noqa: E402
from civicstack.wallet.site import WalletSite  # noqa: E402

PROCEDURE = "DVC-CT-04"  # residence confirmation: decided by the ward police
POLICE = Actor("official", "bench-police", NATIONAL, Role.POLICE)
CLERK = Actor("cli", "bench-register")
COLUMNS = ("receipt_code", "procedure_id", "group_id", "applicant_pid", "submitted_by",
           "channel", "state", "province_code", "ward_code", "data", "fee", "payment_reference",
           "assigned_to", "created_at", "submitted_at", "due_on", "decided_at",
           "decision_reason", "result_pdf", "result_credential_id", "result_person_pid",
           "version")


def prepare(url: str) -> sessionmaker[Session]:
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        sync_reference_units(session)
        service.seed_catalogue(session, [p.code for p in registry.provinces(session)])
        wallet.seed_catalogue(session)
    return factory


def citizens(factory: sessionmaker[Session], site: WalletSite, count: int) -> list[str]:
    """Register people in Hà Nội with an ID card in their wallet, through the services."""
    numbers = []
    with transaction(factory) as session:
        ward = next(w["code"] for w in current_wards() if w["province_code"] == "01")
        for serial in range(1, count + 1):
            born = date(1980 + serial % 20, 1 + serial % 12, 1 + serial % 28)
            number = pid.compose("01", born.year, Sex.FEMALE, serial)
            registry.register_person(session, CLERK, registry.NewPerson(
                PersonFacts(number, f"Nguyễn Thị Số {serial}", born, Sex.FEMALE, "01", ward,
                            None, "0912000000"), place_of_origin="Hà Nội",
                permanent_address_line=f"{serial} Phố Huế"))
            registry.issue_id_card(session, CLERK, number, registry.IdCard(
                number, date(2021, 3, 1), date(2036, 3, 1), "Cục Cảnh sát QLHC về TTXH"))
            wallet.issue_from_register(session, site, number, "id_card")
            numbers.append(number)
    return numbers


def workflow(factory: sessionmaker[Session], data_dir: Path, count: int) -> None:
    site = wallet_site(factory, "https://bench.example")
    people = citizens(factory, site, min(count, 50))
    payments = LocalTreasury(data_dir / "treasury")
    started = time.perf_counter()
    for number in range(count):
        applicant = people[number % len(people)]
        actor = Actor("citizen", applicant)
        with transaction(factory) as session:
            draft = service.start_draft(session, actor, applicant, PROCEDURE)
        with transaction(factory) as session:
            receipt = service.submit(session, site, actor, service.dossier_for(
                session, actor, draft.receipt_code, lock=True), payments).receipt_code
        for action, reason in (("receive", ""), ("start", ""), ("approve", "hồ sơ hợp lệ")):
            with transaction(factory) as session:
                service.transition(session, POLICE, receipt, action, reason)
    seconds = time.perf_counter() - started
    print(f"(a) workflow: {count} dossiers drafted, submitted, received, started, approved in "
          f"{seconds:.1f} s = {count / seconds:.1f} dossiers/s "
          f"({5 * count / seconds:.0f} transactions/s, one thread)")


def bulk_load(url: str, factory: sessionmaker[Session], count: int) -> None:
    wards = current_wards()
    applicants = [synthetic.Applicant(f"{1 + n % 96:03d}{n:09d}", w["province_code"], w["code"])
                  for n, w in enumerate(wards * 30)]
    with transaction(factory) as session:
        offered = demo.offered(session)
    started = time.perf_counter()
    with psycopg.connect(url.replace("+psycopg", "")) as connection, \
            connection.cursor() as cursor, \
            cursor.copy(f"COPY service_dossier ({', '.join(COLUMNS)}) FROM STDIN") as copy:
        for row in synthetic.dossier_rows(applicants, offered, count, seed=7,
                                          today=date.today()):
            row["data"] = "{}"
            copy.write_row([row[c] for c in COLUMNS])
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE service_dossier")
    seconds = time.perf_counter() - started
    print(f"(b) bulk load: {count:,} synthetic dossiers by COPY in {seconds:.1f} s "
          f"({count / seconds:,.0f}/s, generation included), then VACUUM ANALYZE")
    started = time.perf_counter()
    with transaction(factory) as session:
        statistics.rebuild(session)
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE service_tally_channel, service_tally_state, "
                           "service_tally_due")
        rows = connection.execute("SELECT (SELECT count(*) FROM service_tally_channel) + "
                                  "(SELECT count(*) FROM service_tally_state) + "
                                  "(SELECT count(*) FROM service_tally_due)").fetchone()
    print(f"    tallies recounted from the dossiers in {time.perf_counter() - started:.1f} s "
          f"({rows[0] if rows else 0:,} rows, day and month)")


def timed(label: str, run: Callable[..., Any], *arguments: Any) -> float:
    run(*arguments)  # warm the cache: a dashboard is read over and over
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        run(*arguments)
        runs.append(time.perf_counter() - started)
    print(f"    {label:<52} {1000 * stats.median(runs):8.1f} ms")
    return stats.median(runs)


TALLY_READS = (("channels (every online rate)", stats_repository.channels),
               ("states (on time, by state)", stats_repository.states))
# The national online rate as every figure was counted before the tallies: one GROUP BY over
# the dossiers, the peer of the reads above.
OVER_THE_DOSSIERS = text("SELECT channel, count(*) FROM service_dossier "
                         "WHERE submitted_at IS NOT NULL GROUP BY channel")


def queries(factory: sessionmaker[Session], count: int) -> None:
    today = date.today()
    periods = (("all time", statistics.Filters(None, None, None)),
               ("this month", statistics.Filters(*statistics.this_month(today), None)),
               ("this year, Hà Nội", statistics.Filters(*statistics.this_year(today), "01")),
               ("10 Jan - 20 Mar, HCMC", statistics.Filters(
                   date(today.year, 1, 10), date(today.year, 3, 20), "79")))
    print(f"dashboard queries over {count:,} dossiers (median of 3, warm):")
    with transaction(factory) as session:
        peer = timed("one GROUP BY over the dossiers (the old way)",
                     lambda: session.execute(OVER_THE_DOSSIERS).all())
        for name, chosen in periods:
            for label, query in TALLY_READS:
                timed(f"{label}, {name}", query, session, chosen.scope())
            every = timed(f"every figure (figures()), {name}", statistics.figures, session,
                          chosen)
            print(f"    {'':<52} = {peer / every:.1f}x faster than one GROUP BY")


def api(url: str, data_dir: Path) -> None:
    os.environ.update(CIVICSTACK_DATABASE_URL=url, CIVICSTACK_DATA_DIR=str(data_dir / "app"),
                      CIVICSTACK_LOG_LEVEL="WARNING",  # no request log lines in the figures
                      CIVICSTACK_ROOT_KEY=TEST_ROOT_KEY)  # the wallet's keys are sealed under it
    get_settings.cache_clear()
    from civicstack.app import create_app

    client = TestClient(create_app())
    for path in ("/api/v1/services/statistics", "/api/v1/services/statistics?province=01",
                 f"/api/v1/services/statistics?from={date.today():%Y-%m-01}",
                 "/api/v1/services/statistics.csv", "/services/statistics?lang=en"):
        timed(f"GET {path}", lambda p=path: client.get(p).raise_for_status())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dossiers", type=int, default=1_000_000)
    parser.add_argument("--workflow", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="civicstack-bench-") as folder, \
            throwaway_postgres() as server:
        with psycopg.connect(server.url().replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench")
        url = server.url("bench")
        factory = prepare(url)
        workflow(factory, Path(folder), args.workflow)
        bulk_load(url, factory, args.dossiers)
        queries(factory, args.dossiers + args.workflow)
        api(url, Path(folder))


if __name__ == "__main__":
    main()
