"""FilesystemBlobStore: keys cannot leave the root, writes are atomic."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trace_core.errors import InvalidInputError
from trace_sql import FilesystemBlobStore
from trace_sql.blobs import READ_CHUNK_BYTES

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../outside",
        "a/../../outside",
        "/etc/passwd",
        "a//b",
        "a/./b",
        ".hidden",
        "a\\..\\b",
        "trailing/",
        "x" * 600,
        "nul\x00byte",
    ],
)
async def test_a_key_that_is_not_a_plain_relative_path_is_refused(tmp_path: Path, key: str) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    for operation in (store.get, store.exists, store.delete):
        with pytest.raises(InvalidInputError) as info:
            await operation(key)
        assert info.value.field == "blob_key"
    with pytest.raises(InvalidInputError):
        await store.put(key, b"x")
    assert not (tmp_path / "outside").exists()


async def test_a_symlink_inside_the_root_cannot_lead_outside_it(tmp_path: Path) -> None:
    root = tmp_path / "blobs"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    store = FilesystemBlobStore(root)
    with pytest.raises(InvalidInputError):
        await store.put("link/file", b"x")
    assert list(outside.iterdir()) == []


async def test_blobs_are_files_under_the_root_and_writes_leave_no_temporary_files(
    tmp_path: Path,
) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    await store.put("acct/one.png", b"first")
    await store.put("acct/one.png", b"second")
    assert (tmp_path / "blobs" / "acct" / "one.png").read_bytes() == b"second"
    assert sorted(os.listdir(tmp_path / "blobs" / "acct")) == ["one.png"]


async def test_a_failed_write_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    await store.put("k", b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.put("k", b"new")
    monkeypatch.undo()
    assert await store.get("k") == b"old"
    assert sorted(os.listdir(tmp_path / "blobs")) == ["k"]


async def test_a_file_is_read_in_bounded_chunks(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    data = os.urandom(READ_CHUNK_BYTES * 3 + 17)
    await store.put("k", data)
    reader = await store.open_read("k")
    chunks = [chunk async for chunk in reader]
    assert b"".join(chunks) == data
    assert len(chunks) == 4
    assert max(map(len, chunks)) == READ_CHUNK_BYTES


async def test_a_streamed_write_that_fails_leaves_no_temporary_file(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    await store.put("acct/k", b"old")

    async def broken() -> AsyncIterator[bytes]:
        yield b"part"
        raise OSError("the client went away")

    with pytest.raises(OSError, match="went away"):
        await store.write_stream("acct/k", broken())
    assert sorted(os.listdir(tmp_path / "blobs" / "acct")) == ["k"]
    assert await store.get("acct/k") == b"old"


async def test_a_streamed_write_to_a_bad_key_is_refused_before_reading(tmp_path: Path) -> None:
    store = FilesystemBlobStore(tmp_path / "blobs")
    read: list[bytes] = []

    async def chunks() -> AsyncIterator[bytes]:
        read.append(b"x")
        yield b"x"

    with pytest.raises(InvalidInputError):
        await store.write_stream("../outside", chunks())
    with pytest.raises(InvalidInputError):
        await store.open_read("../outside")
    assert read == []
