"""Relevance on a hand-written corpus: precision@5 and MRR per adapter.

precision@5 here is (relevant entries in the top 5) / min(5, number of relevant
entries), so 1.0 means every expected entry made the first five; MRR is the
mean of 1 / rank of the best-ranked relevant entry (0 when none is returned).
Queries run as the facade runs them: every word first, any word if that finds
nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from relevance_corpus import CORPUS, QUERIES

from trace_core.model import SearchHit
from trace_core.testing.contracts.search import SearchBackend, make_entry
from trace_core.testing.memory import InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_sql.engine import sqlite_url
from trace_sql.search import PostgresSearchIndex, SqliteSearchIndex
from trace_sql.storage import SqlStorage, open_storage

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# What each adapter must at least reach; the measured figures are in docs/benchmarks.md.
FLOORS = {"memory": (0.80, 0.80), "sqlite": (0.85, 0.85), "postgres": (0.85, 0.85)}


async def _search(backend: SearchBackend, account, query: str) -> list[SearchHit]:
    hits = await backend.search(account, query, limit=5)
    if not hits:
        hits = await backend.search(account, query, limit=5, match="any")
    return hits


async def measure(backend: SearchBackend) -> tuple[float, float, list[str]]:
    me = await backend.account()
    ids = {}
    entries = []
    for i, (key, (title, content, tags)) in enumerate(CORPUS.items()):
        entry = make_entry(me, content, title=title, tags=tags, created_at=T0 + timedelta(hours=i))
        ids[entry.entry_id] = key
        entries.append(entry)
    await backend.add(*entries)
    precisions, reciprocal_ranks, misses = [], [], []
    for query, relevant in QUERIES:
        top = [ids[h.entry.entry_id] for h in await _search(backend, me, query)]
        found = [k for k in top if k in relevant]
        precisions.append(len(found) / min(5, len(relevant)))
        rank = next((i + 1 for i, k in enumerate(top) if k in relevant), None)
        reciprocal_ranks.append(1 / rank if rank else 0.0)
        if rank != 1:
            misses.append(f"{query!r}: expected {relevant[0]}, got {top[:3]}")
    return (
        sum(precisions) / len(precisions),
        sum(reciprocal_ranks) / len(reciprocal_ranks),
        misses,
    )


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def adapter(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple]:
    if request.param == "memory":
        yield "memory", SearchBackend(storage=InMemoryStorage(), index=InMemorySearchIndex())
        return
    if request.param == "sqlite":
        storage: SqlStorage = await open_storage(sqlite_url(tmp_path / "relevance.db"))
        index = SqliteSearchIndex(storage)
    else:
        storage = await open_storage(request.getfixturevalue("postgres_database_url"))
        index = PostgresSearchIndex(storage)
    try:
        yield request.param, SearchBackend(storage=storage, index=index)
    finally:
        await storage.close()


async def test_relevance_on_the_hand_written_corpus(adapter, capsys) -> None:
    name, backend = adapter
    assert len(CORPUS) >= 40
    assert len(QUERIES) >= 15

    precision, mrr, misses = await measure(backend)

    with capsys.disabled():
        print(
            f"\n[relevance] {name}: precision@5 = {precision:.3f}, MRR = {mrr:.3f} "
            f"over {len(QUERIES)} queries, {len(CORPUS)} entries"
        )
        for miss in misses:
            print(f"[relevance] {name}: not first: {miss}")
    min_precision, min_mrr = FLOORS[name]
    assert precision >= min_precision
    assert mrr >= min_mrr
