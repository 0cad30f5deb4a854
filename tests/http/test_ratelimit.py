"""The two rate limiters: the in-process token bucket and the shared fixed window."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from trace_core.credentials import CredentialStore
from trace_core.testing.memory import FixedClock
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_http.web.ratelimit import SharedWindowLimiter, TokenBucketLimiter, retry_after_header
from trace_sql import create_storage
from trace_sql.credentials import SqlCredentialStore

pytestmark = pytest.mark.anyio


async def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(burst=3, rate=2.0, clock=lambda: now[0])

    burst = [await limiter.hit("key") for _ in range(3)]
    refused = await limiter.hit("key")
    now[0] += 0.5  # one token back
    again = await limiter.hit("key")
    other = await limiter.hit("other key")

    assert burst == [None, None, None]
    assert refused == pytest.approx(0.5)
    assert again is None
    assert other is None


async def test_token_bucket_forgets_idle_keys_beyond_its_size() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(burst=2, rate=1.0, clock=lambda: now[0], max_keys=2)
    for key in ("a", "b", "c"):
        await limiter.hit(key)
    now[0] += 10
    await limiter.hit("d")

    assert await limiter.hit("a") is None


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[CredentialStore]:
    if request.param == "memory":
        yield InMemoryCredentialStore()
        return
    storage = create_storage(request.getfixturevalue("sqlite_url"))
    try:
        yield SqlCredentialStore(storage)
    finally:
        await storage.close()


async def test_shared_window_counts_in_the_credential_store(store: CredentialStore) -> None:
    clock = FixedClock()
    replica_one = SharedWindowLimiter(store, burst=3, rate=1.0, now=clock.now)
    replica_two = SharedWindowLimiter(store, burst=3, rate=1.0, now=clock.now)

    hits = [
        await replica_one.hit("key"),
        await replica_two.hit("key"),
        await replica_one.hit("key"),
    ]
    refused = await replica_two.hit("key")
    clock.advance(seconds=3)
    after_window = await replica_one.hit("key")

    assert hits == [None, None, None]
    assert refused is not None
    assert 0 < refused <= 3
    assert after_window is None


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after_header(s) for s in (0.01, 1.0, 1.2)] == ["1", "1", "2"]
