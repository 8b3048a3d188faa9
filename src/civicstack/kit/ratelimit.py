"""Failed-attempt limits (sign-in, later OTP): a sliding window per key, in process memory.

One process serves the demo and each test; a multi-process deployment would keep the same
interface over a shared store.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from threading import Lock

from civicstack.kit.errors import RateLimited
from civicstack.kit.metrics import RATE_LIMIT_REFUSALS
from civicstack.kit.tally import Tally


class FailureLimiter:
    def __init__(self, name: str, max_failures: int, window_seconds: float,
                 refusal: str = "too many failed attempts") -> None:
        self.name, self.refusal = name, refusal
        self.max_failures, self.window = max_failures, window_seconds
        self.refusals = Tally()  # what the security view counts
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = Lock()

    def check(self, key: str) -> None:
        """Refuse before even trying when `key` failed too often lately."""
        with self._lock:
            recent = self._recent(key)
            if len(recent) >= self.max_failures:
                self.refusals.add()
                RATE_LIMIT_REFUSALS.labels(self.name).inc()
                wait = int(self.window - (time.monotonic() - recent[0])) + 1
                raise RateLimited(f"{self.refusal}; try again in {wait} seconds")

    def held_back(self) -> int:
        """How many keys (clients, accounts) are refused right now."""
        with self._lock:
            return sum(1 for key in list(self._failures)
                       if len(self._recent(key)) >= self.max_failures)

    def failed(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(time.monotonic())

    def _recent(self, key: str) -> deque[float]:
        attempts = self._failures[key]
        while attempts and time.monotonic() - attempts[0] > self.window:
            attempts.popleft()
        return attempts
