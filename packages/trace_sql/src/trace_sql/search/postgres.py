"""PostgreSQL full-text search: ``tsvector`` column (GIN), ``ts_rank_cd``, one fast statement."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal
from uuid import UUID

import asyncpg
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSQUERY

from trace_core.errors import InvalidInputError
from trace_core.model import SearchHit
from trace_core.ports import ProgressCallback, SearchRequest, Storage
from trace_core.search import (
    ELLIPSIS,
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    ParsedQuery,
    entry_snippet,
)
from trace_core.search_text import is_cjk, typo_distance
from trace_sql.errors import translated_errors
from trace_sql.rls import ACCOUNT_SETTING
from trace_sql.search._common import (
    MAX_CANDIDATES,
    SqlSearchIndex,
    match_of,
    nearest,
    rebuild_search_fields,
    search_hits,
    vocabulary_words,
)
from trace_sql.search.postgres_codec import PostgresCodec, RecentTotals
from trace_sql.search.postgres_query import folded_query, tsquery, tsquery_sql
from trace_sql.storage import ENTRY_LIST_ORDER, SqlStorage
from trace_sql.tables import entries

__all__ = ["PG_VECTOR_FUNCTION", "PostgresSearchIndex", "tsquery"]

_config = sa.table("search_config", sa.column("name", sa.String()), sa.column("value", sa.String()))
_search_vector: sa.ColumnClause[Any] = sa.column("search_vector")
_TAGS_TEXT: sa.ColumnClause[Any] = sa.literal_column(
    "array_to_string(ARRAY(SELECT jsonb_array_elements_text(entries.tags)), ' ')"
)

_CJK_CLASS = (
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u1100-\u11ff\u3130-\u318f"
    r"\uac00-\ud7af\u31f0-\u31ff\uff66-\uff9f\U00020000-\U0002fa1f"
)
_FILE_PUNCTUATION = r"[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+"

PG_VECTOR_FUNCTION = f"""
CREATE OR REPLACE FUNCTION trace_entry_search_vector_of(
    p_account uuid, p_entry uuid, p_stream uuid,
    p_title text, p_content text, p_tags jsonb, p_extra text
) RETURNS tsvector LANGUAGE sql STABLE AS $$
SELECT
    setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(coalesce(p_title, ''))), 'A')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(coalesce(
        (SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(p_tags) AS t), ''))), 'B')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(coalesce(
        (SELECT s.name FROM streams AS s
         WHERE s.account_id = p_account AND s.stream_id = p_stream), ''))), 'B')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(regexp_replace(coalesce(
        (SELECT string_agg(a.filename, ' ' ORDER BY a.position) FROM attachments AS a
         WHERE a.account_id = p_account AND a.entry_id = p_entry
           AND a.removed_at IS NULL AND a.filename IS NOT NULL), ''),
        '{_FILE_PUNCTUATION}', ' ', 'g'))), 'B')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(p_content)), 'C')
    || CASE WHEN coalesce(p_extra, '') = '' THEN ''::tsvector ELSE
        setweight(to_tsvector('{{language}}'::regconfig,
            {{fold}}(regexp_replace(p_extra, '[{_CJK_CLASS}]+', ' ', 'g'))), 'C')
        || setweight(to_tsvector('simple'::regconfig,
            regexp_replace(p_extra, '[^ {_CJK_CLASS}]+', '', 'g')), 'C')
    END
$$
"""  # noqa: S608 - constants
"""The function that computes ``entries.search_vector`` (as migration 0510 creates it).

``{language}`` is the text-search configuration, ``{fold}`` ``unaccent`` or nothing.
"""


_PLAN_SETTINGS = "set_config('enable_seqscan', 'off', true), set_config('jit', 'off', true)"
"""Settings of a search's transaction (see :meth:`PostgresSearchIndex._plan`)."""

_PHRASE_COUNT_SETTINGS = "SET LOCAL enable_indexscan = off"
"""Count a phrase from the GIN index's bitmap, never by walking the list index.

With a ``LIMIT`` (``count_limit``) the planner may walk the account's entries
newest first, testing each row's vector, and stop at the limit: right for a
common word (56k matches at 100k: 5 ms, against 18 ms to build the bitmap).
It takes ``a <-> b`` to be as common as ``a & b``, so for a phrase of two
common words (599 matches at 100k) the walk reads every row of the account:
550-600 ms, against 145-175 ms from the bitmap.
"""


def _has_phrase(query: ParsedQuery) -> bool:
    """Whether ``query`` has a phrase, required or excluded (see _PHRASE_COUNT_SETTINGS)."""
    alternatives = [alt for clause in query.all_clauses for alt in clause]
    return any(len(alt) > 1 for alt in [*alternatives, *query.excluded])


_SIMILAR_WORDS = f"""
SELECT q.word, c.word FROM unnest($2::text[], $3::int[]) AS q(word, allowed)
LEFT JOIN LATERAL (
    SELECT s.word FROM search_words AS s
    WHERE q.allowed > 0 AND s.account_id = $1
      AND s.word >= left(q.word, 1) AND s.word < chr(ascii(left(q.word, 1)) + 1)
      AND length(s.word) BETWEEN length(q.word) - q.allowed AND length(q.word) + q.allowed
    ORDER BY s.word LIMIT {MAX_CANDIDATES}
) AS c ON true
WHERE NOT EXISTS (
    SELECT 1 FROM search_words AS k WHERE k.account_id = $1 AND k.word = q.word
)
"""  # noqa: S608 - constants
"""The missing words of ``$2`` (each with its allowed distance ``$3``) and their candidates.

One row per candidate (or one with NULL): the account's words with the same
first letter and a length within the distance, as :func:`similar_words_scan`.
"""

_UNAVAILABLE = "search is temporarily unavailable"  # as the SQL search indexes' other errors


def _literal_int(value: int) -> Any:
    # Rendered into the statement, not bound: with parameters PostgreSQL may
    # reuse a generic plan that guessed the limits and picked the wrong scan.
    return sa.literal_column(str(int(value)), sa.Integer())


_LANGUAGE_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


class PostgresSearchIndex(SqlSearchIndex):
    """``tsvector`` search (GIN), ``ts_rank_cd`` ranking, highlighted snippets.

    Like the SQLite index, ``ts_rank_cd`` ranks at most ``rank_window`` matches:
    the newest ones when a query matches more (ranking is linear in the matches).
    Snippets are marked in Python by default: ``ts_headline`` re-parses every
    document and measured slower than the whole ranked query for a page of 20;
    ``snippets="ts_headline"`` uses it anyway.

    Args:
        storage: a PostgreSQL storage migrated to ``0100_search``.
        language: the text-search configuration (``english``, ``simple``,
            ``german`` ...); stemming and stop words follow it. :meth:`start`
            (the server calls it at start) applies a change.
        rank_window: the most matches ``ts_rank_cd`` ranks for one query.
        snippets: ``python`` (default) or ``ts_headline``.
        fast_path: answer searches without tag, status, type, pinned or
            updated filters (and with Python snippets) with one hand-written
            statement sent straight to asyncpg (default); False runs every
            search through SQLAlchemy.

    """

    PLAN_SETTINGS = "SET enable_seqscan = off; SET jit = off"
    """What every search transaction sets (see :meth:`_plan`), as statements for a session.

    ``benchmarks/search.py`` runs them on its bare connection, so that the
    statements it times are planned as the index's are.
    """

    HEADLINE_OPTIONS = (
        f"StartSel={HIGHLIGHT_START}, StopSel={HIGHLIGHT_END}, MaxWords=30, MinWords=12, "
        f'MaxFragments=2, FragmentDelimiter=" {ELLIPSIS} "'
    )

    _driver_errors = (asyncpg.PostgresError,)

    def __init__(
        self,
        storage: SqlStorage,
        *,
        language: str = "english",
        rank_window: int = 200,
        snippets: Literal["python", "ts_headline"] = "python",
        fast_path: bool = True,
    ) -> None:
        super().__init__(storage, fast_path=fast_path)
        self.rank_window = rank_window
        self.snippets = snippets
        if not _LANGUAGE_RE.match(language):
            raise InvalidInputError("search.language", "must be a text-search configuration name")
        self.language = language
        self._unaccent: bool | None = None
        self._totals = RecentTotals()

    async def _folds_accents(self, conn: Any) -> bool:
        # Whether the trigger unaccents the text (the migration found the
        # extension); the query terms must be folded the same way.
        if self._unaccent is None:
            value = (
                await conn.execute(sa.select(_config.c.value).where(_config.c.name == "unaccent"))
            ).scalar_one_or_none()
            self._unaccent = value == "on"
        return self._unaccent

    async def _query(self, conn: Any, query: ParsedQuery) -> ParsedQuery:
        return folded_query(query) if await self._folds_accents(conn) else query

    def _tsquery(self, query: ParsedQuery, request: SearchRequest) -> Any:
        """Return the ``tsquery`` expression of ``query`` as a SQLAlchemy column.

        Rendered into the statement, not bound: it is ``to_tsquery`` calls on
        literals of letters, digits and tsquery operators whose quotes
        :func:`tsquery_sql` doubled. Prepared with a parameter, PostgreSQL
        would switch to a generic plan after a few runs, planned without
        knowing how common the words are, and rank every match of a common word.
        """
        return sa.literal_column(
            tsquery_sql(query, match_of(request), language=self.language), TSQUERY()
        )

    async def start(self) -> None:
        """Apply the configured text-search language at start (see :meth:`configure`)."""
        await self.configure()

    async def configure(self, *, progress: ProgressCallback | None = None) -> bool:
        """Make the database index with :attr:`language`; re-index if it changed.

        Returns:
            True if the language changed and every entry was re-indexed.

        Raises:
            InvalidInputError: PostgreSQL has no such text-search configuration.

        """
        async with self._storage.connect(write=True) as conn:
            known = (
                (await conn.execute(sa.text("SELECT cfgname FROM pg_ts_config ORDER BY cfgname")))
                .scalars()
                .all()
            )
            if self.language not in known:
                raise InvalidInputError(
                    "search.language",
                    f"unknown text-search configuration {self.language!r}",
                    allowed=list(known),
                )
            current = (
                await conn.execute(sa.select(_config.c.value).where(_config.c.name == "language"))
            ).scalar_one_or_none()
            if current == self.language:
                return False
            await conn.exec_driver_sql(
                PG_VECTOR_FUNCTION.format(
                    language=self.language,
                    fold="unaccent" if await self._folds_accents(conn) else "",
                )
            )
            await conn.execute(
                sa.update(_config).where(_config.c.name == "language").values(value=self.language)
            )
        await self.rebuild(self._storage, progress=progress)
        return True

    def _fast_path_answers(self, request: SearchRequest) -> bool:
        return self.snippets == "python" and super()._fast_path_answers(request)

    async def _fast_search(
        self,
        driver: Any,
        dialect: Any,
        account_id: UUID,
        query: ParsedQuery,
        request: SearchRequest,
    ) -> list[SearchHit]:
        # The common case (no tag, status, type, pinned or updated filter) as
        # ONE hand-written statement, the same as _search builds, sent straight
        # to asyncpg: building, caching and compiling the SQLAlchemy statement
        # and its result machinery cost more CPU than PostgreSQL's own work.
        # Values go through the columns' SQLAlchemy processors, so rows come
        # out exactly as the repository reads them.
        await self._check_unaccent(driver)
        if self._unaccent:
            query = folded_query(query)
        if query.is_empty:
            return []
        codec = PostgresCodec.get(dialect, self.language)
        sql, params = self.ranked_statement(dialect, account_id, query, request)
        rows = await driver.fetch(sql, *params)
        if rows and rows[0][-3] is not None:
            key = self._count_key(codec, account_id, query, request)
            self._totals.put(key, rows[0][-2], rows[0][-3])
        return search_hits(map(codec.entry_row, rows), query)

    def _count_key(
        self, codec: PostgresCodec, account_id: UUID, query: ParsedQuery, request: SearchRequest
    ) -> tuple[Any, ...]:
        """Return what identifies a count: the account, the tsquery and the filters' SQL."""
        conditions, params = codec.conditions(account_id, request.filters)
        ts_query = tsquery_sql(query, match_of(request), language=self.language)
        return (account_id, ts_query, request.count_limit, conditions, *params)

    def ranked_statement(
        self, dialect: Any, account_id: UUID, query: ParsedQuery, request: SearchRequest
    ) -> tuple[str, list[Any]]:
        """Return the ranking statement (SQL text, ``$n`` parameters) the fast path sends.

        ``query``'s terms are final (already folded when the database
        unaccents). Public so that ``benchmarks/search.py`` times the very
        statement on a bare ``asyncpg`` connection.
        """
        return PostgresCodec.get(dialect, self.language).ranked_query(
            account_id,
            request.filters,
            tsquery_sql(query, match_of(request), language=self.language),
            window=max(self.rank_window, request.offset + request.limit),
            limit=request.limit,
            offset=request.offset,
            # Only an every-word search is counted (by the facade, when its
            # page is full): the total comes with the page. A phrase's count
            # beyond the window is left to count() (see _PHRASE_COUNT_SETTINGS).
            total=match_of(request) == "all",
            beyond_window=not _has_phrase(query),
            count_limit=request.count_limit,
        )

    @asynccontextmanager
    async def _driver_connection(self, account_id: UUID) -> AsyncIterator[tuple[Any, sa.Dialect]]:
        # Row-level security: the statement sees the rows of the transaction's
        # account only. BEGIN and the settings (the planner's, see _plan, and
        # the account's) go in one simple-protocol message (the id is a UUID's
        # text, nothing else can be in it); the transaction
        # is ended here whatever happens, before the connection goes back to the pool.
        settings = _PLAN_SETTINGS
        if self._storage.row_security:
            account = UUID(str(account_id))
            settings += f", set_config('{ACCOUNT_SETTING}', '{account}', true)"
        async with super()._driver_connection(account_id) as (driver, dialect):
            await driver.execute(f"BEGIN; SELECT {settings}")
            try:
                yield driver, dialect
            except BaseException:
                await driver.execute("ROLLBACK")
                raise
            await driver.execute("COMMIT")

    @staticmethod
    async def _plan(conn: Any) -> None:
        """Make the planner read matches from the GIN index, never by a sequential scan.

        Its cost model takes ``@@`` for a cheap operator, but it reads (and
        often de-TOASTs) every row's vector: counting a common word by a
        sequential scan measured five to eight times slower than from the
        ``(account_id, search_vector)`` GIN index. JIT compilation (tens of
        milliseconds) never pays off for one search either.
        """
        await conn.execute(sa.text(f"SELECT {_PLAN_SETTINGS}"))

    async def count(self, account_id: UUID, request: SearchRequest) -> int:
        """Return the total the last search found, if nothing was written since; else count.

        The total is checked against the database's snapshot in one statement
        outside a transaction (it reads no row, so neither the account's
        setting nor the planner's are needed): one round trip, not three.
        """
        query = request.parsed_query()
        if self._unaccent is None or not self._totals or not self._fast_path_answers(request):
            return await super().count(account_id, request)
        if self._unaccent:
            query = folded_query(query)
        codec = PostgresCodec.get(self._storage.engine.dialect, self.language)
        key = self._count_key(codec, account_id, query, request)
        if self.fast_path and not query.is_empty and self._totals.has(key):
            with translated_errors(unavailable=_UNAVAILABLE, driver_errors=self._driver_errors):
                async with super()._driver_connection(account_id) as (driver, _):
                    snapshot = await driver.fetchval("SELECT pg_current_snapshot()::text")
            known = self._totals.pop(key, snapshot)
            if known is not None:
                limit = request.count_limit
                return known if limit is None else min(known, limit)
        return await super().count(account_id, request)

    async def _fast_count(
        self,
        driver: Any,
        dialect: Any,
        account_id: UUID,
        query: ParsedQuery,
        request: SearchRequest,
    ) -> int:
        """Count the matches in one statement on asyncpg."""
        await self._check_unaccent(driver)
        if self._unaccent:
            query = folded_query(query)
        if query.is_empty:
            return 0
        codec = PostgresCodec.get(dialect, self.language)
        sql, params = codec.count_query(
            account_id,
            request.filters,
            tsquery_sql(query, match_of(request), language=self.language),
            request.count_limit,
        )
        if _has_phrase(query):
            await driver.execute(_PHRASE_COUNT_SETTINGS)
        return int(await driver.fetchval(sql, *params))

    async def similar_words(
        self, account_id: UUID, words: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Return near spellings of ``words`` from ``search_words`` of ``account_id`` only.

        What the SQL indexes' ``similar_words`` answers (the same range scan of
        the primary key per missing word), in one statement on asyncpg.
        """
        asked = vocabulary_words(words)
        if not asked or not self.fast_path:
            return await super().similar_words(account_id, words)
        allowed = [typo_distance(w) for w in asked]
        with translated_errors(unavailable=_UNAVAILABLE, driver_errors=self._driver_errors):
            async with self._driver_connection(account_id) as (driver, _):
                rows = await driver.fetch(_SIMILAR_WORDS, account_id, asked, allowed)
        missing = {word for word, _ in rows}
        candidates: dict[str, list[str]] = {}
        for word, candidate in rows:
            if candidate is not None:
                candidates.setdefault(word, []).append(candidate)
        return nearest(asked, set(asked) - missing, candidates)

    async def _check_unaccent(self, driver: Any) -> None:
        if self._unaccent is None:
            value = await driver.fetchval("SELECT value FROM search_config WHERE name = 'unaccent'")
            self._unaccent = value == "on"

    def _config(self) -> Any:
        # The name was checked against a strict pattern in __init__.
        return sa.literal_column(f"'{self.language}'::regconfig")

    async def _search(
        self,
        conn: Any,
        account_id: UUID,
        query: Any,
        request: SearchRequest,
        clauses: list[Any],
    ) -> list[SearchHit]:
        query = await self._query(conn, query)
        if query.is_empty:
            return []
        await self._plan(conn)
        ts_query = self._tsquery(query, request)
        window = max(self.rank_window, request.offset + request.limit)
        # The newest ``window`` matches of the account, then ranked: every
        # match when there are fewer (exact ranking), else the newest ones.
        # Ordered, PostgreSQL either walks the account's part of the list
        # index newest first and stops after ``window`` matches (common
        # words) or collects the matches from the GIN index and sorts them
        # (rare words); never a sequential scan of the table, which a bare
        # LIMIT invites and which reads every other account's rows when this
        # one's lie late in the heap. ts_rank_cd runs on the window only.
        newest = (
            sa.select(
                entries.c.entry_id, entries.c.entry_date, entries.c.created_at, _search_vector
            )
            .where(_search_vector.op("@@")(ts_query), *clauses)
            .order_by(*ENTRY_LIST_ORDER)
            .limit(_literal_int(window))
            .subquery("w")
        )
        w = newest.c
        rank = sa.func.ts_rank_cd(w.search_vector, ts_query, 1)
        page = (
            sa.select(w.entry_id, w.entry_date, w.created_at, rank.label("rank"))
            .order_by(rank.desc(), w.entry_date.desc(), w.created_at.desc(), w.entry_id.desc())
            .limit(_literal_int(request.limit))
            .offset(_literal_int(request.offset))
            .subquery("page")
        )
        p = page.c
        statement = (
            sa.select(entries, p.rank)
            .join(page, entries.c.entry_id == p.entry_id)
            .order_by(p.rank.desc(), p.entry_date.desc(), p.created_at.desc(), p.entry_id.desc())
        )
        rows = (await conn.execute(statement)).mappings().all()
        if not rows:
            return []
        snippets = None
        if self.snippets == "ts_headline":
            snippets = await self._headlines(conn, query, rows)
        return search_hits(rows, query, snippets=snippets)

    async def _count(
        self,
        conn: Any,
        account_id: UUID,
        query: Any,
        request: SearchRequest,
        clauses: list[Any],
    ) -> int:
        query = await self._query(conn, query)
        if query.is_empty:
            return 0
        await self._plan(conn)
        ts_query = self._tsquery(query, request)
        matches = sa.select(sa.literal(1)).where(_search_vector.op("@@")(ts_query), *clauses)
        if request.count_limit is not None:
            # Stop reading rows at the limit (see postgres_codec._counting).
            matches = matches.limit(_literal_int(request.count_limit))
        statement = sa.select(sa.func.count()).select_from(matches.subquery("counted"))
        if _has_phrase(query):
            await conn.execute(sa.text(_PHRASE_COUNT_SETTINGS))
        return int((await conn.execute(statement)).scalar_one())

    async def _headlines(self, conn: Any, query: Any, rows: Sequence[Any]) -> dict[UUID, str]:
        # ts_headline marks the words of the text; CJK grams (in
        # search_extra) are marked in Python.
        words = tuple(t for t in query.terms if not is_cjk(t))
        if len(words) < len(query.terms):
            return {
                row["entry_id"]: entry_snippet(row["title"], row["content"], row["tags"], query)
                for row in rows
            }
        terms_only = ParsedQuery(text=query.text, terms=words, prefix_last=query.prefix_last)
        ts_query = sa.func.to_tsquery(self._config(), tsquery(terms_only, "any"))
        body = sa.func.concat_ws(
            " \n ",
            entries.c.title,
            _TAGS_TEXT,
            entries.c.content,
        )
        statement = sa.select(
            entries.c.entry_id,
            sa.func.ts_headline(self._config(), body, ts_query, self.HEADLINE_OPTIONS),
        ).where(entries.c.entry_id.in_([row["entry_id"] for row in rows]))
        found: dict[UUID, str] = {row[0]: row[1] for row in await conn.execute(statement)}
        # ts_headline shows the start of the text when it has nothing to mark
        # (e.g. a stop-word-only query); mark what we can ourselves then.
        for row in rows:
            if HIGHLIGHT_START not in found.get(row["entry_id"], ""):
                found[row["entry_id"]] = entry_snippet(
                    row["title"], row["content"], row["tags"], query
                )
        return found

    async def rebuild(self, storage: Storage, *, progress: ProgressCallback | None = None) -> int:
        """Recompute every entry's search_extra and search_vector (by the trigger) and the words."""
        async with self._storage.connect(write=True, all_accounts=True) as conn:
            await rebuild_search_fields(conn)
            await conn.exec_driver_sql("UPDATE entries SET title = title")
            count = int(
                (
                    await conn.execute(
                        sa.select(sa.func.count())
                        .select_from(entries)
                        .where(entries.c.deleted_at.is_(None))
                    )
                ).scalar_one()
            )
        if progress is not None:
            progress(count, count)
        return count
