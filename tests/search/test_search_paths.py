"""The fast path and the SQLAlchemy path of each SQL search index find the same hits.

Both SQL indexes answer the common searches (filters the fast statement can
check) with one hand-written statement sent straight to the driver connection,
and every other search with SQLAlchemy statements. ``fast_path=False`` sends
every search through SQLAlchemy, so the same queries can run both ways: they
must give the same entries in the same order, with the same scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa

from trace_core.errors import UnavailableError
from trace_core.model import Account, EntryFilter, SearchHit
from trace_core.ports import SearchRequest
from trace_core.testing.contracts.search import T0, SearchBackend, make_entry
from trace_sql import SqlStorage, create_storage
from trace_sql.search import PostgresSearchIndex, SqliteSearchIndex, SqlSearchIndex

pytestmark = pytest.mark.anyio

RANKING_FUNCTIONS = ("bm25(", "ts_rank_cd(")
"""What the ranking statement of either dialect calls, and no other statement does."""


def _index(storage: SqlStorage, *, fast_path: bool) -> SqlSearchIndex:
    if storage.dialect_name == "sqlite":
        return SqliteSearchIndex(storage, fast_path=fast_path)
    return PostgresSearchIndex(storage, fast_path=fast_path)


async def _account(storage: SqlStorage, last_digit: str) -> Account:
    # The last hex digit picks the account's FTS5 table on SQLite.
    account_id = UUID(uuid4().hex[:-1] + last_digit)
    account = Account(account_id=account_id, email=f"{account_id.hex}@example.test", created_at=T0)
    async with storage.unit_of_work(write=True) as uow:
        await uow.accounts.add(account)
    return account


@contextmanager
def _ranking_statements(storage: SqlStorage) -> Iterator[list[str]]:
    """Collect the ranking statements that go through SQLAlchemy while the block runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        statement = str(args[2])
        if any(function in statement for function in RANKING_FUNCTIONS):
            seen.append(statement)

    engines = [storage.engine.sync_engine, *([storage.reader] if storage.reader else [])]
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)


class _Corpus(NamedTuple):
    me: Account
    work_stream: UUID


@pytest.fixture(params=[False, True], ids=["alone-in-its-table", "table-shared"])
async def corpus(sql_storage: SqlStorage, request: pytest.FixtureRequest) -> _Corpus:
    """An account with entries that rank apart, tie, sit in streams and dates; and a neighbour.

    The neighbour has the same words; on SQLite it shares the account's FTS5
    table or not (the fast path leaves the account token out when alone).
    """
    b = SearchBackend(storage=sql_storage, index=_index(sql_storage, fast_path=True))
    me = await _account(sql_storage, "7")
    neighbour = await _account(sql_storage, "7" if request.param else "8")
    work = await b.stream(me, "Work")
    texts = [
        ("Heron", "a heron stood in the pond all morning", ("birds",)),
        (None, "herons nest in a heronry near the pond", ("birds", "pond")),
        (None, "the pond froze; no heron today", ()),
        ("Pond notes", "frogspawn and newts in the pond", ("pond",)),
        (None, "Café au lait at the heron café", ("coffee",)),
        (None, "deployment of the staging server", ("work",)),
        (None, "deploy staging again after the heron fix", ("work",)),
        ("Migration", "how did we migrate the database? slowly", ("work",)),
        (None, "the database migration finished at noon", ()),
        (None, "and the of to in", ()),
    ]
    entries = []
    for i, (title, content, tags) in enumerate(texts):
        for copy in range(3):  # copies tie on rank: the order falls to dates and ids
            created = T0 + timedelta(days=i, hours=copy)
            entries.append(
                make_entry(
                    me,
                    content,
                    title=title,
                    tags=tags,
                    created_at=created,
                    stream=work if (i + copy) % 3 == 0 else None,
                    is_archived=copy == 2 and i % 2 == 0,
                )
            )
    theirs = [make_entry(neighbour, content, title=title) for title, content, _ in texts]
    await b.add(*entries, *theirs)
    return _Corpus(me, work.stream_id)


_QUERIES = [
    "heron",  # a plain word
    "her",  # a word being typed: a prefix
    "heron pond",  # every word
    '"the pond"',  # quotes are not phrase syntax: two words
    "how did the heron fly?",  # a question: stop words dropped
    "and the of",  # only common words: kept
    "cafe",  # accents folded
    "deploy stag",  # a prefix after a whole word
    "xylophone",  # no match
]


def _requests(corpus: _Corpus) -> list[SearchRequest]:
    day = T0.date()
    filters = [
        EntryFilter(),
        EntryFilter(is_archived=None),
        EntryFilter(is_archived=True),
        EntryFilter(stream=corpus.work_stream),
        EntryFilter(stream="inbox"),
        EntryFilter(start_date=day + timedelta(days=2), end_date=day + timedelta(days=6)),
        EntryFilter(
            created_after=T0 + timedelta(days=1),
            created_before=T0 + timedelta(days=6, hours=1),
        ),
    ]
    requests = [SearchRequest(query=q, filters=f) for q in _QUERIES for f in filters]
    requests += [SearchRequest(query=q, match="any") for q in ("heron xylophone", "pond database")]
    requests += [SearchRequest(query="heron pond", limit=3, offset=o) for o in (0, 3, 6)]
    return requests


def _summary(hits: list[SearchHit]) -> list[tuple[UUID, float, str]]:
    return [(hit.entry.entry_id, hit.score, hit.snippet) for hit in hits]


async def test_the_fast_path_and_sqlalchemys_path_find_the_same_hits_in_the_same_order(
    sql_storage: SqlStorage, corpus: _Corpus
) -> None:
    fast = _index(sql_storage, fast_path=True)
    sqlalchemy_only = _index(sql_storage, fast_path=False)
    found_something = 0
    for request in _requests(corpus):
        with _ranking_statements(sql_storage) as fast_statements:
            fast_hits = await fast.search(corpus.me.account_id, request)
        with _ranking_statements(sql_storage) as sqlalchemy_statements:
            sqlalchemy_hits = await sqlalchemy_only.search(corpus.me.account_id, request)

        assert _summary(fast_hits) == _summary(sqlalchemy_hits), request
        # Each ran its own path: the fast one never ranks through SQLAlchemy.
        assert fast_statements == [], request
        assert len(sqlalchemy_statements) == 1, request
        found_something += bool(fast_hits)
    # The comparison is not of empty pages.
    assert found_something > len(_requests(corpus)) // 2


async def test_a_filter_the_fast_statement_cannot_check_goes_through_sqlalchemy(
    sql_storage: SqlStorage, corpus: _Corpus
) -> None:
    fast = _index(sql_storage, fast_path=True)
    request = SearchRequest(query="heron", filters=EntryFilter(tags=("birds",)))

    with _ranking_statements(sql_storage) as statements:
        hits = await fast.search(corpus.me.account_id, request)

    assert len(statements) == 1
    assert hits
    assert all("birds" in hit.entry.tags for hit in hits)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "sqlalchemy-path"])
async def test_a_search_on_an_unreachable_database_is_unavailable_on_either_path(
    fast_path: bool,
) -> None:
    storage = create_storage("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(UnavailableError):
            await PostgresSearchIndex(storage, fast_path=fast_path).search(
                uuid4(), SearchRequest(query="heron")
            )
    finally:
        await storage.close()
