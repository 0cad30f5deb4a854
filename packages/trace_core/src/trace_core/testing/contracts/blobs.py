"""The contract every :class:`~trace_core.ports.BlobStore` must meet.

Subclass :class:`BlobStoreContract` and provide a ``blobs`` fixture yielding an
empty store (and an ``anyio_backend`` fixture).
"""

from __future__ import annotations

import anyio
import pytest

from trace_core.errors import NotFoundError
from trace_core.ports import BlobStore
from trace_core.testing.contracts._base import ContractSuite

__all__ = ["BlobStoreContract"]

KEY = "0f1e2d3c/attachment-1.png"


class BlobStoreContract(ContractSuite):
    """Bytes by key: exact round-trip, replace, idempotent delete, not-found on get."""

    async def test_stored_bytes_come_back_exactly(self, blobs: BlobStore) -> None:
        data = bytes(range(256)) * 1000
        await blobs.put(KEY, data)
        assert await blobs.get(KEY) == data
        assert await blobs.exists(KEY)

    async def test_empty_bytes_are_stored(self, blobs: BlobStore) -> None:
        await blobs.put(KEY, b"")
        assert await blobs.get(KEY) == b""
        assert await blobs.exists(KEY)

    async def test_a_missing_key_is_not_found(self, blobs: BlobStore) -> None:
        assert not await blobs.exists(KEY)
        with pytest.raises(NotFoundError):
            await blobs.get(KEY)

    async def test_put_replaces_what_was_stored(self, blobs: BlobStore) -> None:
        await blobs.put(KEY, b"old contents, longer than the new ones")
        await blobs.put(KEY, b"new")
        assert await blobs.get(KEY) == b"new"

    async def test_delete_removes_and_deleting_again_is_fine(self, blobs: BlobStore) -> None:
        await blobs.put(KEY, b"x")
        await blobs.delete(KEY)
        await blobs.delete(KEY)
        assert not await blobs.exists(KEY)
        with pytest.raises(NotFoundError):
            await blobs.get(KEY)

    async def test_keys_are_independent(self, blobs: BlobStore) -> None:
        await blobs.put("a/one", b"1")
        await blobs.put("a/two", b"2")
        await blobs.put("b/one", b"3")
        await blobs.delete("a/one")
        assert [await blobs.exists(k) for k in ("a/one", "a/two", "b/one")] == [False, True, True]
        assert await blobs.get("b/one") == b"3"

    async def test_concurrent_writers_to_one_key_leave_one_whole_value(
        self, blobs: BlobStore
    ) -> None:
        values = [bytes([i]) * 200_000 for i in range(8)]
        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for value in values:
                    tg.start_soon(blobs.put, KEY, value)
        assert await blobs.get(KEY) in values
