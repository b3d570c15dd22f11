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
from collections.abc import Callable

__all__ = ["LoginLimiter", "RequestLimiter"]

# The pairs remembered at once: past this the pair failed longest ago is forgotten, so
# that a flood of made-up usernames cannot grow the process without bound.
PAIRS_MAX = 10_000


class LoginLimiter:
    """At most ``failures_max`` failed logins per (username, client) within ``window_s`` seconds.

    ``clock`` is a monotonic clock in seconds (``time.monotonic`` unless told).
    """

    def __init__(self, *, failures_max: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.failures_max = failures_max
        self.window_s = window_s
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until the pair may try again; 0 when it may now."""
        with self._lock:
            recent = self._recent((username, client), create=False)
            if len(recent) < self.failures_max:
                return 0
            return max(1, int(recent[0] + self.window_s - self.clock()) + 1)

    def failed(self, username: str, client: str) -> None:
        """Count a failed login of the pair."""
        with self._lock:
            key = (username, client)
            self._recent(key, create=True).append(self.clock())
            self._failures.move_to_end(key)
            while len(self._failures) > PAIRS_MAX:
                self._failures.popitem(last=False)

    def succeeded(self, username: str, client: str) -> None:
        """Forget the pair's failures: the right password was given."""
        with self._lock:
            self._failures.pop((username, client), None)

    def _recent(self, key: tuple[str, str], *, create: bool) -> deque[float]:
        """The pair's failures within the window (older ones dropped); remembered only when ``create``."""
        times = self._failures.setdefault(key, deque()) if create else self._failures.get(key, deque())
        cutoff = self.clock() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        return times


class RequestLimiter:
    """At most ``attempts_max`` attempts per key (an account) within ``window_s`` seconds, every attempt counted.

    For what a customer may ask for again and again (a higher limit): each request is
    decided and logged, and the strategy's own request rules count only the decided
    ones. ``clock`` is a monotonic clock in seconds.
    """

    def __init__(self, *, attempts_max: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.attempts_max = attempts_max
        self.window_s = window_s
        self.clock = clock
        self._attempts: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> int:
        """Count an attempt of ``key`` and return 0; or, when it has had its attempts, the seconds to wait (not counted)."""
        with self._lock:
            now = self.clock()
            times = self._attempts.setdefault(key, deque())
            while times and times[0] <= now - self.window_s:
                times.popleft()
            if len(times) >= self.attempts_max:
                return max(1, int(times[0] + self.window_s - now) + 1)
            times.append(now)
            self._attempts.move_to_end(key)
            while len(self._attempts) > PAIRS_MAX:
                self._attempts.popitem(last=False)
            return 0
