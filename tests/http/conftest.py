"""Fixtures for the HTTP app tests: the real app on in-memory adapters, in process.

Requests go through ``httpx2.ASGITransport`` (the transport the MCP SDK's client
uses), with the app's lifespan running, so the official MCP client can talk to
the app without a socket.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import pytest
from http_support import PUBLIC, SECRET, FakeAuthenticator, McpConnect, Pair, runtime_for_tests
from litestar import Litestar
from mcp.client.streamable_http import streamable_http_client

from mcp import Client
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_http.runtime import Runtime
from trace_http.web.app import create_app
from trace_http.web.ratelimit import TokenBucketLimiter
from trace_mcp import AttachmentUrlSigner


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def trace(clock: FixedClock) -> Trace:
    return Trace(
        storage=InMemoryStorage(),
        blobs=InMemoryBlobStore(),
        search=InMemorySearchIndex(),
        clock=clock,
    )


@pytest.fixture
def authenticator() -> FakeAuthenticator:
    return FakeAuthenticator()


@pytest.fixture
async def keys(trace: Trace, authenticator: FakeAuthenticator) -> dict[str, Principal]:
    """Tokens ``alice-full``, ``alice-read``, ``alice-oauth-read`` and ``bob-full``."""
    alice = await trace.create_account("alice@example.com")
    bob = await trace.create_account("bob@example.com")

    def principal(account: Any, scope: Scope, name: str, via: str = "api_key") -> Principal:
        return Principal(
            account_id=account.account_id,
            scopes=frozenset({scope}),
            actor=name,
            via=via,  # type: ignore[arg-type]
            credential_id=name,
        )

    authenticator.tokens.update(
        {
            "alice-full": principal(alice, Scope.FULL, "alice-full"),
            "alice-read": principal(alice, Scope.READ, "alice-read"),
            "alice-oauth-read": principal(alice, Scope.READ, "Claude", "oauth"),
            "bob-full": principal(bob, Scope.FULL, "bob-full"),
        }
    )
    return authenticator.tokens


@pytest.fixture
def now() -> list[float]:
    """The rate limiter's monotonic clock: ``now[0]`` seconds, moved by tests."""
    return [1000.0]


@pytest.fixture
def limiter(now: list[float]) -> TokenBucketLimiter:
    return TokenBucketLimiter(burst=100, rate=10.0, clock=lambda: now[0])


@pytest.fixture
def runtime(
    trace: Trace, authenticator: FakeAuthenticator, clock: FixedClock, limiter: TokenBucketLimiter
) -> Runtime:
    """The composition root's runtime around the in-memory facade, with fakes for auth."""
    return runtime_for_tests(
        trace,
        authenticator=authenticator,
        signer=AttachmentUrlSigner(SECRET, PUBLIC, clock=clock),
        limiter=limiter,
    )


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime)


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[httpx2.AsyncClient]:
    async with (
        app.lifespan(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC) as client,
    ):
        yield client


@pytest.fixture
def mcp_client(http: httpx2.AsyncClient) -> McpConnect:
    """Open the official MCP client over Streamable HTTP to ``path`` with a bearer token."""

    @asynccontextmanager
    async def connect(token: str, path: str = "/mcp", **kwargs: Any) -> AsyncIterator[Client]:
        http.headers["Authorization"] = f"Bearer {token}"
        transport = streamable_http_client(f"{PUBLIC}{path}", http_client=http)
        async with Client(transport, **kwargs) as client:
            yield client

    return connect


@pytest.fixture
async def pair(
    trace: Trace, keys: dict[str, Principal], authenticator: FakeAuthenticator, clock: FixedClock
) -> AsyncIterator[Pair]:
    """Clients of two apps on the same facade: one with the direct answer path, one without."""

    def app(direct: bool) -> Litestar:
        runtime = runtime_for_tests(
            trace,
            authenticator=authenticator,
            signer=AttachmentUrlSigner(SECRET, PUBLIC, clock=clock),
            # No limit: both apps answer every request of a comparison.
            limiter=TokenBucketLimiter(burst=1_000_000, rate=1_000_000.0),
        )
        return create_app(runtime, direct_dispatch=direct)

    with_direct, without = app(True), app(False)
    async with (
        with_direct.lifespan(),
        without.lifespan(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=with_direct), base_url=PUBLIC) as a,
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=without), base_url=PUBLIC) as b,
    ):
        yield Pair(a, b)
