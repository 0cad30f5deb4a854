"""A third-party ``BlobStore``: attachment bytes in one SQLite file, on the standard library.

An adapter implements a port of ``trace_core`` (here :class:`~trace_core.BlobStore`:
put, get, delete, exists; the port's streaming reads and writes, presigned URLs
and ``close`` have defaults built on those four, and only ``close`` is overridden
here), translates its driver's errors into Trace's errors at its edge, and proves
itself with the port's contract suite (``test_sqlite_blob_store.py`` beside this
file). The Trace facade takes it like any other:
``Trace(storage=..., blobs=SqliteBlobStore("blobs.db"))``.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread

from trace_core import BlobStore, NotFoundError, UnavailableError

T = TypeVar("T")


class SqliteBlobStore(BlobStore):
    """Blobs as rows of one SQLite table; calls run in a worker thread, one at a time.

    Args:
        path: the database file (created with its table if missing).

    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB NOT NULL)"
        )

    async def _run(self, call: Callable[[], T]) -> T:
        def locked() -> T:
            with self._lock:
                try:
                    return call()
                except sqlite3.Error as exc:
                    # The adapter's edge: a driver error becomes one of Trace's errors.
                    raise UnavailableError(f"blob store: {exc}") from exc

        return await anyio.to_thread.run_sync(locked)

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there, in one statement."""
        statement = (
            "INSERT INTO blobs (key, data) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET data = excluded.data"
        )
        await self._run(lambda: self._db.execute(statement, (key, data)))

    async def get(self, key: str) -> bytes:
        """Return the bytes under ``key``; :class:`NotFoundError` when there are none."""
        query = "SELECT data FROM blobs WHERE key = ?"
        row = await self._run(lambda: self._db.execute(query, (key,)).fetchone())
        if row is None:
            raise NotFoundError("blob", key)
        return bytes(row[0])

    async def delete(self, key: str) -> None:
        """Delete ``key``; a missing key is fine."""
        await self._run(lambda: self._db.execute("DELETE FROM blobs WHERE key = ?", (key,)))

    async def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored."""
        query = "SELECT 1 FROM blobs WHERE key = ?"
        return await self._run(lambda: self._db.execute(query, (key,)).fetchone() is not None)

    async def close(self) -> None:
        """Close the database (the port's hook for releasing what a store holds)."""
        await self._run(self._db.close)
