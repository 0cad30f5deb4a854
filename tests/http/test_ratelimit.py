"""The two rate limiters: the in-process token bucket and the shared fixed window."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import pytest

from trace_core.credentials import CredentialStore
from trace_core.errors import RateLimitedError
from trace_core.model import Principal, Scope
from trace_core.testing.memory import FixedClock
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_http.web.ratelimit import (
    SharedWindowLimiter,
    TokenBucketLimiter,
    limit_work,
    retry_after_header,
)
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


async def test_token_bucket_keeps_a_larger_separate_bucket_for_other_requests() -> None:
    now = [0.0]
    limiter = TokenBucketLimiter(burst=2, rate=1.0, other_multiplier=3.0, clock=lambda: now[0])

    other = [await limiter.hit("key", "other") for _ in range(7)]
    work = [await limiter.hit("key", "work") for _ in range(3)]
    now[0] += 1 / 3  # one other token back (3 per second), no whole work token
    other_again = await limiter.hit("key", "other")
    work_again = await limiter.hit("key")

    assert other == [None] * 6 + [pytest.approx(1 / 3)]
    assert work == [None, None, pytest.approx(1.0)]
    assert other_again is None
    assert work_again is not None


async def test_limit_work_raises_rate_limited_with_the_wait() -> None:
    limiter = TokenBucketLimiter(burst=1, rate=0.5, clock=lambda: 0.0)
    principal = Principal(
        account_id=uuid4(),
        scopes=frozenset({Scope.READ}),
        actor="k",
        via="api_key",
        credential_id="k",
    )

    await limit_work(limiter, principal)
    await limit_work(None, principal)
    with pytest.raises(RateLimitedError) as caught:
        await limit_work(limiter, principal)
    assert caught.value.retry_after == pytest.approx(2.0)


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


async def test_shared_window_counts_other_hits_apart_with_a_larger_limit(
    store: CredentialStore,
) -> None:
    clock = FixedClock()
    limiter = SharedWindowLimiter(store, burst=2, rate=1.0, other_multiplier=2.0, now=clock.now)

    other = [await limiter.hit("key", "other") for _ in range(5)]
    work = [await limiter.hit("key", "work") for _ in range(3)]

    assert other[:4] == [None] * 4
    assert other[4] is not None
    assert work[:2] == [None, None]
    assert work[2] is not None


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after_header(s) for s in (0.01, 1.0, 1.2)] == ["1", "1", "2"]
