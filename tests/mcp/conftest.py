"""Fixtures for the MCP tool tests: the real Trace facade on in-memory adapters.

``connect(principal)`` opens the official SDK client in-process against a
:class:`~trace_mcp.TraceMcp` acting for that principal.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from mcp_tool_support import PUBLIC_URL, SECRET, Connect

from mcp import Client
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_mcp import AttachmentUrlSigner, McpOptions, TraceMcp


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
async def alice(trace: Trace) -> Principal:
    account = await trace.create_account("alice@example.com")
    return Principal(
        account_id=account.account_id,
        scopes=frozenset({Scope.FULL}),
        actor="alice-laptop",
        via="api_key",
        credential_id="key-alice",
    )


@pytest.fixture
async def bob(trace: Trace) -> Principal:
    account = await trace.create_account("bob@example.com")
    return Principal(
        account_id=account.account_id,
        scopes=frozenset({Scope.FULL}),
        actor="bob-key",
        via="api_key",
        credential_id="key-bob",
    )


@pytest.fixture
def connect(trace: Trace, clock: FixedClock) -> Connect:
    @asynccontextmanager
    async def _connect(principal: Principal, **options: Any) -> AsyncIterator[Client]:
        mcp = TraceMcp(
            trace,
            options=McpOptions(public_url=PUBLIC_URL, **options),
            signer=AttachmentUrlSigner(SECRET, PUBLIC_URL, clock=clock),
            principal=principal,
        )
        async with Client(mcp.server) as client:
            yield client

    return _connect


@pytest.fixture
async def client(connect: Connect, alice: Principal) -> AsyncIterator[Client]:
    async with connect(alice) as c:
        yield c
