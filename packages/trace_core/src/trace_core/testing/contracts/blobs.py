"""The contract every :class:`~trace_core.ports.BlobStore` must meet.

Subclass :class:`BlobStoreContract` and provide a ``blobs`` fixture yielding an
empty store (and an ``anyio_backend`` fixture). The streaming cases write more
than :data:`LARGE_BYTES` in small chunks, enough for an object store to need a
multipart upload (S3's parts are at least 5 MiB); a store that serves its own
download URLs is fetched from over HTTP (standard library only).
"""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator, Iterable

import anyio
import anyio.to_thread
import pytest

from trace_core.errors import NotFoundError
from trace_core.ports import BlobStore

__all__ = ["BlobStoreContract"]

KEY = "0f1e2d3c/attachment-1.png"

LARGE_BYTES = 12 * 1024 * 1024 + 12_345
"""A blob larger than two S3 multipart parts, not a whole number of chunks."""


class StreamBrokeError(Exception):
    """What a failing upload stream raises in these tests."""


async def _chunks(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def _failing(chunks: Iterable[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
    raise StreamBrokeError


async def _read_all(blobs: BlobStore, key: str) -> bytes:
    reader = await blobs.open_read(key)
    return b"".join([chunk async for chunk in reader])


def _large() -> bytes:
    pattern = bytes(range(251))  # a prime length, so no part or chunk repeats another
    return (pattern * (LARGE_BYTES // len(pattern) + 1))[:LARGE_BYTES]


def _fetch(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers.get("Content-Type")


@pytest.mark.anyio
class BlobStoreContract:
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

    # --- streaming ------------------------------------------------------------------

    async def test_a_stream_written_in_chunks_reads_back_exactly(self, blobs: BlobStore) -> None:
        data = bytes(range(256)) * 4000
        assert await blobs.write_stream(KEY, _chunks(data, 10_000)) == len(data)
        assert await _read_all(blobs, KEY) == data
        assert await blobs.get(KEY) == data

    async def test_a_large_stream_round_trips(self, blobs: BlobStore) -> None:
        data = _large()
        with anyio.fail_after(120):
            assert await blobs.write_stream(KEY, _chunks(data, 64 * 1024)) == len(data)
            assert await _read_all(blobs, KEY) == data

    async def test_an_empty_stream_stores_empty_bytes(self, blobs: BlobStore) -> None:
        assert await blobs.write_stream(KEY, _chunks(b"", 1)) == 0
        assert await blobs.exists(KEY)
        assert await _read_all(blobs, KEY) == b""

    async def test_a_stream_replaces_what_was_stored(self, blobs: BlobStore) -> None:
        await blobs.put(KEY, b"old contents, longer than the new ones")
        await blobs.write_stream(KEY, _chunks(b"new", 1))
        assert await blobs.get(KEY) == b"new"

    async def test_a_stream_that_fails_stores_nothing(self, blobs: BlobStore) -> None:
        with pytest.raises(StreamBrokeError):
            await blobs.write_stream(KEY, _failing([b"half an image"]))
        assert not await blobs.exists(KEY)

    async def test_a_large_stream_that_fails_keeps_the_old_value(self, blobs: BlobStore) -> None:
        await blobs.put(KEY, b"old")
        data = _large()
        parts = [data[i : i + 1024 * 1024] for i in range(0, len(data), 1024 * 1024)]
        with anyio.fail_after(120), pytest.raises(StreamBrokeError):
            await blobs.write_stream(KEY, _failing(parts[:-1]))
        assert await blobs.get(KEY) == b"old"

    async def test_opening_a_missing_key_is_not_found_before_any_chunk(
        self, blobs: BlobStore
    ) -> None:
        with pytest.raises(NotFoundError):
            await blobs.open_read(KEY)

    async def test_a_reader_closed_early_releases_the_store(self, blobs: BlobStore) -> None:
        data = _large()
        await blobs.write_stream(KEY, _chunks(data, 1024 * 1024))
        with anyio.fail_after(60):
            # More readers than a connection pool holds: each must give its connection back.
            for _ in range(24):
                reader = await blobs.open_read(KEY)
                first = await anext(reader)
                assert data.startswith(first)
                await reader.aclose()
            assert await blobs.exists(KEY)
            await blobs.delete(KEY)
            assert not await blobs.exists(KEY)

    # --- download URLs --------------------------------------------------------------

    async def test_a_presigned_url_serves_the_bytes_when_the_store_has_one(
        self, blobs: BlobStore
    ) -> None:
        data = bytes(range(256)) * 10
        await blobs.put(KEY, data)
        url = await blobs.presigned_url(
            KEY, ttl_seconds=300, content_type="image/png", filename="photo.png"
        )
        if url is None:
            return  # the store serves no URLs of its own: callers stream (open_read)
        with anyio.fail_after(30):
            body, content_type = await anyio.to_thread.run_sync(_fetch, url)
        assert body == data
        assert content_type == "image/png"
