"""Counts of events that are not stored one by one, kept in process memory per running app.

A refused request (a rate limit, a forged exchange assertion) must not cost a database write:
a flood of refusals would become a flood of inserts. The security view counts recent ones from
here; Prometheus counters (kit/metrics) add them up across processes.
"""

from __future__ import annotations

import time
from collections import deque
from datetime import datetime
from threading import Lock

KEEP = 100_000  # moments kept per tally: far more than any alert threshold


class Tally:
    def __init__(self, keep: int = KEEP) -> None:
        self._moments: deque[float] = deque(maxlen=keep)
        self._lock = Lock()

    def add(self) -> None:
        with self._lock:
            self._moments.append(time.time())

    def since(self, moment: datetime) -> int:
        cutoff = moment.timestamp()
        count = 0
        with self._lock:
            for at in reversed(self._moments):  # newest first: stop at the first older one
                if at < cutoff:
                    break
                count += 1
        return count


def tally_of(tallies: dict[str, Tally], name: str) -> Tally:
    """The running app's tally called `name` (AppServices.tallies), made at first use."""
    return tallies.setdefault(name, Tally())
