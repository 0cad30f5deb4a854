"""SQLite FTS5 search: sixteen FTS5 tables by account, bm25 ranking, one fast statement."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
import sqlalchemy as sa

from trace_core.model import EntryFilter, SearchHit
from trace_core.ports import ProgressCallback, SearchRequest, Storage
from trace_core.search import ParsedQuery
from trace_core.search_text import typo_distance
from trace_sql.errors import translated_errors
from trace_sql.search._common import (
    _UNAVAILABLE,
    MAX_CANDIDATES,
    DriverCodec,
    SqlSearchIndex,
    match_of,
    nearest,
    needs_entries,
    rebuild_search_fields,
    search_hits,
    vocabulary_words,
)
from trace_sql.search._fts5 import (
    ARCHIVED_TOKEN,
    BM25_WEIGHTS,
    FTS_SHARDS,
    INBOX_TOKEN,
    account_match,
    counted_match,
    fts5_match,
    fts_table,
    word_match,
)
from trace_sql.storage import SqlStorage
from trace_sql.tables import entries
from trace_sql.types import UTCDateTime

K = TypeVar("K")
V = TypeVar("V")

__all__ = [
    "FTS_SHARDS",
    "SqliteSearchIndex",
    "account_match",
    "fts5_match",
    "fts_table",
]

_FTS: dict[str, tuple[sa.TableClause, sa.ColumnClause[Any]]] = {
    f"entry_fts_{digit}": (
        sa.table(f"entry_fts_{digit}", sa.column("rowid", sa.Integer())),
        sa.literal_column(f"entry_fts_{digit}"),
    )
    for digit in FTS_SHARDS
}
_docs = sa.table(
    "entry_search_docs",
    sa.column("doc_id", sa.Integer()),
    sa.column("entry_id", sa.Uuid()),
    sa.column("account_id", sa.Uuid()),
    sa.column("stream_id", sa.Uuid()),
    sa.column("is_archived", sa.Boolean()),
    sa.column("entry_date", sa.Date()),
    sa.column("created_at", UTCDateTime()),
)


_DOC_COLUMNS = "entry_id, account_id, stream_id, is_archived, entry_date, created_at"
_REBUILD_DOCS = (
    f"INSERT INTO entry_search_docs ({_DOC_COLUMNS}) "  # noqa: S608 - constants only
    f"SELECT {_DOC_COLUMNS} FROM entries WHERE deleted_at IS NULL ORDER BY created_at"
)
_REBUILD_FTS = (
    "INSERT INTO {fts} (rowid, title, content, tags, stream, files, extra, account) "  # noqa: S608
    "SELECT d.doc_id, coalesce(e.title, ''), e.content, "
    "(SELECT coalesce(group_concat(value, ' '), '') FROM json_each(e.tags)), "
    "coalesce((SELECT s.name FROM streams AS s "
    "WHERE s.account_id = e.account_id AND s.stream_id = e.stream_id), ''), "
    "(SELECT coalesce(group_concat(a.filename, ' '), '') FROM attachments AS a "
    "WHERE a.account_id = e.account_id AND a.entry_id = e.entry_id "
    "AND a.removed_at IS NULL AND a.filename IS NOT NULL), "
    "e.search_extra, 'a' || d.account_id || '0' "
    f"|| CASE WHEN e.stream_id IS NULL THEN ' {INBOX_TOKEN}' ELSE ' s' || e.stream_id || '0' END "
    f"|| CASE WHEN e.is_archived THEN ' {ARCHIVED_TOKEN}' ELSE '' END "
    "FROM entry_search_docs AS d JOIN entries AS e ON e.entry_id = d.entry_id "
    "WHERE lower(substr(d.account_id, -1)) = '{digit}' ORDER BY d.doc_id"
)


def _doc_clauses(filters: EntryFilter) -> list[sa.ColumnElement[bool]]:
    """Return the filters ``entry_search_docs`` can answer without the entries table."""
    d = _docs.c
    clauses: list[sa.ColumnElement[bool]] = []
    if filters.stream == "inbox":
        clauses.append(d.stream_id.is_(None))
    elif isinstance(filters.stream, UUID):
        clauses.append(d.stream_id == filters.stream)
    if filters.is_archived is not None:
        clauses.append(d.is_archived.is_(filters.is_archived))
    if filters.start_date is not None:
        clauses.append(d.entry_date >= filters.start_date)
    if filters.end_date is not None:
        clauses.append(d.entry_date <= filters.end_date)
    if filters.created_after is not None:
        clauses.append(d.created_at >= filters.created_after)
    if filters.created_before is not None:
        clauses.append(d.created_at < filters.created_before)
    return clauses


def _token_filters_only(filters: EntryFilter) -> bool:
    """Whether ``filters`` test nothing but the stream and archive flag (FTS5 tokens)."""
    return (
        filters.start_date is None
        and filters.end_date is None
        and filters.created_after is None
        and filters.created_before is None
    )


class _Remembered(Generic[K, V]):
    """Answers remembered for a minute (bounded; cleared when full).

    Used for what only steers speed, never results: whether a last word is
    common enough to be complete, whether an account is alone in its FTS5 table.
    A stale answer costs a little time for at most ``ttl`` seconds.
    """

    def __init__(self, ttl: float = 60.0, size: int = 4096) -> None:
        self.ttl = ttl
        self.size = size
        self._values: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        found = self._values.get(key)
        if found is None or time.monotonic() - found[0] > self.ttl:
            return None
        return found[1]

    def put(self, key: K, value: V) -> V:
        if len(self._values) >= self.size:
            self._values.clear()
        self._values[key] = (time.monotonic(), value)
        return value


_SIMILAR_SQL = (
    "SELECT word FROM search_words WHERE account_id = ? AND word >= ? AND word < ?"
    " AND length(word) BETWEEN ? AND ? LIMIT ?"
)
"""The account's words starting with a letter, of a length range (``similar_words_scan``)."""

_WEIGHTS = ", ".join(str(w) for w in BM25_WEIGHTS)

_ALONE_SQL = (
    "SELECT 1 FROM accounts WHERE lower(substr(account_id, -1)) = ? AND account_id != ? LIMIT 1"
)
"""A row if another account shares the account's FTS5 table (:func:`fts_table`)."""


class _SqliteCodec(DriverCodec):
    """SQL text and value conversion for the SQLite fast path, built once per dialect."""

    _cache: dict[int, _SqliteCodec] = {}

    def __init__(self, dialect: Any) -> None:
        self.result = [
            entries.c[name].type.dialect_impl(dialect).result_processor(dialect, None)
            for name in self.columns
        ]
        self.bind = {c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in _docs.c}
        selected = ", ".join(f"e.{name}" for name in self.columns)
        self.template = (
            f"SELECT {selected}, p.rank FROM ("  # noqa: S608 - column names and constants
            " SELECT * FROM ("
            f"  SELECT d.entry_id, bm25({{fts}}, {_WEIGHTS}) AS rank, d.entry_date, d.created_at"
            "  FROM {fts} JOIN entry_search_docs AS d ON d.doc_id = {fts}.rowid"
            "  WHERE {fts} MATCH ? AND d.account_id = ? {filters}"
            "  ORDER BY {fts}.rowid DESC LIMIT ?"
            " ) ORDER BY rank, entry_date DESC, created_at DESC, entry_id DESC LIMIT ? OFFSET ?"
            ") AS p JOIN entries AS e ON e.entry_id = p.entry_id"
            " ORDER BY p.rank, p.entry_date DESC, p.created_at DESC, p.entry_id DESC"
        )

    @classmethod
    def get(cls, dialect: Any) -> _SqliteCodec:
        codec = cls._cache.get(id(dialect))
        if codec is None:
            codec = cls._cache[id(dialect)] = cls(dialect)
        return codec

    def account_hex(self, account_id: UUID) -> str:
        return str(self._value("account_id", account_id))

    def count_query(
        self,
        account_id: UUID,
        filters: EntryFilter,
        match: str,
        *,
        alone: bool = False,
        limit: int | None = None,
    ) -> tuple[str, list[Any]]:
        """Return the statement counting the account's matching documents (no ranking).

        Filtered by stream and archive flag at most (the common case): FTS5
        alone counts, by the account's tokens (:func:`counted_match`). Date
        filters: each match is checked in ``entry_search_docs``. With
        ``limit``, counting stops after that many matches.
        """
        sql, params = self._count_all(account_id, filters, match, alone=alone)
        if limit is None:
            return sql, params
        capped = sql.replace("SELECT count(*) FROM", "SELECT 1 FROM", 1)
        return f"SELECT count(*) FROM ({capped} LIMIT {int(limit)})", params  # noqa: S608

    def _count_all(
        self, account_id: UUID, filters: EntryFilter, match: str, *, alone: bool
    ) -> tuple[str, list[Any]]:
        account_hex = self.account_hex(account_id)
        fts = fts_table(account_hex)
        if _token_filters_only(filters):
            stream = (
                str(self._value("stream_id", filters.stream))
                if isinstance(filters.stream, UUID)
                else filters.stream
            )
            sql = f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?"  # noqa: S608 - constants
            return sql, [counted_match(account_hex, match, filters.is_archived, stream)]
        conditions, params = self._filters(filters)
        sql = (
            f"SELECT count(*) FROM {fts} JOIN entry_search_docs AS d"  # noqa: S608 - constants
            f" ON d.doc_id = {fts}.rowid WHERE {fts} MATCH ? AND d.account_id = ?"
            + "".join(f" AND {c}" for c in conditions)
        )
        return sql, [account_match(account_hex, match, alone=alone), account_hex, *params]

    def _filters(self, filters: EntryFilter) -> tuple[list[str], list[Any]]:
        """Return the docs-table conditions (``d.``) of ``filters`` and their parameters."""
        conditions: list[str] = []
        params: list[Any] = []
        if filters.stream == "inbox":
            conditions.append("d.stream_id IS NULL")
        elif isinstance(filters.stream, UUID):
            conditions.append("d.stream_id = ?")
            params.append(self._value("stream_id", filters.stream))
        bounds = (
            ("is_archived", "=", filters.is_archived),
            ("entry_date", ">=", filters.start_date),
            ("entry_date", "<=", filters.end_date),
            ("created_at", ">=", filters.created_after),
            ("created_at", "<", filters.created_before),
        )
        for column, op, value in bounds:
            if value is not None:
                conditions.append(f"d.{column} {op} ?")
                params.append(self._value(column, value))
        return conditions, params

    def ranked_query(
        self,
        account_id: UUID,
        filters: EntryFilter,
        match: str,
        *,
        window: int,
        limit: int,
        offset: int,
        alone: bool = False,
    ) -> tuple[str, list[Any]]:
        account_hex = self.account_hex(account_id)
        conditions, filter_params = self._filters(filters)
        params = [account_match(account_hex, match, alone=alone), account_hex, *filter_params]
        sql = self.template.replace("{fts}", fts_table(account_hex)).replace(
            "{filters}", "".join(f" AND {c}" for c in conditions)
        )
        return sql, [*params, window, limit, offset]


class SqliteSearchIndex(SqlSearchIndex):
    """FTS5 search with bm25 ranking (title above tags above content) and snippets.

    Ranking is exact bm25 over every match while a query matches at most
    ``rank_window`` of the account's entries. Beyond that, bm25 ranks the
    ``rank_window`` most recently written matches: FTS5 has no top-k pruning,
    so ranking every match of a very common word would cost time linear in the
    account's size, and for notes the recent matches are the ones wanted.

    The last word is matched as a prefix (the person may still be typing it)
    unless it already matches ``prefix_limit`` of the account's entries as a
    whole word.

    Sixteen FTS5 tables share the accounts, by the last hex digit of the
    account id (:func:`fts_table`): a query reads its account's table only, so
    bm25's document counts and length averages cover the accounts sharing
    that digit, not every tenant. Each query also matches the account's token
    in the ``account`` column (:func:`account_match`), so FTS5 skips the
    postings of the table's other accounts; and the docs table's
    ``account_id`` is checked too.

    Args:
        storage: a SQLite storage migrated to ``0102_search_shards``.
        rank_window: the most matches bm25 ranks for one query.
        prefix_limit: how common a last word must be to be taken as complete.
        fast_path: answer searches whose filters the docs table holds with one
            hand-written statement on the driver connection (default); False
            runs every search through SQLAlchemy.

    """

    _driver_errors = (sqlite3.Error,)

    def __init__(
        self,
        storage: SqlStorage,
        *,
        rank_window: int = 500,
        prefix_limit: int = 1000,
        fast_path: bool = True,
    ) -> None:
        super().__init__(storage, fast_path=fast_path)
        self.rank_window = rank_window
        self.prefix_limit = prefix_limit
        # How many of an account's entries a word matches (capped at prefix_limit).
        self._term_counts: _Remembered[tuple[str, str], int] = _Remembered(size=2048)
        self._alone: _Remembered[str, bool] = _Remembered()

    @asynccontextmanager
    async def _driver_connection(self, account_id: UUID) -> AsyncIterator[tuple[Any, sa.Dialect]]:
        reader = self._storage.reader
        if reader is None:
            async with super()._driver_connection(account_id) as found:
                yield found
            return
        # SQLite file: on the loop's thread, like the storage's other reads.
        with reader.connect() as sync_conn:
            yield _InlineDriver(sync_conn.connection.driver_connection), sync_conn.dialect

    async def _fast_search(
        self,
        driver: Any,
        dialect: Any,
        account_id: UUID,
        query: ParsedQuery,
        request: SearchRequest,
    ) -> list[SearchHit]:
        # The common case (filters the docs table answers) as ONE hand-written
        # statement through aiosqlite's execute_fetchall: one hop to the
        # driver's thread instead of a dozen for BEGIN, cursor, execute, fetch,
        # close and COMMIT. Values go through the columns' own SQLAlchemy
        # bind/result processors, so they match what the repository stores.
        query = await self._prepared(driver, dialect, account_id, query)
        sql, params = self.ranked_statement(dialect, account_id, query, request)
        rows = await driver.execute_fetchall(sql, params)
        codec = _SqliteCodec.get(dialect)
        return search_hits(map(codec.entry_row, rows), query, lower_rank_is_better=True)

    async def _prepared(
        self, driver: Any, dialect: Any, account_id: UUID, query: ParsedQuery
    ) -> ParsedQuery:
        """Learn whether the account is alone in its table; drop the prefix of a common word."""
        account_hex = _SqliteCodec.get(dialect).account_hex(account_id)
        if self._alone.get(account_hex) is None:
            rows = await driver.execute_fetchall(_ALONE_SQL, (account_hex[-1].lower(), account_hex))
            self._alone.put(account_hex, not rows)
        word = query.prefix_word
        if word is not None:
            count = self._term_counts.get((account_hex, word))
            if count is None:
                rows = await driver.execute_fetchall(
                    *self.prefix_statement(dialect, account_id, word)
                )
                count = self._term_counts.put((account_hex, word), int(rows[0][0]))
            if count >= self.prefix_limit:
                query = msgspec.structs.replace(query, prefix_last=False)
        return query

    async def similar_words(
        self, account_id: UUID, words: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Near spellings from the account's own words (see the base), on the driver connection.

        One ``IN`` look-up of the known words, then one range scan of the
        primary key per unknown word; the statements of the base class, without
        SQLAlchemy's transaction and statement overhead.
        """
        if not self.fast_path:
            return await super().similar_words(account_id, words)
        asked = vocabulary_words(words)
        if not asked:
            return {}
        with translated_errors(unavailable=_UNAVAILABLE, driver_errors=self._driver_errors):
            async with self._driver_connection(account_id) as (driver, dialect):
                account_hex = _SqliteCodec.get(dialect).account_hex(account_id)
                marks = ", ".join("?" * len(asked))
                rows = await driver.execute_fetchall(
                    f"SELECT word FROM search_words WHERE account_id = ? AND word IN ({marks})",  # noqa: S608
                    (account_hex, *asked),
                )
                known = {row[0] for row in rows}
                candidates: dict[str, list[str]] = {}
                for word in asked:
                    allowed = typo_distance(word)
                    if word in known or not allowed:
                        continue
                    rows = await driver.execute_fetchall(
                        _SIMILAR_SQL,
                        (
                            account_hex,
                            word[0],
                            chr(ord(word[0]) + 1),
                            len(word) - allowed,
                            len(word) + allowed,
                            MAX_CANDIDATES,
                        ),
                    )
                    candidates[word] = [row[0] for row in rows]
        return nearest(asked, known, candidates)

    async def _fast_count(
        self,
        driver: Any,
        dialect: Any,
        account_id: UUID,
        query: ParsedQuery,
        request: SearchRequest,
    ) -> int:
        """Count the FTS5 matches joined to the account's documents (no bm25), one statement."""
        query = await self._prepared(driver, dialect, account_id, query)
        codec = _SqliteCodec.get(dialect)
        sql, params = codec.count_query(
            account_id,
            request.filters,
            fts5_match(query, match_of(request)),
            alone=bool(self._alone.get(codec.account_hex(account_id))),
            limit=request.count_limit,
        )
        rows = await driver.execute_fetchall(sql, params)
        return int(rows[0][0])

    def prefix_statement(self, dialect: Any, account_id: UUID, term: str) -> tuple[str, list[Any]]:
        """Return the statement counting the account's entries with ``term`` as a whole word.

        Counting stops at ``prefix_limit``: all the fast path asks is "that
        many?". Public, like :meth:`ranked_statement`, for the benchmark.
        """
        account_hex = _SqliteCodec.get(dialect).account_hex(account_id)
        fts = fts_table(account_hex)
        sql = f"SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH ? LIMIT ?)"  # noqa: S608
        alone = bool(self._alone.get(account_hex))
        return sql, [account_match(account_hex, word_match(term), alone=alone), self.prefix_limit]

    def ranked_statement(
        self, dialect: Any, account_id: UUID, query: ParsedQuery, request: SearchRequest
    ) -> tuple[str, list[Any]]:
        """Return the ranking statement (SQL text, ``?`` parameters) the fast path sends.

        ``query`` is final (its last word already decided to be a prefix or
        not). Public so that ``benchmarks/search.py`` times the very statement
        on a bare ``sqlite3`` connection.
        """
        codec = _SqliteCodec.get(dialect)
        return codec.ranked_query(
            account_id,
            request.filters,
            fts5_match(query, match_of(request)),
            window=max(self.rank_window, request.offset + request.limit),
            limit=request.limit,
            offset=request.offset,
            alone=bool(self._alone.get(codec.account_hex(account_id))),
        )

    async def _complete_word(self, conn: Any, account_id: UUID, term: str) -> bool:
        # A last word that already matches many of the account's entries as it
        # stands is a finished word, not one being typed: expanding it as a
        # prefix would merge the doclists of every longer word (slow, and no
        # better). Counted in the account only: other accounts' words must not
        # change what this one finds.
        account_hex = _SqliteCodec.get(conn.dialect).account_hex(account_id)
        fts, fts_ref = _FTS[fts_table(account_hex)]
        matches = (
            sa.select(sa.literal(1))
            .select_from(fts)
            .where(fts_ref.op("MATCH")(account_match(account_hex, word_match(term))))
            .limit(self.prefix_limit)
            .subquery()
        )
        count = (await conn.execute(sa.select(sa.func.count()).select_from(matches))).scalar_one()
        return int(count) >= self.prefix_limit

    async def _count(
        self,
        conn: Any,
        account_id: UUID,
        query: Any,
        request: SearchRequest,
        clauses: list[Any],
    ) -> int:
        if query.prefix_word and await self._complete_word(conn, account_id, query.prefix_word):
            query = msgspec.structs.replace(query, prefix_last=False)
        account_hex = _SqliteCodec.get(conn.dialect).account_hex(account_id)
        fts, fts_ref = _FTS[fts_table(account_hex)]
        match = account_match(account_hex, fts5_match(query, match_of(request)))
        d = _docs.c
        statement = (
            sa.select(sa.func.count())
            .select_from(fts.join(_docs, d.doc_id == fts.c.rowid))
            .where(
                fts_ref.op("MATCH")(match),
                d.account_id == account_id,
                *_doc_clauses(request.filters),
            )
        )
        if needs_entries(request.filters):
            statement = statement.join(entries, entries.c.entry_id == d.entry_id).where(*clauses)
        return int((await conn.execute(statement)).scalar_one())

    async def _search(
        self,
        conn: Any,
        account_id: UUID,
        query: Any,
        request: SearchRequest,
        clauses: list[Any],
    ) -> list[SearchHit]:
        if query.prefix_word and await self._complete_word(conn, account_id, query.prefix_word):
            query = msgspec.structs.replace(query, prefix_last=False)
        account_hex = _SqliteCodec.get(conn.dialect).account_hex(account_id)
        fts, fts_ref = _FTS[fts_table(account_hex)]
        match = account_match(account_hex, fts5_match(query, match_of(request)))
        filters = request.filters
        d = _docs.c
        rank = sa.func.bm25(fts_ref, *BM25_WEIGHTS)
        window = max(self.rank_window, request.offset + request.limit)
        candidates = (
            sa.select(d.entry_id, rank.label("rank"), d.doc_id, d.entry_date, d.created_at)
            .select_from(fts.join(_docs, d.doc_id == fts.c.rowid))
            .where(
                fts_ref.op("MATCH")(match),
                d.account_id == account_id,
                *_doc_clauses(filters),
            )
        )
        if needs_entries(filters):
            # Filters the docs table does not copy: check them on the entry row.
            candidates = candidates.join(entries, entries.c.entry_id == d.entry_id).where(*clauses)
        # FTS5 walks its doclist newest first (rowid order), stops after the
        # window and computes bm25 only for those rows.
        window_q = candidates.order_by(fts.c.rowid.desc()).limit(window).subquery("window")
        w = window_q.c
        order = (w.rank, w.entry_date.desc(), w.created_at.desc(), w.entry_id.desc())
        page = (
            sa.select(window_q).order_by(*order).limit(request.limit).offset(request.offset)
        ).subquery("page")
        p = page.c
        statement = (
            sa.select(entries, p.rank, p.doc_id)
            .join(page, entries.c.entry_id == p.entry_id)
            .order_by(p.rank, p.entry_date.desc(), p.created_at.desc(), p.entry_id.desc())
        )
        rows = (await conn.execute(statement)).mappings().all()
        if not rows:
            return []
        # Snippets for the page only, marked in Python: FTS5's snippet() has to
        # re-run the match per row, which costs more than the ranking itself
        # for prefix queries.
        return search_hits(rows, query, lower_rank_is_better=True)

    async def rebuild(self, storage: Storage, *, progress: ProgressCallback | None = None) -> int:
        """Re-create the FTS index from ``entries`` (e.g. after a restore from backup).

        ``entries.search_extra`` and ``search_words`` are recomputed first (the
        triggers re-index what changes; the index is then rebuilt anyway).
        """
        async with self._storage.connect(write=True) as conn:
            await rebuild_search_fields(conn)
            for fts in _FTS:
                await conn.exec_driver_sql(f"DELETE FROM {fts}")  # noqa: S608 - constants
            await conn.exec_driver_sql("DELETE FROM entry_search_docs")
            await conn.exec_driver_sql(_REBUILD_DOCS)
            for digit in FTS_SHARDS:
                fts = f"entry_fts_{digit}"
                await conn.exec_driver_sql(_REBUILD_FTS.format(fts=fts, digit=digit))
                optimize = f"INSERT INTO {fts} ({fts}) VALUES ('optimize')"  # noqa: S608
                await conn.exec_driver_sql(optimize)
            count = int(
                (await conn.exec_driver_sql("SELECT count(*) FROM entry_search_docs")).scalar_one()
            )
        if progress is not None:
            progress(count, count)
        return count


class _InlineDriver:
    """A ``sqlite3`` connection behind the aiosqlite call the fast path makes.

    Used with :attr:`SqlStorage.reader`: the statement runs on the calling thread.
    """

    def __init__(self, connection: Any) -> None:
        self._connection: sqlite3.Connection = connection

    async def execute_fetchall(self, sql: str, params: Any = ()) -> list[Any]:
        return self._connection.execute(sql, params).fetchall()
