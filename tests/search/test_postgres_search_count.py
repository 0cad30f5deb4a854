"""PostgreSQL search totals: the fast search counts its matches, the count that follows reuses it.

A reused total must be exactly what a count would find: in the window or by a
second scan beyond it (up to the request's count_limit; a phrase's is left to
count()), and never one from before a write.
"""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from sqlalchemy.dialects import postgresql

from trace_core.model import EntryFilter
from trace_core.ports import SearchRequest
from trace_core.testing.contracts.search import T0, SearchBackend, make_entry
from trace_sql.search import PostgresSearchIndex
from trace_sql.search.postgres_codec import PostgresCodec
from trace_sql.storage import SqlStorage

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.mark.parametrize("window", [3, 200])
async def test_the_count_after_a_search_is_every_match(
    postgres_storage: SqlStorage, window: int
) -> None:
    index = PostgresSearchIndex(postgres_storage, rank_window=window)
    b = SearchBackend(storage=postgres_storage, index=index)
    me = await b.account()
    other = await b.account()
    await b.add(
        *(make_entry(me, f"grebe {i}", created_at=T0 + timedelta(hours=i)) for i in range(7)),
        make_entry(me, "no bird here"),
        make_entry(me, "a grebe, archived", is_archived=True),
    )
    await b.add(make_entry(other, "grebe elsewhere"))
    request = SearchRequest(query="grebe", limit=2)

    hits = await index.search(me.account_id, request)
    assert len(hits) == 2
    assert index._totals.has(next(iter(index._totals._totals)))  # the search found the total
    assert await index.count(me.account_id, request) == 7
    assert await index.count(me.account_id, request) == 7  # counted again, same answer
    filtered = SearchRequest(query="grebe", limit=2, filters=EntryFilter(is_archived=True))
    await index.search(me.account_id, filtered)
    assert await index.count(me.account_id, filtered) == 1


async def test_counting_stops_at_the_count_limit(postgres_storage: SqlStorage) -> None:
    index = PostgresSearchIndex(postgres_storage, rank_window=3)
    b = SearchBackend(storage=postgres_storage, index=index)
    me = await b.account()
    await b.add(*(make_entry(me, f"plover {i}") for i in range(7)))
    request = SearchRequest(query="plover", limit=2, count_limit=4)

    assert len(await index.search(me.account_id, request)) == 2
    # The search's own total (the second scan past the window) stopped at 4 rows.
    [(_, _, found)] = index._totals._totals.values()
    assert found == 4
    sql, _ = PostgresCodec.get(postgresql.asyncpg.dialect(), "english").count_query(
        me.account_id, EntryFilter(), "to_tsquery('plover')", 4
    )
    assert sql.endswith("LIMIT 4) AS counted")
    assert await index.count(me.account_id, request) == 4
    # Counted anew by the fast statement and by SQLAlchemy's: the same.
    assert await index.count(me.account_id, request) == 4
    slow = PostgresSearchIndex(postgres_storage, fast_path=False)
    assert await slow.count(me.account_id, request) == 4
    assert await slow.count(me.account_id, SearchRequest(query="plover")) == 7
    # A phrase past the window is counted by count() alone (from the GIN bitmap).
    await b.add(*(make_entry(me, f"sand plover {i}") for i in range(5)))
    phrase = SearchRequest(query='"sand plover"', limit=2, count_limit=4)
    index._totals._totals.clear()
    assert len(await index.search(me.account_id, phrase)) == 2
    assert not index._totals._totals
    assert await index.count(me.account_id, phrase) == 4
    assert await index.count(me.account_id, msgspec.structs.replace(phrase, count_limit=None)) == 5


async def test_a_total_from_before_a_write_is_not_reused(postgres_storage: SqlStorage) -> None:
    index = PostgresSearchIndex(postgres_storage)
    b = SearchBackend(storage=postgres_storage, index=index)
    me = await b.account()
    entries = await b.add(*(make_entry(me, f"heron {i}") for i in range(3)))
    request = SearchRequest(query="heron", limit=2)

    assert len(await index.search(me.account_id, request)) == 2
    await b.purge(entries[0])
    await b.add(make_entry(me, "another heron"), make_entry(me, "and a third heron"))

    assert await index.count(me.account_id, request) == 4


async def test_an_any_word_search_leaves_its_count_to_count(postgres_storage: SqlStorage) -> None:
    index = PostgresSearchIndex(postgres_storage)
    b = SearchBackend(storage=postgres_storage, index=index)
    me = await b.account()
    await b.add(make_entry(me, "kite"), make_entry(me, "swift"), make_entry(me, "kite swift"))
    request = SearchRequest(query="kite swift", limit=1, match="any")

    assert len(await index.search(me.account_id, request)) == 1
    assert not index._totals._totals
    assert await index.count(me.account_id, request) == 3


async def test_similar_words_on_asyncpg_answer_as_sqlalchemy(postgres_storage: SqlStorage) -> None:
    fast = PostgresSearchIndex(postgres_storage)
    slow = PostgresSearchIndex(postgres_storage, fast_path=False)
    b = SearchBackend(storage=postgres_storage, index=fast)
    me = await b.account()
    other = await b.account()
    await b.add(make_entry(me, "The heron and the herons by the bridge; a database, databases."))
    await b.add(make_entry(other, "heroic herald"))
    words = ["heron", "heorn", "hreon", "databse", "bridg", "zebra", "the", "京都", "heroix"]

    found = await fast.similar_words(me.account_id, words)

    assert found == await slow.similar_words(me.account_id, words)
    assert found["heorn"][0] == "heron"
    assert found["databse"] == ("database",)
    assert found["zebra"] == ()
    assert "heron" not in found
    assert "the" not in found
    assert found["heroix"] == ()  # "heroic" is another account's word
