"""The PostgreSQL fast path's statements (hand-written, sent straight to asyncpg) and totals.

:class:`PostgresCodec` writes the ranking and counting statements of
:class:`~trace_sql.search.postgres.PostgresSearchIndex` for the filters the
fast path takes, and converts values through the columns' SQLAlchemy
processors; :class:`RecentTotals` keeps the totals the searches found for the
counts that follow them.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from trace_core.model import EntryFilter
from trace_sql.search._common import DriverCodec
from trace_sql.tables import entries

__all__ = ["PostgresCodec", "RecentTotals"]


def _pg_type_oid(type_: Any) -> int | None:
    if isinstance(type_, sa.Float):
        return 701
    if isinstance(type_, sa.Numeric):
        return 1700
    return None


class PostgresCodec(DriverCodec):
    """SQL text and value conversion for the PostgreSQL fast path, built once per dialect."""

    _cache: dict[tuple[int, str], PostgresCodec] = {}

    def __init__(self, dialect: Any, language: str) -> None:
        # asyncpg's numeric processors want the PostgreSQL type OID the
        # cursor would report: float8 (701) for Double, numeric (1700) else.
        self.result = [
            c.type.dialect_impl(dialect).result_processor(dialect, _pg_type_oid(c.type))
            for c in entries.c
        ]
        self.bind = {
            c.name: c.type.dialect_impl(dialect).bind_processor(dialect) for c in entries.c
        }
        self.language = language
        selected = ", ".join(f"entries.{name}" for name in self.columns)
        # The statement _search builds (see there for why), written out once,
        # plus the total number of matches (see _fast_search). {q} is the
        # tsquery expression (literals only, see tsquery_sql), {w} the window.
        ts_query = "{q}"
        self.template = (
            f"SELECT {selected}, page.total, pg_current_snapshot()::text, page.rank"  # noqa: S608
            " FROM entries JOIN ("
            " SELECT w.entry_id, w.entry_date, w.created_at, {total} AS total,"
            f" ts_rank_cd(w.search_vector, {ts_query}, 1) AS rank FROM ("
            "  SELECT entries.entry_id, entries.entry_date, entries.created_at,"
            "  entries.search_vector FROM entries"
            f"  WHERE (search_vector @@ {ts_query}) AND {{filters}}"
            "  ORDER BY entries.entry_date DESC, entries.created_at DESC, entries.entry_id DESC"
            "  LIMIT {w}"
            " ) AS w ORDER BY rank DESC, w.entry_date DESC, w.created_at DESC, w.entry_id DESC"
            " LIMIT {limit} OFFSET {offset}"
            ") AS page ON entries.entry_id = page.entry_id"
            " ORDER BY page.rank DESC, page.entry_date DESC, page.created_at DESC,"
            " page.entry_id DESC"
        )

    @classmethod
    def get(cls, dialect: Any, language: str) -> PostgresCodec:
        """Return the codec of ``dialect`` and ``language`` (built on first use)."""
        key = (id(dialect), language)
        codec = cls._cache.get(key)
        if codec is None:
            codec = cls._cache[key] = cls(dialect, language)
        return codec

    def conditions(self, account_id: UUID, filters: EntryFilter) -> tuple[str, list[Any]]:
        """Return the WHERE conditions (``$n`` parameters) of ``filters`` and their values.

        The same conditions as entry_filter_clauses for the filters the fast
        path takes (the others go through _search).
        """
        params: list[Any] = [self._value("account_id", account_id)]
        conditions = ["entries.account_id = $1::UUID", "entries.deleted_at IS NULL"]
        if filters.stream == "inbox":
            conditions.append("entries.stream_id IS NULL")
        elif isinstance(filters.stream, UUID):
            params.append(self._value("stream_id", filters.stream))
            conditions.append(f"entries.stream_id = ${len(params)}::UUID")
        if filters.is_archived is not None:
            archived = "true" if filters.is_archived else "false"
            conditions.append(f"entries.is_archived IS {archived}")
        bounds = (
            ("entry_date", ">=", filters.start_date),
            ("entry_date", "<=", filters.end_date),
            ("created_at", ">=", filters.created_after),
            ("created_at", "<", filters.created_before),
        )
        for column, op, value in bounds:
            if value is not None:
                params.append(self._value(column, value))
                conditions.append(f"entries.{column} {op} ${len(params)}")
        return " AND ".join(conditions), params

    def ranked_query(
        self,
        account_id: UUID,
        filters: EntryFilter,
        ts_query: str,
        *,
        window: int,
        limit: int,
        offset: int,
        total: bool = False,
        beyond_window: bool = False,
        count_limit: int | None = None,
    ) -> tuple[str, list[Any]]:
        """Return the ranking statement and its parameters (see PostgresSearchIndex._search).

        With ``total``, every row also tells how many entries match: counted
        in the window when it is not full; else, with ``beyond_window``, by a
        second scan that runs only then (an uncorrelated subquery is evaluated
        when first needed) and stops at ``count_limit`` matches, or NULL
        (counting is left to ``count_query``).
        """
        conditions, params = self.conditions(account_id, filters)
        counted = "NULL::bigint"
        if total:
            beyond = f"({_counting('{q}', '{filters}', count_limit)})" if beyond_window else "NULL"
            counted = f"CASE WHEN count(*) OVER () < {{w}} THEN count(*) OVER () ELSE {beyond} END"
        # Rendered, not bound (see _search): to_tsquery calls on literals
        # whose quotes tsquery_sql doubled as SQL requires.
        sql = (
            self.template.replace("{total}", counted)
            .replace("{filters}", conditions)
            .replace("{w}", str(int(window)))
            .replace("{limit}", str(int(limit)))
            .replace("{offset}", str(int(offset)))
            .replace("{q}", ts_query)  # last: nothing is looked for in the query text
        )
        return sql, params

    def count_query(
        self, account_id: UUID, filters: EntryFilter, ts_query: str, limit: int | None = None
    ) -> tuple[str, list[Any]]:
        """Return the statement counting the matches (up to ``limit``) and its parameters."""
        conditions, params = self.conditions(account_id, filters)
        return _counting(ts_query, conditions, limit), params


def _counting(ts_query: str, conditions: str, limit: int | None) -> str:
    """Return the statement counting the matches, stopping after ``limit`` of them.

    With a limit, PostgreSQL reads heap rows only until it has that many
    (a common word's full count visits every matching row's page).
    """
    matches = f"FROM entries WHERE (search_vector @@ {ts_query}) AND {conditions}"
    if limit is None:
        return f"SELECT count(*) {matches}"
    return f"SELECT count(*) FROM (SELECT 1 {matches} LIMIT {int(limit)}) AS counted"  # noqa: S608


class RecentTotals:
    """Totals the last searches found, for the count that follows them (each used once).

    The facade asks for the count right after a search whose page was full;
    the fast search's statement found it already (see ``ranked_query``),
    with the database snapshot it saw. The total answers the count only if
    the count's snapshot is the same (no transaction ended in between, so the
    count would find the same), within :attr:`TTL` seconds; the :attr:`SIZE`
    newest are kept.
    """

    TTL = 2.0
    SIZE = 256

    def __init__(self) -> None:
        self._totals: dict[tuple[Any, ...], tuple[float, str, int]] = {}

    def __len__(self) -> int:
        return len(self._totals)

    def put(self, key: tuple[Any, ...], snapshot: str, total: int) -> None:
        """Keep ``total``, found under the database ``snapshot``, for the count ``key``."""
        self._totals.pop(key, None)
        self._totals[key] = (time.monotonic(), snapshot, int(total))
        while len(self._totals) > self.SIZE:
            del self._totals[next(iter(self._totals))]

    def has(self, key: tuple[Any, ...]) -> bool:
        """Whether a total is kept for ``key`` (maybe too old or from another snapshot)."""
        return key in self._totals

    def pop(self, key: tuple[Any, ...], snapshot: str) -> int | None:
        """Forget ``key``'s total; return it if it was found under ``snapshot``, recently."""
        found = self._totals.pop(key, None)
        if found is None or found[1] != snapshot or time.monotonic() - found[0] > self.TTL:
            return None
        return found[2]
