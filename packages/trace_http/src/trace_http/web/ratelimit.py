"""Per-credential rate limiting for the MCP endpoint (reference: burst 100, 10 per second).

Every hit says what kind of request it counts (:data:`HitKind`):

- ``"work"``: a request that does something with the person's notes: an MCP
  ``tools/call``, or a REST API request. These spend the per-key budget
  (``mcp.rate_limit_burst``, ``mcp.rate_limit_per_second``).
- ``"other"``: protocol chatter (``initialize``, notifications, ``tools/list``,
  ``ping``, ``HEAD``...). These spend a separate, much larger flood guard: the
  same budget times ``mcp.rate_limit_other_multiplier`` (10 by default), so a
  client that opens a session per tool call is limited by its tool calls, not
  by its handshakes.

Another transport (the REST API) limits its requests with :func:`limit_work`,
which raises :class:`~trace_core.errors.RateLimitedError` (mapped to 429 with
``Retry-After`` in one place, ``trace_http/web/app.py``).

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
from typing import Literal, Protocol

from trace_core.credentials import CredentialStore
from trace_core.errors import RateLimitedError, retry_after_seconds
from trace_core.model import Principal

__all__ = [
    "HitKind",
    "RateLimiter",
    "SharedWindowLimiter",
    "TokenBucketLimiter",
    "limit_work",
    "rate_limit_key",
    "retry_after_header",
]

HitKind = Literal["work", "other"]
"""What a hit counts against: the per-key budget (``work``) or the flood guard (``other``)."""


class RateLimiter(Protocol):
    """Decides whether one more request under ``key`` may go ahead."""

    async def hit(self, key: str, kind: HitKind = "work") -> float | None:
        """Count a request under ``key``.

        Args:
            key: the credential (see :func:`rate_limit_key`).
            kind: ``"work"`` (tool calls, REST API requests) spends the per-key
                budget; ``"other"`` (handshakes, listings) spends the flood guard.

        Returns:
            None when it may proceed; otherwise the seconds to wait before retrying.

        """
        ...


def rate_limit_key(principal: Principal) -> str:
    """Return the budget a principal's requests count against: its credential, else account."""
    return principal.credential_id or f"account:{principal.account_id}"


async def limit_work(limiter: RateLimiter | None, principal: Principal) -> None:
    """Count one unit of work (a REST API request, say) for ``principal``.

    The same per-key budget as MCP ``tools/call``: a key shares one budget across
    both transports.

    Raises:
        RateLimitedError: over the budget; ``retry_after`` says when to try again.

    """
    if limiter is None:
        return
    wait = await limiter.hit(rate_limit_key(principal), "work")
    if wait is not None:
        raise RateLimitedError(wait)


def _check(burst: int, rate: float, other_multiplier: float) -> None:
    if burst < 1 or rate <= 0:
        raise ValueError("burst must be >= 1 and rate > 0")
    if other_multiplier < 1:
        raise ValueError("other_multiplier must be >= 1")


class TokenBucketLimiter:
    """In-process token buckets: ``burst`` tokens, refilled at ``rate`` per second.

    Args:
        burst: bucket size (requests allowed at once after a quiet period).
        rate: tokens added per second.
        other_multiplier: the ``"other"`` bucket is ``burst`` and ``rate`` times this.
        clock: monotonic seconds (tests pass a fake).
        max_keys: buckets kept; the fullest (idle) ones are dropped beyond it.

    """

    def __init__(
        self,
        *,
        burst: int = 100,
        rate: float = 10.0,
        other_multiplier: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        _check(burst, rate, other_multiplier)
        self.burst = burst
        self.rate = rate
        self.other_multiplier = other_multiplier
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[tuple[HitKind, str], tuple[float, float]] = {}

    def _shape(self, kind: HitKind) -> tuple[float, float]:
        if kind == "work":
            return float(self.burst), self.rate
        return self.burst * self.other_multiplier, self.rate * self.other_multiplier

    async def hit(self, key: str, kind: HitKind = "work") -> float | None:
        """Take one token from ``key``'s bucket of that kind, or say how long until one is there."""
        burst, rate = self._shape(kind)
        now = self._clock()
        tokens, last = self._buckets.get((kind, key), (burst, now))
        tokens = min(burst, tokens + (now - last) * rate)
        if tokens >= 1.0:
            self._buckets[kind, key] = (tokens - 1.0, now)
            if len(self._buckets) > self._max_keys:
                self._evict(now)
            return None
        self._buckets[kind, key] = (tokens, now)
        return (1.0 - tokens) / rate

    def _evict(self, now: float) -> None:
        # A bucket that has refilled completely carries no state worth keeping
        # (both kinds refill in burst / rate seconds).
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
        other_multiplier: ``"other"`` hits count in their own window (same
            length) holding ``burst`` times this.
        now: the wall clock (tests pass a fake).

    """

    def __init__(
        self,
        store: CredentialStore,
        *,
        burst: int = 100,
        rate: float = 10.0,
        other_multiplier: float = 10.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        _check(burst, rate, other_multiplier)
        self._store = store
        self._limit = burst
        self._other_limit = max(burst, int(burst * other_multiplier))
        self._window = timedelta(seconds=burst / rate)
        self._now = now

    async def hit(self, key: str, kind: HitKind = "work") -> float | None:
        """Count a hit in the current window; past the limit, wait for the window's end."""
        if kind == "work":
            bucket, limit = f"mcp:{key}", self._limit
        else:
            bucket, limit = f"mcp-other:{key}", self._other_limit
        wait = await self._store.hit_rate_limit(
            bucket, now=self._now(), window=self._window, limit=limit
        )
        return None if wait is None else max(wait, 0.001)


def retry_after_header(seconds: float) -> str:
    """Format a ``Retry-After`` value: whole seconds, at least 1."""
    return str(retry_after_seconds(seconds))
