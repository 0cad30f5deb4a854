from __future__ import annotations

from pathlib import Path

import pytest

from trace_core.model import Principal
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock
from trace_sql import FilesystemBlobStore, SqlStorage


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def files(tmp_path: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(tmp_path / "blobs")


@pytest.fixture
def trace(sql_storage: SqlStorage, files: FilesystemBlobStore, clock: FixedClock) -> Trace:
    """The facade over each SQL backend (sqlite file, postgres) with files on disk."""
    return Trace(storage=sql_storage, blobs=files, clock=clock)


@pytest.fixture
async def alice(trace: Trace) -> Principal:
    account = await trace.create_account("alice@example.org", name="Alice")
    return trace.principal_for(account, actor="alice-key", via="api_key")
