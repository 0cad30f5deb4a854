"""``FilesystemBlobStore``: attachment bytes as files under one directory."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterable
from pathlib import Path
from typing import BinaryIO

import anyio.to_thread

from trace_core.errors import InvalidInputError, NotFoundError
from trace_core.ports import BlobStore

__all__ = ["FilesystemBlobStore"]

# Keys are relative paths of plain segments: no "..", no absolute paths, no
# backslashes, no hidden files; nothing a caller passes can leave the root.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_MAX_KEY = 512

READ_CHUNK_BYTES = 256 * 1024
"""Size of the chunks :meth:`FilesystemBlobStore.open_read` yields (the last may be shorter)."""


class FilesystemBlobStore(BlobStore):
    """Stores each blob as a file ``root/<key>``; writes are atomic.

    A write goes to a temporary file in the target directory, is flushed and
    fsynced, then renamed over the target with :func:`os.replace`, so readers
    see the whole old file or the whole new one. File I/O runs in a worker
    thread so it never blocks the event loop.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._root = Path(root).resolve()

    @property
    def root(self) -> Path:
        """The directory the blobs live in."""
        return self._root

    def path_for(self, key: str) -> Path:
        """Return the file path of ``key``.

        Raises:
            InvalidInputError: the key is empty, too long, absolute, or has a
                segment that is not a plain name (e.g. ``..``).

        """
        if not key or len(key) > _MAX_KEY:
            raise InvalidInputError("blob_key", f"must be 1 to {_MAX_KEY} characters")
        segments = key.split("/")
        if not all(_SEGMENT.fullmatch(segment) for segment in segments):
            raise InvalidInputError(
                "blob_key", "must be '/'-separated names of letters, digits, '.', '_' or '-'"
            )
        path = self._root.joinpath(*segments)
        # Second wall: even a symlink inside the root cannot lead outside it.
        if not path.resolve().is_relative_to(self._root):
            raise InvalidInputError("blob_key", "points outside the blob directory")
        return path

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically."""
        path = self.path_for(key)
        await anyio.to_thread.run_sync(_write_atomic, path, data)

    async def get(self, key: str) -> bytes:
        """Return the bytes; NotFoundError if nothing is stored under ``key``."""
        path = self.path_for(key)
        try:
            return await anyio.to_thread.run_sync(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFoundError("blob", key) from exc

    async def open_read(self, key: str) -> AsyncGenerator[bytes, None]:
        """Open the file and return its bytes in chunks of :data:`READ_CHUNK_BYTES`.

        The file is opened here (NotFoundError if it is missing) and closed when
        the chunks run out or the reader calls ``aclose()``. A file replaced
        while it is read is read to its end as it was when it was opened.
        """
        path = self.path_for(key)
        try:
            handle = await anyio.to_thread.run_sync(_open_file, path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFoundError("blob", key) from exc
        return _read_chunks(handle)

    async def write_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Write the chunks to a temporary file, then rename it over ``key`` (atomic).

        Nothing is kept in memory beyond one chunk; if ``chunks`` raises, the
        temporary file is removed and the old file stays.
        """
        path = self.path_for(key)
        tmp, handle = await anyio.to_thread.run_sync(_open_temporary, path)
        written = 0
        try:
            async for chunk in chunks:
                if chunk:
                    await anyio.to_thread.run_sync(handle.write, chunk)
                    written += len(chunk)
            await anyio.to_thread.run_sync(_commit, handle, tmp, path)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(_discard, handle, tmp)
            raise
        return written

    async def delete(self, key: str) -> None:
        """Delete ``key``; a missing key is not an error."""
        path = self.path_for(key)
        await anyio.to_thread.run_sync(_unlink_quietly, path)

    async def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored."""
        path = self.path_for(key)
        return await anyio.to_thread.run_sync(path.is_file)


def _open_file(path: Path) -> BinaryIO:
    if not path.is_file():
        raise FileNotFoundError(path)
    return path.open("rb")


async def _read_chunks(handle: BinaryIO) -> AsyncGenerator[bytes, None]:
    try:
        while chunk := await anyio.to_thread.run_sync(handle.read, READ_CHUNK_BYTES):
            yield chunk
    finally:
        handle.close()


def _open_temporary(path: Path) -> tuple[str, BinaryIO]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    return tmp_name, os.fdopen(fd, "wb")


def _commit(handle: BinaryIO, tmp_name: str, path: Path) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()
    os.replace(tmp_name, path)
    _fsync_dir(path.parent)


def _discard(handle: BinaryIO, tmp_name: str) -> None:
    handle.close()
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp_name)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not possible on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
