"""A client-side rate limit for Pinpoint API calls with a documented per-operation quota.

Pinpoint throttles per account, per operation and per Region, and sends no Retry-After
(reference §2.2): a bulk caller paces itself instead of running into 429s. ``RateLimiter`` is a
token bucket shared by every thread that calls one operation; botocore's standard retry mode still
retries the 429s and 5xx that get through.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class RateLimiter:
    """At most ``rate`` calls per second on average, in bursts of at most ``burst`` calls."""

    def __init__(self, rate: float, burst: int | None = None, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        if rate <= 0:
            raise ValueError("rate must be > 0 calls per second")
        self.rate = float(rate)
        self.burst = max(1, int(burst if burst is not None else max(1, rate)))
        self._clock, self._sleep = clock, sleep
        self._tokens = float(self.burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one call's token, sleeping until there is one; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1 - 1e-9:  # float rounding must not leave a caller waiting forever
                    self._tokens = max(0.0, self._tokens - 1)
                    return waited
                delay = (1 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay
