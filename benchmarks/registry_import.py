"""Benchmark: `registry import` of a synthetic population into PostgreSQL and SQLite.

Prints persons/s and the importing process's peak RSS for two file sizes (memory must stay
flat as the file grows), and compares PostgreSQL with the raw limit: a bare COPY of the same
CSV into an all-text table with no parsing, validation, households or audit.

    .venv/bin/python benchmarks/registry_import.py --people 1000000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from civicstack.kit.audit import Actor
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import upgrade
from civicstack.kit.throwaway_pg import throwaway_postgres
from civicstack.registry.importer import import_persons
from civicstack.registry.synth import COLUMNS, write_population_csv
from civicstack.registry.units import sync_reference_units


def worker(url: str, csv_path: Path) -> None:
    """Runs in its own process so its peak RSS is the import's alone."""
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        sync_reference_units(session)
    started = time.perf_counter()
    summary = import_persons(factory, csv_path, Actor("cli", "benchmark"), batch_size=5000,
                             rejects_path=csv_path.with_suffix(f".{time.time_ns()}.rejects"))
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"loaded": summary.rows_loaded, "rejected": summary.rows_rejected,
                      "seconds": seconds, "peak_rss_mb": peak_mb}))


def run_worker(url: str, csv_path: Path) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, "--worker", url, str(csv_path)],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def raw_copy_seconds(url: str, csv_path: Path) -> float:
    """The ceiling: PostgreSQL ingesting the same bytes with no work of ours at all."""
    columns = ", ".join(f"{name} text" for name in COLUMNS)
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        connection.execute(f"CREATE TABLE raw_person ({columns})")
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
                "COPY raw_person FROM STDIN WITH (FORMAT csv, HEADER true)") as copy, \
                csv_path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        return time.perf_counter() - started


def population(people: int, seed: int, folder: Path) -> Path:
    path = folder / f"population-{people}-{seed}.csv"
    if not path.exists():
        started = time.perf_counter()
        write_population_csv(path, people, seed)
        print(f"generated {people:,} persons in {time.perf_counter() - started:.1f} s "
              f"({path.stat().st_size / 2**20:.0f} MiB)")
    return path


def report(backend: str, people: int, result: dict[str, float]) -> float:
    rate = result["loaded"] / result["seconds"]
    print(f"{backend:<11} {people:>9,} persons  {result['seconds']:7.1f} s  {rate:9,.0f} persons/s"
          f"  peak RSS {result['peak_rss_mb']:6.0f} MiB  rejected {result['rejected']:.0f}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--worker", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]))
        return
    with tempfile.TemporaryDirectory(prefix="civicstack-bench-") as folder:
        sizes = (args.people // 10, args.people)
        files = {size: population(size, args.seed, Path(folder)) for size in sizes}
        if "postgresql" in args.backends:
            with throwaway_postgres() as server:
                for index, size in enumerate(sizes):
                    url = server.url()
                    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as admin:
                        admin.execute(f"CREATE DATABASE bench_{index}")
                    rate = report("postgresql", size, run_worker(server.url(f"bench_{index}"),
                                                                 files[size]))
                raw = raw_copy_seconds(server.url("bench_0"), files[args.people])
                raw_rate = args.people / raw
                print(f"raw COPY   {args.people:>9,} rows     {raw:7.1f} s  {raw_rate:9,.0f} rows/s"
                      f"  -> import reaches {rate / raw_rate:.1%} of the raw COPY rate")
        if "sqlite" in args.backends:
            for size in sizes:
                report("sqlite", size, run_worker(f"sqlite:///{folder}/bench-{size}.db",
                                                  files[size]))


if __name__ == "__main__":
    main()
