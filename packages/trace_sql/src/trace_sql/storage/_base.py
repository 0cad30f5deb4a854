"""What every repository shares: running a statement on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from trace_sql.errors import translated_errors

# Keeps IN (...) lists well under SQLite's bound-parameter limit.
CHUNK = 500

# The connection's ``info`` key counting entries inserted in this unit of work: a
# large bulk insert refreshes Postgres planner statistics after the commit
# (``_storage._refresh_statistics``).
BULK_ROWS = "trace_bulk_rows"


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Yield ``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class SqlRepository:
    """Runs statements on the unit of work's connection, translating driver errors."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def _execute(
        self,
        statement: sa.Executable,
        params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        *,
        conflict: str | None = None,
        slow: bool = False,
    ) -> sa.CursorResult[Any]:
        # ``slow``: a read that may scan many rows. On the inline SQLite reader it
        # runs in a worker thread, so it does not hold the event loop.
        run = self._conn.execute
        if slow and isinstance(self._conn, InlineConnection):
            run = self._conn.execute_in_thread
        with translated_errors(conflict=conflict):
            if params is None:
                return await run(statement)
            return await run(statement, params)


class InlineConnection:
    """A synchronous SQLAlchemy connection behind the ``AsyncConnection`` calls repositories make.

    Statements run on the calling (event loop) thread; the awaitables never
    suspend. Results are the same buffered ``CursorResult`` objects an
    ``AsyncConnection`` returns.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._conn = connection

    @property
    def dialect(self) -> sa.Dialect:
        return self._conn.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self._conn.info

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.execute(statement, parameters, **kw)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.exec_driver_sql(statement, parameters, **kw)

    async def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.scalar(statement, parameters, **kw)

    async def execute_in_thread(self, statement: Any, parameters: Any = None) -> Any:
        """Run a statement that may scan many rows in a worker thread (the loop stays free).

        The connection is used by one task at a time, so handing it to a thread
        for the duration of the call is safe (file connections are not bound to
        their creating thread).
        """
        return await anyio.to_thread.run_sync(partial(self._conn.execute, statement, parameters))
