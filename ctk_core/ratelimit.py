"""Client-side rate limiter: one token bucket for the whole process.

Every HTTP request takes a token. Interactive calls fail fast when the bucket is empty
(:meth:`TokenBucket.try_acquire` raises :class:`~ctk_core.errors.RateLimited` saying how long
until a token is back); bulk work paces itself with :meth:`TokenBucket.acquire_wait`.

The default is ``20/60``: a burst of 20 requests, then one more every 3 seconds. Fractions of a
token accrue continuously, so nothing is lost between calls. ``CTK_RATE_LIMIT=<n>/<seconds>``
changes it and ``CTK_RATE_LIMIT=off`` disables it.

Clock and sleep are injectable so tests never really wait.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Mapping

from ctk_core.errors import RateLimited, UsageError

DEFAULT_RATE_LIMIT = "20/60"
_OFF_VALUES = frozenset({"off", "none", "0", "false", "no", "disabled"})
_SPEC_RE = re.compile(r"^\s*(\d+)\s*/\s*(\d+(?:\.\d+)?)\s*(?:s|sec|seconds?)?\s*$", re.IGNORECASE)


class TokenBucket:
    """A thread-safe token bucket: ``capacity`` tokens, refilled at ``capacity / period``/s.

    ``clock`` returns seconds (monotonic); ``sleep`` waits that many seconds. Both default to the
    real ones and are replaced by fakes in tests.
    """

    def __init__(
        self,
        capacity: int = 20,
        period: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        if period <= 0:
            raise ValueError("period must be positive")
        self.capacity = int(capacity)
        self.period = float(period)
        self.rate = self.capacity / self.period  # tokens per second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = float(self.capacity)
        self._stamp = clock()
        self.taken = 0  # tokens handed out so far (for tests and benchmarks)

    def describe(self) -> str:
        period = f"{self.period:g}"
        return f"{self.capacity} requests per {period} s"

    def _refill(self) -> None:
        now = self._clock()
        elapsed = now - self._stamp
        if elapsed > 0:
            self._tokens = min(float(self.capacity), self._tokens + elapsed * self.rate)
        self._stamp = now

    def available(self) -> float:
        """Tokens in the bucket now (fractional)."""
        with self._lock:
            self._refill()
            return self._tokens

    def wait_time(self) -> float:
        """Seconds until one whole token is available (0 when one is available now)."""
        with self._lock:
            self._refill()
            return self._wait_locked()

    def _wait_locked(self) -> float:
        missing = 1.0 - self._tokens
        if missing <= 1e-9:
            return 0.0
        return missing / self.rate

    def _take_locked(self) -> bool:
        self._refill()
        if self._tokens >= 1.0 - 1e-9:
            self._tokens = max(0.0, self._tokens - 1.0)
            self.taken += 1
            return True
        return False

    def try_acquire(self) -> None:
        """Take a token or fail at once with :class:`RateLimited` naming the wait."""
        with self._lock:
            if self._take_locked():
                return
            wait = self._wait_locked()
        shown = max(0.1, math.ceil(wait * 10) / 10)
        raise RateLimited(
            f"Client-side rate limit reached ({self.describe()}): "
            f"the next request is possible in {shown:.1f} s.",
            retry_after=wait,
            hint="Wait and retry, or change CTK_RATE_LIMIT (e.g. 40/60, or off).",
        )

    def acquire_wait(
        self,
        on_wait: Callable[[float], None] | None = None,
        max_wait: float | None = None,
    ) -> float:
        """Take a token, sleeping until one is back. Returns the seconds waited.

        ``on_wait(seconds)`` is called before each sleep (a progress line such as "waiting 2.4 s
        for the rate limiter"). With ``max_wait``, a wait that would exceed it raises
        :class:`RateLimited` instead.
        """
        waited = 0.0
        while True:
            with self._lock:
                if self._take_locked():
                    return waited
                wait = self._wait_locked()
            if max_wait is not None and waited + wait > max_wait:
                raise RateLimited(
                    f"Client-side rate limit ({self.describe()}): no token within {max_wait:g} s.",
                    retry_after=wait,
                )
            if on_wait is not None:
                on_wait(wait)
            self._sleep(wait)
            waited += wait


def parse_rate_limit(
    value: str | None,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TokenBucket | None:
    """Build a bucket from a ``CTK_RATE_LIMIT`` value; ``None`` when the limiter is off.

    An empty or missing value means the default (20/60). A malformed value is a usage error
    naming the variable and the accepted forms.
    """
    text = (value or "").strip()
    if not text:
        text = DEFAULT_RATE_LIMIT
    if text.lower() in _OFF_VALUES:
        return None
    match = _SPEC_RE.match(text)
    if not match:
        raise UsageError(
            f"CTK_RATE_LIMIT={value!r} is not understood.",
            hint="Use <requests>/<seconds> (for example 20/60) or off.",
        )
    count = int(match.group(1))
    seconds = float(match.group(2))
    if count < 1 or seconds <= 0:
        raise UsageError(
            f"CTK_RATE_LIMIT={value!r} must allow at least 1 request per a positive number "
            "of seconds.",
            hint="Use <requests>/<seconds> (for example 20/60) or off.",
        )
    return TokenBucket(count, seconds, clock=clock, sleep=sleep)


_shared_lock = threading.Lock()
_shared: dict[str, TokenBucket | None] = {}


def limiter_from_environment(environ: Mapping[str, str] | None = None) -> TokenBucket | None:
    """The process-wide limiter for the current ``CTK_RATE_LIMIT`` (one bucket per setting).

    Every client built in one process with the same setting shares one bucket, so the limit holds
    for the whole process, not per client.
    """
    env = os.environ if environ is None else environ
    key = (env.get("CTK_RATE_LIMIT") or "").strip().lower() or DEFAULT_RATE_LIMIT
    with _shared_lock:
        if key not in _shared:
            _shared[key] = parse_rate_limit(key)
        return _shared[key]


__all__ = [
    "DEFAULT_RATE_LIMIT",
    "TokenBucket",
    "limiter_from_environment",
    "parse_rate_limit",
]
