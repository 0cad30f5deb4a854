"""What ``benchmarks/search.py`` measures besides the facade: raw engine replays, index size.

:class:`Recorder` stands in for the search index in the ``Trace`` facade: it
times the index calls one search makes and catches every statement they send
to the database, at the driver, whichever way it goes (SQLAlchemy or an
adapter's hand-written fast path). :func:`raw_sqlite` and :func:`raw_postgres`
send those statements again on bare driver connections: the raw engine time
of the same search, which cannot drift from what the adapters send.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from typing import Any
from uuid import UUID

import asyncpg
import sqlalchemy as sa

from trace_core.ports import SearchRequest


class Recorder:
    """The search index, timed, with the statements one search sends caught.

    ``calls`` names the index calls of the last search; ``spent`` is the
    seconds inside the index since the last :meth:`reset`; during
    :meth:`capture` the reads sent to the database are collected in ``sent``
    as (SQL, parameters) ready for the bare driver:

    - SQLite file: the storage's reader connections (where searches run, fast
      path or not) report each statement through ``sqlite3``'s trace callback
      (values inlined); statements on the aiosqlite engine through SQLAlchemy's
      ``before_cursor_execute``;
    - Postgres: SQLAlchemy's ``before_cursor_execute`` (prepared statements)
      and asyncpg's query logger (a fast path calling ``fetch`` directly).

    Only reads count (``SELECT``/``WITH``), and not the row-level-security
    setting (``set_config``): transaction control and the setting are the
    connection's cost, not the search's. A planner setting for one statement
    (``SET LOCAL``, a phrase's count on Postgres) is kept: the bare connection
    sends it with the next read, in a transaction of their own. Catching costs a flag check per
    statement while not capturing (and one ``call_soon`` per asyncpg query).
    """

    def __init__(self, index: Any, storage: Any) -> None:
        self.index = index
        self.calls: list[str] = []
        self.spent = 0.0
        self.sent: list[tuple[str, Any]] = []
        self._capturing = False
        self._logged: weakref.WeakSet[Any] = weakref.WeakSet()
        sa.event.listen(storage.engine.sync_engine, "before_cursor_execute", self._caught)
        sa.event.listen(storage.engine.sync_engine, "checkout", self._checked_out)
        if getattr(storage, "reader", None) is not None:
            sa.event.listen(storage.reader, "checkout", self._checked_out)

    def _keep(self, statement: str, parameters: Any) -> None:
        head = statement.lstrip()[:6].upper()
        if not self._capturing:
            return
        if head in ("SELECT", "WITH") and "set_config" not in statement:
            self.sent.append((statement, parameters))
        elif statement.lstrip().upper().startswith("SET LOCAL "):
            self.sent.append((statement, ()))

    def _caught(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        if isinstance(conn.connection.dbapi_connection, sqlite3.Connection):
            return  # a reader connection: its trace callback reports it (values inlined)
        self._keep(statement, tuple(parameters or ()))

    def _checked_out(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(lambda sql: self._keep(sql, ()))
            return
        driver = getattr(dbapi_connection, "_connection", None)
        if isinstance(driver, asyncpg.Connection) and driver not in self._logged:
            self._logged.add(driver)
            driver.add_query_logger(lambda logged: self._keep(logged.query, logged.args))

    async def capture(self, search: Any) -> Any:
        """Await ``search`` with statement catching on; return its result (``sent`` filled)."""
        self.sent = []
        self._capturing = True
        try:
            return await search
        finally:
            await asyncio.sleep(0)  # asyncpg reports queries with call_soon
            await asyncio.sleep(0)
            self._capturing = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)

    def reset(self) -> None:
        self.calls = []
        self.spent = 0.0

    async def _timed(self, name: str, call: Any) -> Any:
        self.calls.append(name)
        t0 = time.perf_counter()
        try:
            return await call
        finally:
            self.spent += time.perf_counter() - t0

    async def search(self, account_id: UUID, request: SearchRequest) -> Any:
        return await self._timed("search", self.index.search(account_id, request))

    async def count(self, account_id: UUID, request: SearchRequest) -> Any:
        return await self._timed("count", self.index.count(account_id, request))

    async def similar_words(self, account_id: UUID, words: Any) -> Any:
        return await self._timed("similar_words", self.index.similar_words(account_id, words))


SQLITE_CONNECTIONS: dict[str, sqlite3.Connection] = {}


def raw_sqlite(path: str, statements: list[tuple[str, Any]]) -> None:
    """Send ``statements`` on a bare sqlite3 connection to ``path`` (kept open)."""
    conn = SQLITE_CONNECTIONS.get(path)
    if conn is None:
        conn = SQLITE_CONNECTIONS[path] = sqlite3.connect(path)
    for sql, params in statements:
        conn.execute(sql, params).fetchall()


async def raw_postgres(conn: asyncpg.Connection, statements: list[tuple[str, Any]]) -> None:
    """Send ``statements`` on a bare asyncpg connection (a ``SET LOCAL`` with the next one)."""
    setting: str | None = None
    for sql, params in statements:
        if sql.lstrip().upper().startswith("SET LOCAL "):
            setting = sql
            continue
        if setting is None:
            await conn.fetch(sql, *params)
            continue
        async with conn.transaction():
            await conn.execute(setting)
            await conn.fetch(sql, *params)
        setting = None


async def index_size(trace: Any, backend: str) -> dict[str, float]:
    """Return the database's size and its search structures' share, in MB.

    SQLite: pages of the FTS5 tables, the docs table and ``search_words``
    (with their indexes), from ``dbstat``. Postgres: the GIN/GiST indexes on
    ``entries``, the ``search_vector`` and ``search_extra`` columns' bytes and
    ``search_words`` with its indexes. Structures a schema lacks count 0.
    """
    mb = 1024 * 1024
    async with trace.storage.engine.connect() as conn:
        if backend == "sqlite":
            pages = (await conn.execute(sa.text("PRAGMA page_count"))).scalar_one()
            page_size = (await conn.execute(sa.text("PRAGMA page_size"))).scalar_one()
            rows = (
                await conn.execute(
                    sa.text(
                        "SELECT m.tbl_name, sum(s.pgsize) FROM dbstat AS s "
                        "JOIN sqlite_master AS m ON m.name = s.name GROUP BY m.tbl_name"
                    )
                )
            ).all()
            by_table = {name: int(size) for name, size in rows}
            search = sum(
                size
                for name, size in by_table.items()
                if name.startswith("entry_fts") or name in ("entry_search_docs", "search_words")
            )
            extra = (
                await conn.execute(
                    sa.text(
                        "SELECT coalesce(sum(length(CAST(search_extra AS BLOB))), 0) FROM entries"
                    )
                )
                if "search_extra" in await _columns(conn, "entries", sqlite=True)
                else None
            )
            extra_bytes = int(extra.scalar_one()) if extra is not None else 0
            return {
                "database_mb": round(pages * page_size / mb, 1),
                "search_mb": round((search + extra_bytes) / mb, 1),
                "search_words_mb": round(by_table.get("search_words", 0) / mb, 2),
            }
        total = (
            await conn.execute(sa.text("SELECT pg_database_size(current_database())"))
        ).scalar_one()
        gin = (
            await conn.execute(
                sa.text(
                    "SELECT coalesce(sum(pg_relation_size(i.indexrelid)), 0) FROM pg_index AS i "
                    "JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_am AS a ON a.oid = c.relam "
                    "WHERE i.indrelid = 'entries'::regclass AND a.amname IN ('gin', 'gist')"
                )
            )
        ).scalar_one()
        columns = await _columns(conn, "entries", sqlite=False)
        parts = [c for c in ("search_vector", "search_extra") if c in columns]
        column_bytes = 0
        if parts:
            summed = " + ".join(f"coalesce(sum(pg_column_size({c})), 0)" for c in parts)
            column_bytes = (
                await conn.execute(sa.text(f"SELECT {summed} FROM entries"))
            ).scalar_one()
        words = (
            await conn.execute(
                sa.text("SELECT coalesce(pg_total_relation_size(to_regclass('search_words')), 0)")
            )
        ).scalar_one()
        return {
            "database_mb": round(int(total) / mb, 1),
            "search_mb": round((int(gin) + int(column_bytes) + int(words)) / mb, 1),
            "search_words_mb": round(int(words) / mb, 2),
        }


async def _columns(conn: Any, table: str, *, sqlite: bool) -> set[str]:
    if sqlite:
        rows = (await conn.execute(sa.text(f"PRAGMA table_info({table})"))).all()
        return {row[1] for row in rows}
    rows = (
        await conn.execute(
            sa.text("SELECT column_name FROM information_schema.columns WHERE table_name = :t"),
            {"t": table},
        )
    ).all()
    return {row[0] for row in rows}
