"""``SqliteBlobStore`` proved by Trace's shipped contract suite, plus what only it promises.

Subclassing ``BlobStoreContract`` and providing a ``blobs`` fixture (a fresh,
empty store) is all it takes: ``pytest`` runs every test of the suite against
this adapter. No conftest is needed; ``pip install "trace-core[testing]"`` brings
pytest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlite_blob_store import SqliteBlobStore

from trace_core.testing.contracts import BlobStoreContract


class TestSqliteBlobStore(BlobStoreContract):
    """The contract every ``BlobStore`` meets, run against ``SqliteBlobStore``."""

    @pytest.fixture
    async def blobs(self, tmp_path: Path) -> AsyncIterator[SqliteBlobStore]:
        """Yield a fresh, empty store for each test: the one fixture the suite asks for."""
        store = SqliteBlobStore(tmp_path / "blobs.db")
        yield store
        await store.close()

    async def test_blobs_survive_reopening_the_file(self, tmp_path: Path) -> None:
        """Beyond the contract: what this adapter promises on its own."""
        first = SqliteBlobStore(tmp_path / "kept.db")
        await first.put("a/b", b"kept")
        await first.close()
        again = SqliteBlobStore(tmp_path / "kept.db")
        try:
            assert await again.get("a/b") == b"kept"
        finally:
            await again.close()
