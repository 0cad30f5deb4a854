"""What ``benchmarks/search.py`` measures besides the facade: raw engine replays, index size.

:class:`Recorder` stands in for the search index in the ``Trace`` facade and
records the calls one search makes (and the time spent in them);
:func:`replayed` turns them into the adapter's own engine statements, which
:func:`raw_sqlite` and :func:`raw_postgres` send on bare driver connections.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any
from uuid import UUID

import asyncpg
import msgspec
import sqlalchemy as sa

from trace_core.ports import SearchIndex, SearchRequest


class Recorder:
    """The search index, with what the facade asks it and the time spent in it.

    ``calls`` holds the last search's index calls: (method, argument, the
    statements that went through SQLAlchemy during the call); ``spent`` the
    seconds inside the index since the last :meth:`reset`. Statements are
    caught by a ``before_cursor_execute`` listener on the storage's engines
    (the statement and its parameters as the driver gets them); a fast path
    that talks to the driver directly is not seen there, and is rebuilt from
    the adapter's statement builders instead (:func:`replayed`).
    """

    def __init__(self, index: Any, storage: Any) -> None:
        self.index = index
        self.calls: list[tuple[str, Any, list[tuple[str, Any]]]] = []
        self.spent = 0.0
        self._sent: list[tuple[str, Any]] | None = None
        engines = [storage.engine.sync_engine]
        if getattr(storage, "reader", None) is not None:
            engines.append(storage.reader)
        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", self._caught)

    def _caught(
        self,
        conn: Any,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        # Reads only; the row-level-security setting is not the search's work.
        head = statement.lstrip()[:6].upper()
        if self._sent is not None and head in ("SELECT", "WITH") and "set_config" not in statement:
            self._sent.append((statement, parameters))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.index, name)

    def reset(self) -> None:
        self.calls = []
        self.spent = 0.0

    async def _timed(self, name: str, argument: Any, call: Any) -> Any:
        sent: list[tuple[str, Any]] = []
        self.calls.append((name, argument, sent))
        self._sent = sent
        t0 = time.perf_counter()
        try:
            return await call
        finally:
            self.spent += time.perf_counter() - t0
            self._sent = None

    async def search(self, account_id: UUID, request: SearchRequest) -> Any:
        return await self._timed("search", request, self.index.search(account_id, request))

    async def count(self, account_id: UUID, request: SearchRequest) -> Any:
        return await self._timed("count", request, self.index.count(account_id, request))

    async def similar_words(self, account_id: UUID, words: Any) -> Any:
        call = self.index.similar_words(account_id, words)
        return await self._timed("similar_words", tuple(words), call)


def replayed(
    index: Any, calls: list[tuple[str, Any, list[tuple[str, Any]]]]
) -> tuple[list[tuple[str, Any]], list[str]]:
    """Return the engine statements of recorded index calls, and the calls not replayed.

    A call whose statements went through SQLAlchemy is replayed as sent
    ("sent"). A search that went to the driver directly (the fast path) is
    rebuilt with the adapter's own ``ranked_statement`` (and SQLite's
    ``prefix_statement``), a count with ``count_statement`` where the adapter
    has one, so "raw" cannot drift from what it sends. Anything else (an index
    call that sent nothing we can see or rebuild) is listed as not replayed:
    its time counts as ours.
    """
    out: list[tuple[str, Any]] = []
    skipped: list[str] = []
    for name, argument, sent in calls:
        if sent:
            out += [("sent", statement) for statement in sent]
        elif name == "search" and hasattr(index, "ranked_statement"):
            out.append(("search", (argument.parsed_query(), argument)))
        elif name == "count" and hasattr(index, "count_statement"):
            out.append(("count", (argument.parsed_query(), argument)))
        elif name != "similar_words" or _overrides(index, "similar_words"):
            # (The protocol's own similar_words answers {} without the engine.)
            skipped.append(name)
    return out, skipped


def _overrides(index: Any, method: str) -> bool:
    return getattr(type(index), method, None) is not getattr(SearchIndex, method, None)


def raw_sqlite(
    index: Any, dialect: Any, path: str, account_id: UUID, statements: list[tuple[str, Any]]
) -> None:
    """The adapter's statements for one search, on a bare sqlite3 connection (kept open)."""
    conn = SQLITE_CONNECTIONS.get(path)
    if conn is None:
        conn = SQLITE_CONNECTIONS[path] = sqlite3.connect(path)
    for kind, argument in statements:
        if kind == "sent":
            conn.execute(*argument).fetchall()
            continue
        parsed, request = argument
        word = parsed.prefix_word
        if word is not None and hasattr(index, "prefix_statement"):
            # The adapter's "is the last word already a common word in the account?" count.
            count = conn.execute(*index.prefix_statement(dialect, account_id, word)).fetchone()[0]
            if count >= index.prefix_limit:
                parsed = msgspec.structs.replace(parsed, prefix_last=False)
        build = index.ranked_statement if kind == "search" else index.count_statement
        sql, params = build(dialect, account_id, parsed, request)
        conn.execute(sql, params).fetchall()


SQLITE_CONNECTIONS: dict[str, sqlite3.Connection] = {}


async def raw_postgres(
    index: Any,
    dialect: Any,
    conn: asyncpg.Connection,
    account_id: UUID,
    statements: list[tuple[str, Any]],
) -> None:
    """The adapter's statements for one search, on a bare asyncpg connection."""
    for kind, argument in statements:
        if kind == "sent":
            sql, params = argument
            await conn.fetch(sql, *params)
            continue
        parsed, request = argument
        build = index.ranked_statement if kind == "search" else index.count_statement
        sql, params = build(dialect, account_id, parsed, request)
        await conn.fetch(sql, *params)


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
