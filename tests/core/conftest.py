from __future__ import annotations

from typing import Any

import pytest

from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def blobs() -> InMemoryBlobStore:
    return InMemoryBlobStore()


@pytest.fixture
async def trace(storage: Any, blobs: InMemoryBlobStore, clock: FixedClock) -> Trace:
    """The facade over each storage backend (the root conftest parametrizes ``storage``)."""
    return Trace(storage=storage, blobs=blobs, clock=clock)


@pytest.fixture
async def alice(trace: Trace) -> Principal:
    account = await trace.create_account("alice@example.org", name="Alice")
    return trace.principal_for(account, actor="alice-key", via="api_key")


@pytest.fixture
async def bob(trace: Trace) -> Principal:
    account = await trace.create_account("bob@example.org", name="Bob")
    return trace.principal_for(account, actor="bob-key", via="api_key")


@pytest.fixture
def alice_read(alice: Principal) -> Principal:
    return Principal(
        account_id=alice.account_id,
        scopes=frozenset({Scope.READ}),
        actor="alice-read-key",
        via="api_key",
    )
