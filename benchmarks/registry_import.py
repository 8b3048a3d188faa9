"""Benchmark: `registry import` of a synthetic population into PostgreSQL and SQLite.

Prints persons/s, the CPU each person cost in every process (importer, parser, the whole
PostgreSQL server: CPU time holds up on a shared machine where wall-clock time does not) and
the importing processes' peak RSS for two file sizes (memory must stay flat as the file
grows), for a bulk load (one transaction, checks set aside and rebuilt) and batch by batch
(a transaction per 5,000 rows, every check live), and compares PostgreSQL with the raw limit:
a bare COPY of the same CSV into an all-text table with no parsing, validation, households or
audit.

    .venv/bin/python benchmarks/registry_import.py --people 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from civicstack.kit.audit import Actor
from civicstack.kit.db import make_engine, make_session_factory, transaction
from civicstack.kit.migrate import upgrade
from civicstack.kit.throwaway_pg import throwaway_postgres
from civicstack.registry.importer import import_persons
from civicstack.registry.synth import COLUMNS, write_population_csv
from civicstack.registry.units import sync_reference_units


def worker(url: str, csv_path: Path, mode: str) -> None:
    """Runs in its own process so its peak RSS is the import's alone (with its parser
    process's, which is reported separately)."""
    upgrade(url)
    factory = make_session_factory(make_engine(url))
    with transaction(factory) as session:
        sync_reference_units(session)
    cpu_before, server_before = _cpu_seconds(), server_cpu_seconds(url)
    started = time.perf_counter()
    summary = import_persons(factory, csv_path, Actor("cli", "benchmark"), batch_size=5000,
                             rejects_path=csv_path.with_suffix(f".{time.time_ns()}.rejects"),
                             bulk=mode == "bulk")
    seconds = time.perf_counter() - started
    cpu = {name: after - before for (name, after), before in zip(
        {**_cpu_seconds(), "postgresql": server_cpu_seconds(url)}.items(),
        (*cpu_before.values(), server_before), strict=True)}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parser_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps({"loaded": summary.rows_loaded, "rejected": summary.rows_rejected,
                      "seconds": seconds, "peak_rss_mb": peak_mb, "parser_rss_mb": parser_mb,
                      "cpu_seconds": cpu}))


def _cpu_seconds() -> dict[str, float]:
    """User + system CPU of this process (the importer) and of its ended children (the parser
    process, which the importer has joined by the time the import returns)."""
    return {name: usage.ru_utime + usage.ru_stime for name, usage in (
        ("importer", resource.getrusage(resource.RUSAGE_SELF)),
        ("parser", resource.getrusage(resource.RUSAGE_CHILDREN)))}


def server_cpu_seconds(url: str) -> float:
    """CPU spent so far by the whole PostgreSQL server: every living process of it (the
    import's backend, parallel index builders, the checkpointer...) and, through the
    postmaster's counters of its reaped children, those that have ended. 0 for SQLite, whose
    work is in the importer's own CPU."""
    if not url.startswith("postgresql"):
        return 0.0
    with psycopg.connect(url.replace("+psycopg", "")) as connection:
        row = connection.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        postmaster = int(_stat_fields(row[0])[1])
    children = [fields for fields in map(_stat_fields, _process_ids())
                if fields and int(fields[1]) == postmaster]
    ticks = sum(int(value) for fields in children for value in fields[11:13]) \
        + sum(int(value) for value in _stat_fields(postmaster)[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def _process_ids() -> list[int]:
    return [int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit()]


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name: [0] state, [1] parent, [11] utime, [12] stime,
    [13] cutime, [14] cstime (in clock ticks); empty if the process has ended."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


def run_worker(url: str, csv_path: Path, mode: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--worker", url, str(csv_path), mode],
                          capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the {mode} import of {csv_path.name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


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


def report(backend: str, mode: str, people: int, result: dict[str, Any]) -> float:
    rate = result["loaded"] / result["seconds"]
    cpu = result["cpu_seconds"]
    per_person = {name: seconds / people * 1e6 for name, seconds in cpu.items()}
    print(f"{backend:<11} {mode:<8} {people:>9,} persons  {result['seconds']:7.1f} s  "
          f"{rate:9,.0f} persons/s  peak RSS {result['peak_rss_mb']:5.0f} MiB "
          f"(parser {result['parser_rss_mb']:4.0f} MiB)  rejected {result['rejected']:.0f}")
    print(f"{'':20} CPU per person {sum(per_person.values()):6.1f} µs = "
          + " + ".join(f"{name} {micros:.1f}" for name, micros in per_person.items())
          + f"  (load average {os.getloadavg()[0]:.2f})")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--modes", nargs="+", default=["bulk", "batches"])
    parser.add_argument("--worker", nargs=3, metavar=("URL", "CSV", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), args.worker[2])
        return
    with tempfile.TemporaryDirectory(prefix="civicstack-bench-") as folder:
        sizes = (args.people // 10, args.people)
        files = {size: population(size, args.seed, Path(folder)) for size in sizes}
        runs = [(mode, size) for mode in args.modes for size in sizes]
        if "postgresql" in args.backends:
            with throwaway_postgres() as server:
                rates = {}
                for index, (mode, size) in enumerate(runs):
                    with psycopg.connect(server.url().replace("+psycopg", ""),
                                         autocommit=True) as admin:
                        admin.execute(f"CREATE DATABASE bench_{index}")
                    rates[mode, size] = report("postgresql", mode, size, run_worker(
                        server.url(f"bench_{index}"), files[size], mode))
                raw = raw_copy_seconds(server.url("bench_0"), files[args.people])
                raw_rate = args.people / raw
                print(f"raw COPY   {args.people:>18,} rows     {raw:7.1f} s  "
                      f"{raw_rate:9,.0f} rows/s")
                for mode in args.modes:
                    print(f"  {mode}: the import reaches "
                          f"{rates[mode, args.people] / raw_rate:.1%} of the raw COPY rate")
        if "sqlite" in args.backends:
            for mode, size in runs:
                report("sqlite", mode, size, run_worker(
                    f"sqlite:///{folder}/bench-{mode}-{size}.db", files[size], mode))


if __name__ == "__main__":
    main()
