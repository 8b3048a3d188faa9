"""Benchmark: password sign-in cost with CivicStack's argon2id parameters, per core.

Prints verifications per second on one core through `identity.passwords.verify_password`, and
the same through argon2's low-level C binding (the raw limit for these parameters), so the
ratio shows our overhead. Sign-in capacity of a server is roughly this figure times its cores.

    .venv/bin/python benchmarks/password_hashing.py --seconds 10
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from argon2.low_level import Type, verify_secret

from civicstack.identity import passwords

PASSWORD = "correct horse battery staple"  # noqa: S105 (a benchmark input)


def rate(check: Callable[[], object], seconds: float) -> float:
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        check()
        done += 1
    return done / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    stored = passwords.hash_password(PASSWORD)
    hasher = passwords.hasher()
    print(f"argon2id t={hasher.time_cost} m={hasher.memory_cost // 1024} MiB "
          f"p={hasher.parallelism} hash_len={hasher.hash_len}")
    ours = rate(lambda: passwords.verify_password(stored, PASSWORD), args.seconds)
    raw = rate(lambda: verify_secret(stored.encode(), PASSWORD.encode(), Type.ID),
               args.seconds)
    print(f"verify_password (CivicStack)  {ours:7.1f} sign-ins/s per core "
          f"({1000 / ours:5.1f} ms each)")
    print(f"argon2 low-level verify (raw) {raw:7.1f} /s per core")
    print(f"ratio CivicStack / raw: {ours / raw:.2f}")


if __name__ == "__main__":
    main()
