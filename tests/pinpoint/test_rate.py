"""The token bucket keeps calls under its rate, whatever the number of threads."""

from __future__ import annotations

import threading
import time

import pytest

from pinpoint_etl.pinpoint.rate import RateLimiter


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.mark.parametrize("rate,burst,calls", [(2, 1, 11), (2, 2, 12), (15, 15, 100), (0.5, 1, 4)])
def test_n_calls_take_at_least_n_minus_burst_over_rate_seconds(rate, burst, calls):
    clock = _Clock()
    limiter = RateLimiter(rate, burst, clock=clock, sleep=clock.sleep)
    stamps = []
    for _ in range(calls):
        limiter.acquire()
        stamps.append(clock.now)
    assert stamps[-1] == pytest.approx((calls - burst) / rate)
    # no window of one second holds more than rate + burst calls
    for i, t in enumerate(stamps):
        assert sum(1 for s in stamps[i:] if s < t + 1) <= rate + burst


def test_threads_share_one_budget():
    limiter = RateLimiter(20, 1)
    stamps: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(5):
            limiter.acquire()
            with lock:
                stamps.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(4)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 20
    assert max(stamps) - start >= 19 / 20 * 0.95  # 20 calls at 20/s with a burst of 1: >= 0.95 s


def test_rate_must_be_positive():
    with pytest.raises(ValueError):
        RateLimiter(0)
