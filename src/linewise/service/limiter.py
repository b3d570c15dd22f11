"""Failed logins counted per username and client, in this process.

Written here rather than taken from a library: what is needed is one counter of
failures per (username, client) in a sliding window, reset by a success, in memory
(the service runs as one process; each worker of several would count on its own).
The libraries that do this (slowapi over limits) limit requests per route by
decorators and bring storage backends this needs none of, and they count every
attempt, where a customer who types the password right should never be slowed.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable

__all__ = ["LoginLimiter", "RequestLimiter"]

# The pairs remembered at once: past this the pair failed longest ago is forgotten, so
# that a flood of made-up usernames cannot grow the process without bound.
PAIRS_MAX = 10_000


class _Counts:
    """Events per key within the last ``window_s`` seconds, at most ``most`` counted; thread-safe.

    At most PAIRS_MAX keys are remembered: past this the one counted longest ago is forgotten.
    """

    def __init__(self, *, most: int, window_s: float, clock: Callable[[], float]) -> None:
        self.most = most
        self.window_s = window_s
        self.clock = clock
        self._times: OrderedDict[Hashable, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are remembered."""
        return len(self._times)

    def wait(self, key: Hashable) -> int:
        """Seconds until ``key`` is under its limit again; 0 when it is now."""
        with self._lock:
            return self._wait(self._recent(key, create=False))

    def count(self, key: Hashable) -> None:
        """Count an event of ``key``."""
        with self._lock:
            self._count(key)

    def take(self, key: Hashable) -> int:
        """Count an event of ``key`` and return 0; or, when it is at its limit, the seconds to wait (not counted)."""
        with self._lock:
            wait = self._wait(self._recent(key, create=False))
            if not wait:
                self._count(key)
            return wait

    def forget(self, key: Hashable) -> None:
        """Forget ``key``'s events."""
        with self._lock:
            self._times.pop(key, None)

    def _wait(self, recent: deque[float]) -> int:
        if len(recent) < self.most:
            return 0
        return max(1, int(recent[0] + self.window_s - self.clock()) + 1)

    def _count(self, key: Hashable) -> None:
        self._recent(key, create=True).append(self.clock())
        self._times.move_to_end(key)
        while len(self._times) > PAIRS_MAX:
            self._times.popitem(last=False)

    def _recent(self, key: Hashable, *, create: bool) -> deque[float]:
        """The key's events within the window (older ones dropped); remembered only when ``create``."""
        times = self._times.setdefault(key, deque()) if create else self._times.get(key, deque())
        cutoff = self.clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        return times


class LoginLimiter:
    """At most ``failures_max`` failed logins per (username, client) within ``window_s`` seconds.

    ``clock`` is a monotonic clock in seconds (``time.monotonic`` unless told).
    """

    def __init__(self, *, failures_max: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures_max = failures_max
        self.window_s = window_s
        self._failures = _Counts(most=failures_max, window_s=window_s, clock=clock)

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until the pair may try again; 0 when it may now."""
        return self._failures.wait((username, client))

    def failed(self, username: str, client: str) -> None:
        """Count a failed login of the pair."""
        self._failures.count((username, client))

    def succeeded(self, username: str, client: str) -> None:
        """Forget the pair's failures: the right password was given."""
        self._failures.forget((username, client))


class RequestLimiter:
    """At most ``attempts_max`` attempts per key (an account) within ``window_s`` seconds, every attempt counted.

    For what a customer may ask for again and again (a higher limit): each request is
    decided and logged, and the strategy's own request rules count only the decided
    ones. ``clock`` is a monotonic clock in seconds.
    """

    def __init__(self, *, attempts_max: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts_max = attempts_max
        self.window_s = window_s
        self._attempts = _Counts(most=attempts_max, window_s=window_s, clock=clock)

    def take(self, key: str) -> int:
        """Count an attempt of ``key`` and return 0; or, when it has had its attempts, the seconds to wait (not counted)."""
        return self._attempts.take(key)
