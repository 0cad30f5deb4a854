"""What the SQLite and PostgreSQL search indexes share.

The base index (one guard before every search, which then takes the fast path
or SQLAlchemy's), :func:`search_hits` turning ranked rows into hits on both
paths, and :class:`DriverCodec` for the fast path's values.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, TypeVar
from uuid import UUID

import msgspec
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from trace_core.errors import InvalidInputError
from trace_core.model import Entry, EntryFilter, SearchHit
from trace_core.ports import SearchIndex, SearchRequest
from trace_core.search import Match, ParsedQuery, entry_snippet
from trace_core.search_text import is_cjk, near_words, typo_distance
from trace_sql.errors import translated_errors
from trace_sql.storage import (
    SqlStorage,
    entry_filter_clauses,
    entry_search_extra,
    entry_words,
    row_to_entry,
)
from trace_sql.tables import entries, search_words

T = TypeVar("T")


def match_of(request: SearchRequest) -> Match:
    """Return ``any`` for an any-word request, else ``all``."""
    # SearchRequest.match is a plain str; the query builders take "any" as
    # any word and everything else as every word.
    return "any" if request.match == "any" else "all"


_UNAVAILABLE = "search is temporarily unavailable"
"""What a search reports for a database error with no better translation."""


class SqlSearchIndex(SearchIndex):
    """The search index that the database's own triggers keep (one subclass per dialect)."""

    indexed_by_storage = True
    """Triggers index every write in its own transaction; the facade need not call index()."""

    def __init__(self, storage: SqlStorage, *, fast_path: bool = True) -> None:
        self._storage = storage
        self.fast_path = fast_path
        """Whether searches the fast statement can answer bypass SQLAlchemy.

        On by default; off, every search runs SQLAlchemy's statements (tests
        compare the two paths' answers).
        """

    _driver_errors: tuple[type[Exception], ...] = ()
    """The driver's own error types, translated like SQLAlchemy's."""

    def _connect(self, account_id: UUID) -> AbstractAsyncContextManager[Any]:
        return self._storage.connect(account_id=account_id)

    async def _fast_search(
        self,
        driver: Any,
        dialect: Any,
        account_id: UUID,
        query: ParsedQuery,
        request: SearchRequest,
    ) -> list[SearchHit]:
        raise NotImplementedError

    async def _fast_count(
        self,
        driver: Any,
        dialect: Any,
        account_id: UUID,
        query: ParsedQuery,
        request: SearchRequest,
    ) -> int:
        raise NotImplementedError

    @asynccontextmanager
    async def _driver_connection(self, account_id: UUID) -> AsyncIterator[tuple[Any, sa.Dialect]]:
        """Yield a pooled connection's driver connection and its dialect (for the fast path).

        A dialect with row-level security overrides this to make its statements
        see ``account_id``'s rows.
        """
        async with self._storage.engine.connect() as conn:
            raw = await conn.get_raw_connection()
            yield raw.driver_connection, conn.dialect

    async def _on_driver(
        self,
        run: Callable[[Any, Any, UUID, ParsedQuery, SearchRequest], Awaitable[T]],
        account_id: UUID,
        query: ParsedQuery,
        request: SearchRequest,
    ) -> T:
        """Run :meth:`_fast_search` or :meth:`_fast_count` on a pooled driver connection.

        Errors are translated as on the SQLAlchemy path.
        """
        with translated_errors(unavailable=_UNAVAILABLE, driver_errors=self._driver_errors):
            async with self._driver_connection(account_id) as (driver, dialect):
                return await run(driver, dialect, account_id, query, request)

    async def index(self, entries_: Sequence[Entry]) -> None:
        """Nothing to do: the database indexed these entries when they were written."""

    async def remove(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Nothing to do: purging the rows removed them from the index."""

    async def search(self, account_id: UUID, request: SearchRequest) -> list[SearchHit]:
        """Return ranked hits of ``account_id`` only.

        Raises:
            InvalidInputError: the query is empty.
            UnavailableError: the database cannot be reached.

        """
        query = request.parsed_query()
        if query.is_empty or request.limit <= 0:
            return []
        if request.offset < 0:
            raise InvalidInputError("offset", "must not be negative")
        if self.fast_path and self._fast_path_answers(request):
            return await self._on_driver(self._fast_search, account_id, query, request)
        return await self._on_connection(self._search, account_id, query, request)

    def _fast_path_answers(self, request: SearchRequest) -> bool:
        """Whether :meth:`_fast_search`'s one statement can answer ``request``."""
        return not needs_entries(request.filters)

    async def _search(
        self,
        conn: Any,
        account_id: UUID,
        query: Any,
        request: SearchRequest,
        clauses: list[Any],
    ) -> list[SearchHit]:
        raise NotImplementedError

    async def count(self, account_id: UUID, request: SearchRequest) -> int:
        """Return how many live entries of ``account_id`` match every filter.

        At most ``request.count_limit`` when it is set.

        Raises:
            InvalidInputError: the query is empty.
            UnavailableError: the database cannot be reached.

        """
        query = request.parsed_query()
        if query.is_empty:
            return 0
        if self.fast_path and self._fast_path_answers(request):
            found = await self._on_driver(self._fast_count, account_id, query, request)
        else:
            found = await self._on_connection(self._count, account_id, query, request)
        # A dialect may stop at the limit itself (PostgreSQL does); the rest count all.
        return found if request.count_limit is None else min(found, request.count_limit)

    async def _on_connection(
        self,
        run: Callable[[Any, UUID, Any, SearchRequest, list[Any]], Awaitable[T]],
        account_id: UUID,
        query: Any,
        request: SearchRequest,
    ) -> T:
        """Run ``run`` (:meth:`_search` or :meth:`_count`) in a transaction, errors translated."""
        filters = msgspec.structs.replace(request.filters, text=None)
        clauses = entry_filter_clauses(account_id, filters)
        with translated_errors(unavailable=_UNAVAILABLE):
            async with self._connect(account_id) as conn:
                return await run(conn, account_id, query, request, clauses)

    async def _count(
        self,
        conn: Any,
        account_id: UUID,
        query: Any,
        request: SearchRequest,
        clauses: list[Any],
    ) -> int:
        raise NotImplementedError

    async def similar_words(
        self, account_id: UUID, words: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Return near spellings of ``words`` from ``search_words`` of ``account_id`` only.

        Every word the account's vocabulary lacks is in the answer, with its
        words within :func:`~trace_core.search_text.typo_distance` (same first
        letter, length within the distance: one range scan of the primary key
        per word), nearest first. Words the vocabulary cannot hold (shorter than
        three letters, CJK) are never reported missing.
        """
        asked = vocabulary_words(words)
        if not asked:
            return {}
        w = search_words.c
        with translated_errors(unavailable=_UNAVAILABLE):
            async with self._connect(account_id) as conn:
                known = set(
                    (
                        await conn.execute(
                            sa.select(w.word).where(w.account_id == account_id, w.word.in_(asked))
                        )
                    ).scalars()
                )
                candidates: dict[str, list[str]] = {}
                for word in asked:
                    scan = similar_words_scan(account_id, word)
                    if word not in known and scan is not None:
                        candidates[word] = list((await conn.execute(scan)).scalars())
        return nearest(asked, known, candidates)

    async def count_live(self) -> int:
        """Return the number of live entries of every account (what a rebuild indexes)."""
        async with self._storage.connect(all_accounts=True) as conn:
            result = await conn.execute(
                sa.select(sa.func.count())
                .select_from(entries)
                .where(entries.c.deleted_at.is_(None))
            )
            return int(result.scalar_one())


def vocabulary_words(words: Sequence[str]) -> list[str]:
    """Return the ``words`` a vocabulary can hold (3+ letters, not CJK), once each."""
    return [w for w in dict.fromkeys(words) if len(w) >= 3 and not is_cjk(w)]


def nearest(
    asked: Sequence[str], known: set[str], candidates: Mapping[str, Sequence[str]]
) -> dict[str, tuple[str, ...]]:
    """Return :meth:`SqlSearchIndex.similar_words`'s answer from the vocabulary's rows."""
    return {
        word: tuple(near_words(word, candidates.get(word, ())))
        for word in asked
        if word not in known
    }


MAX_CANDIDATES = 5000
"""The most vocabulary words compared with one typed word (a bound on the work)."""


def similar_words_scan(account_id: UUID, word: str) -> sa.Select[Any] | None:
    """Return the select of the account's near-spelling candidates of ``word``, or None.

    The account's words that start with ``word``'s first letter (a range of the
    ``(account_id, word)`` primary key) and whose length is within
    :func:`~trace_core.search_text.typo_distance`; :func:`near_words` then
    keeps the near ones. None when ``word`` is never corrected.
    """
    allowed = typo_distance(word)
    if not allowed:
        return None
    w = search_words.c
    first = word[0]
    return (
        sa.select(w.word)
        .where(
            w.account_id == account_id,
            w.word >= first,
            w.word < chr(ord(first) + 1),
            sa.func.length(w.word).between(len(word) - allowed, len(word) + allowed),
        )
        .limit(MAX_CANDIDATES)
    )


_REBUILD_BATCH = 2000


async def rebuild_search_fields(conn: Any) -> int:
    """Recompute ``entries.search_extra`` and every account's ``search_words``.

    ``search_words`` is emptied and refilled from the live entries (words of
    deleted or purged entries go); ``search_extra`` is rewritten where it
    differs from :func:`~trace_core.search_text.search_extra` (e.g. rows copied
    in by other means). ``conn`` sees every account. Returns the entries read.
    """
    e = entries.c
    await conn.execute(sa.delete(search_words))
    insert = (
        postgresql.insert(search_words)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(search_words)
    ).on_conflict_do_nothing()
    update = (
        sa.update(entries)
        .where(e.entry_id == sa.bindparam("id"))
        .values(search_extra=sa.bindparam("extra"))
    )
    after: UUID | None = None
    read = 0
    while True:
        query = sa.select(entries).order_by(e.entry_id).limit(_REBUILD_BATCH)
        if after is not None:
            query = query.where(e.entry_id > after)
        rows = (await conn.execute(query)).mappings().all()
        if not rows:
            return read
        read += len(rows)
        after = rows[-1]["entry_id"]
        changed, fresh = [], []
        for row in rows:
            extra = entry_search_extra(row["title"], row["content"], " ".join(row["tags"]))
            if extra != row["search_extra"]:
                changed.append({"id": row["entry_id"], "extra": extra})
            fresh.append({**row, "search_extra": extra})
        if changed:
            await conn.execute(update, changed)
        words = entry_words(fresh)
        if words:
            await conn.execute(insert, words)


def needs_entries(filters: EntryFilter) -> bool:
    """Whether ``filters`` test columns only the entries table holds (not the fast path's)."""
    return bool(
        filters.tags
        or filters.status is not None
        or filters.type is not None
        or filters.is_pinned is not None
        or filters.updated_after is not None
        or filters.updated_before is not None
        or filters.due_before is not None
    )


def search_hits(
    rows: Iterable[Mapping[str, Any]],
    query: ParsedQuery,
    *,
    lower_rank_is_better: bool = False,
    snippets: Mapping[UUID, str] | None = None,
) -> list[SearchHit]:
    """Turn ranked rows (every ``entries`` column plus ``rank``) into hits, in order.

    Args:
        rows: the page, from the SQLAlchemy statement or :meth:`DriverCodec.entry_row`.
        query: the final query; its terms mark the snippets made in Python.
        lower_rank_is_better: the rank is bm25's (lower is better); a hit's
            score is always higher-is-better.
        snippets: snippets the database made (``ts_headline``), by entry id,
            instead of Python's.

    """
    hits = []
    for row in rows:
        rank = float(row["rank"])
        if snippets is None:
            snippet = entry_snippet(row["title"], row["content"], row["tags"], query)
        else:
            snippet = snippets.get(row["entry_id"], "")
        hits.append(
            SearchHit(
                entry=row_to_entry(row),
                score=round(-rank if lower_rank_is_better else rank, 6),
                snippet=snippet or row["content"][:200],
            )
        )
    return hits


class DriverCodec:
    """Values in and out of a fast-path statement, through the columns' SQLAlchemy processors.

    So the hand-written statement binds and reads values exactly as the
    repository does. Subclasses fill :attr:`result` (one processor per
    ``entries`` column, in order) and :attr:`bind` (by column name).
    """

    columns: list[str] = [c.name for c in entries.c if c.name != "search_extra"]
    result: list[Any]
    bind: dict[str, Any]

    def _value(self, column: str, value: Any) -> Any:
        processor = self.bind[column]
        return processor(value) if processor else value

    def entry_row(self, raw: Sequence[Any]) -> dict[str, Any]:
        """Return a raw row (``entries`` columns, then the rank) as :func:`search_hits` takes it."""
        row = {
            name: (processor(value) if processor else value)
            for name, processor, value in zip(self.columns, self.result, raw, strict=False)
        }
        row["rank"] = raw[-1]
        return row
