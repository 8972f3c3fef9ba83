"""The client-side token bucket: burst, refill rate, fractions, pacing, CTK_RATE_LIMIT."""

from __future__ import annotations

import threading

import pytest

from ctk_core.errors import RateLimited, UsageError
from ctk_core.ratelimit import (
    TokenBucket,
    limiter_from_environment,
    parse_rate_limit,
)


class FakeClock:
    """A clock that only moves when told to (or when the fake sleep is called)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(capacity: int = 20, period: float = 60.0) -> tuple[TokenBucket, FakeClock]:
    clock = FakeClock()
    return TokenBucket(capacity, period, clock=clock, sleep=clock.sleep), clock


def test_burst_of_20_then_the_21st_fails_fast_with_the_wait_time():
    limiter, clock = bucket()
    for _ in range(20):
        limiter.try_acquire()
    with pytest.raises(RateLimited) as info:
        limiter.try_acquire()
    err = info.value
    assert err.exit_code == 7
    assert err.retry_after == pytest.approx(3.0)
    assert "3.0 s" in str(err)
    assert "20 requests per 60 s" in str(err)
    assert "CTK_RATE_LIMIT" in str(err)
    assert clock.slept == []  # failing fast never sleeps
    assert limiter.taken == 20


def test_one_token_back_every_3_seconds():
    limiter, clock = bucket()
    for _ in range(20):
        limiter.try_acquire()
    clock.advance(2.9)
    with pytest.raises(RateLimited) as info:
        limiter.try_acquire()
    assert info.value.retry_after == pytest.approx(0.1, abs=1e-6)
    clock.advance(0.1)
    limiter.try_acquire()  # exactly 3 s after the bucket ran dry
    clock.advance(30)
    for _ in range(10):  # 30 s bring back 10 tokens
        limiter.try_acquire()
    with pytest.raises(RateLimited):
        limiter.try_acquire()


def test_fractions_accrue_between_calls():
    limiter, clock = bucket()
    for _ in range(20):
        limiter.try_acquire()
    for _ in range(3):
        clock.advance(1.0)
        if clock.now < 1003.0:
            with pytest.raises(RateLimited):
                limiter.try_acquire()
    # three separate one-second waits add up to one whole token: nothing was lost
    limiter.try_acquire()
    assert limiter.available() == pytest.approx(0.0)


def test_bucket_never_holds_more_than_its_capacity():
    limiter, clock = bucket()
    clock.advance(10_000)
    assert limiter.available() == pytest.approx(20.0)
    for _ in range(20):
        limiter.try_acquire()
    with pytest.raises(RateLimited):
        limiter.try_acquire()


def test_acquire_wait_paces_instead_of_failing():
    limiter, clock = bucket()
    said: list[float] = []
    for _ in range(20):
        assert limiter.acquire_wait(on_wait=said.append) == 0.0
    assert said == []
    assert clock.slept == []
    waited = limiter.acquire_wait(on_wait=said.append)
    assert waited == pytest.approx(3.0)
    assert said == [pytest.approx(3.0)]
    assert clock.slept == [pytest.approx(3.0)]
    limiter.acquire_wait()
    assert clock.slept == [pytest.approx(3.0), pytest.approx(3.0)]
    assert limiter.taken == 22


def test_acquire_wait_with_max_wait_refuses_long_waits():
    limiter, clock = bucket(capacity=1, period=100)
    limiter.try_acquire()
    with pytest.raises(RateLimited) as info:
        limiter.acquire_wait(max_wait=10)
    assert info.value.retry_after == pytest.approx(100)
    assert clock.slept == []


def test_other_rates():
    limiter, clock = bucket(capacity=5, period=10)  # one token every 2 s
    for _ in range(5):
        limiter.try_acquire()
    with pytest.raises(RateLimited) as info:
        limiter.try_acquire()
    assert info.value.retry_after == pytest.approx(2.0)
    assert limiter.wait_time() == pytest.approx(2.0)
    clock.advance(2)
    assert limiter.wait_time() == 0.0
    limiter.try_acquire()


def test_threads_share_one_bucket_exactly():
    limiter, _clock = bucket()
    granted: list[int] = []
    refused: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(5):
            try:
                limiter.try_acquire()
            except RateLimited:
                with lock:
                    refused.append(1)
            else:
                with lock:
                    granted.append(1)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(granted) == 20
    assert len(refused) == 30


@pytest.mark.parametrize(
    ("value", "capacity", "period"),
    [
        (None, 20, 60.0),
        ("", 20, 60.0),
        ("20/60", 20, 60.0),
        ("5/10", 5, 10.0),
        (" 100 / 1.5 ", 100, 1.5),
        ("40/60s", 40, 60.0),
    ],
)
def test_parse_rate_limit(value, capacity, period):
    limiter = parse_rate_limit(value)
    assert limiter is not None
    assert (limiter.capacity, limiter.period) == (capacity, period)


@pytest.mark.parametrize("value", ["off", "OFF", "none", "0"])
def test_rate_limit_off(value):
    assert parse_rate_limit(value) is None


@pytest.mark.parametrize("value", ["fast", "20", "20/0", "0/60", "-1/5", "20/60/1", "a/b"])
def test_rate_limit_malformed(value):
    with pytest.raises(UsageError) as info:
        parse_rate_limit(value)
    assert "CTK_RATE_LIMIT" in str(info.value)


def test_limiter_from_environment_is_shared_per_setting():
    one = limiter_from_environment({"CTK_RATE_LIMIT": "7/70"})
    two = limiter_from_environment({"CTK_RATE_LIMIT": "7/70"})
    assert one is two
    assert one is not None
    assert one.capacity == 7
    assert limiter_from_environment({"CTK_RATE_LIMIT": "off"}) is None
    default = limiter_from_environment({})
    assert default is not None
    assert default.describe() == "20 requests per 60 s"


def test_invalid_bucket_arguments():
    with pytest.raises(ValueError, match="capacity must be at least 1"):
        TokenBucket(0, 60)
    with pytest.raises(ValueError, match="period must be positive"):
        TokenBucket(1, 0)
