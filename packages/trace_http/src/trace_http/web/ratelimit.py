"""Per-credential rate limiting for the MCP endpoint (reference: burst 100, 10 per second).

Two implementations of one small port:

- :class:`TokenBucketLimiter` keeps a token bucket per key in this process: exact
  burst-then-rate behaviour and no I/O on the hot path. Right for the embedded
  profile (one process); with N replicas each one allows the full rate.
- :class:`SharedWindowLimiter` counts hits in the database through
  :meth:`~trace_core.credentials.CredentialStore.hit_rate_limit`, so every replica
  shares one budget. It approximates the bucket with a fixed window of
  ``burst / rate`` seconds holding ``burst`` hits (100 hits per 10 s): the same
  average rate and burst, at the cost of one small write per request.

``trace serve`` picks the shared limiter when the database is PostgreSQL (the
multi-replica profiles) and the in-process bucket for SQLite; ``mcp.rate_limit_shared``
overrides the choice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from trace_core.credentials import CredentialStore
from trace_core.errors import retry_after_seconds

__all__ = ["RateLimiter", "SharedWindowLimiter", "TokenBucketLimiter"]


class RateLimiter(Protocol):
    """Decides whether one more request under ``key`` may go ahead."""

    async def hit(self, key: str) -> float | None:
        """Count a request under ``key``.

        Returns:
            None when it may proceed; otherwise the seconds to wait before retrying.

        """
        ...


class TokenBucketLimiter:
    """In-process token buckets: ``burst`` tokens, refilled at ``rate`` per second.

    Args:
        burst: bucket size (requests allowed at once after a quiet period).
        rate: tokens added per second.
        clock: monotonic seconds (tests pass a fake).
        max_keys: buckets kept; the fullest (idle) ones are dropped beyond it.

    """

    def __init__(
        self,
        *,
        burst: int = 100,
        rate: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError("burst must be >= 1 and rate > 0")
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}

    async def hit(self, key: str) -> float | None:
        """Take one token from ``key``'s bucket, or say how long until one is there."""
        now = self._clock()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self._max_keys:
                self._evict(now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _evict(self, now: float) -> None:
        # A bucket that has refilled completely carries no state worth keeping.
        full_after = self.burst / self.rate
        for key, (_, last) in list(self._buckets.items()):
            if now - last >= full_after:
                del self._buckets[key]


class SharedWindowLimiter:
    """Fixed-window counting in the credential store, shared by every replica.

    Args:
        store: the credential store (its ``hit_rate_limit`` is atomic).
        burst: hits allowed per window.
        rate: the sustained rate; the window is ``burst / rate`` seconds.
        now: the wall clock (tests pass a fake).

    """

    def __init__(
        self,
        store: CredentialStore,
        *,
        burst: int = 100,
        rate: float = 10.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError("burst must be >= 1 and rate > 0")
        self._store = store
        self._limit = burst
        self._window = timedelta(seconds=burst / rate)
        self._now = now

    async def hit(self, key: str) -> float | None:
        """Count a hit in the current window; past the limit, wait for the window's end."""
        wait = await self._store.hit_rate_limit(
            f"mcp:{key}", now=self._now(), window=self._window, limit=self._limit
        )
        return None if wait is None else max(wait, 0.001)


def retry_after_header(seconds: float) -> str:
    """Format a ``Retry-After`` value: whole seconds, at least 1."""
    return str(retry_after_seconds(seconds))
