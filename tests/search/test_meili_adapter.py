"""The Meilisearch adapter's request building, filters and outbox worker, against a fake client.

The real server is exercised by tests/search/test_search_contract_meili.py when
TRACE_TEST_MEILI_URL is set; these tests cover the logic on every machine.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import anyio
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trace_core.errors import InvalidInputError, UnavailableError
from trace_core.model import (
    Attachment,
    Entry,
    EntryDraft,
    EntryFilter,
    EntryPatch,
    NewStream,
    Principal,
    Stream,
    StreamPatch,
)
from trace_core.ports import SearchRequest
from trace_core.search import parse_query
from trace_core.search_text import is_term_char, typo_distance
from trace_core.service import Trace
from trace_core.testing.contracts.search import SearchBackend, make_entry
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import InMemoryBlobStore
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_meili import (
    INDEX_SETTINGS,
    FallbackSearchIndex,
    MeilisearchIndex,
    OfficialMeiliClient,
    OutboxWorker,
    build_filter,
    entry_document,
    render,
    variants,
)
from trace_meili._documents import document_entry, documents_with
from trace_meili._query import MAX_VARIANTS
from trace_sql.engine import sqlite_url
from trace_sql.search import SqliteSearchIndex
from trace_sql.search_outbox import SqlSearchOutbox
from trace_sql.storage import SqlStorage, open_storage
from trace_sql.tables import attachments as attachments_table

pytestmark = pytest.mark.anyio

ME = UUID("11111111-1111-1111-1111-111111111111")
T = datetime(2026, 3, 1, tzinfo=UTC)
Drain = Callable[[], Awaitable[dict[str, dict[str, Any]]]]


class FakeMeiliClient:
    """Keeps documents in a dict; understands the filters the adapter generates for deletes."""

    def __init__(self) -> None:
        self.documents: dict[str, dict[str, Any]] = {}
        self.settings: dict[str, Any] | None = None
        self.searches: list[tuple[str, dict[str, Any]]] = []
        self.federated: list[tuple[list[dict[str, Any]], dict[str, Any]]] = []
        self.answer: dict[str, Any] = {"hits": []}
        self.down = False

    def _check(self) -> None:
        if self.down:
            raise UnavailableError("search temporarily unavailable; retry shortly")

    async def update_settings(self, settings: Mapping[str, Any]) -> None:
        self._check()
        self.settings = dict(settings)

    async def add_documents(self, documents: Sequence[Mapping[str, Any]]) -> None:
        self._check()
        for document in documents:
            self.documents[document["id"]] = json.loads(json.dumps(document))

    async def delete_by_filter(self, filter_: str) -> None:
        self._check()
        conditions = []
        for clause in filter_.split(" AND "):
            field, op, value = re.match(r"(\w+) (=|IN) (.*)", clause).groups()  # type: ignore[union-attr]
            values = json.loads(value) if op == "IN" else [json.loads(value)]
            conditions.append((field, set(values)))
        for key, document in list(self.documents.items()):
            if all(document[field] in values for field, values in conditions):
                del self.documents[key]

    async def search(self, query: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self._check()
        self.searches.append((query, dict(params)))
        return self.answer

    async def federated_search(
        self, queries: Sequence[Mapping[str, Any]], federation: Mapping[str, Any]
    ) -> dict[str, Any]:
        self._check()
        for query in queries:
            # Meilisearch refuses pagination inside the queries of a federated search.
            assert not {"limit", "offset", "page", "hitsPerPage"} & set(query)
        self.federated.append(([dict(q) for q in queries], dict(federation)))
        return self.answer


# --- filters and request building ----------------------------------------------------


def test_the_account_filter_comes_first_and_is_always_there() -> None:
    assert build_filter(ME, EntryFilter(is_archived=None)) == f'account_id = "{ME}"'
    assert build_filter(ME, EntryFilter()).startswith(f'account_id = "{ME}" AND ')


def test_every_entry_filter_becomes_a_meilisearch_clause() -> None:
    stream = uuid4()
    text = build_filter(
        ME,
        EntryFilter(
            stream=stream,
            tags=("a", "b"),
            tags_mode="all",
            status="done",
            type="task",
            is_archived=True,
            is_pinned=False,
            start_date=date(2026, 1, 1),
            end_date=date(2026, 1, 31),
            created_after=datetime(2026, 1, 1, tzinfo=UTC),
            created_before=datetime(2026, 2, 1, tzinfo=UTC),
            updated_after=datetime(2026, 1, 2, tzinfo=UTC),
            updated_before=datetime(2026, 2, 2, tzinfo=UTC),
        ),
    )
    assert text.split(" AND ") == [
        f'account_id = "{ME}"',
        f'stream = "{stream}"',
        'tags = "a"',
        'tags = "b"',
        'status = "done"',
        'type = "task"',
        "is_archived = true",
        "is_pinned = false",
        f"entry_day >= {date(2026, 1, 1).toordinal()}",
        f"entry_day <= {date(2026, 1, 31).toordinal()}",
        f"created_ts >= {datetime(2026, 1, 1, tzinfo=UTC).timestamp()!r}",
        f"created_ts < {datetime(2026, 2, 1, tzinfo=UTC).timestamp()!r}",
        f"updated_ts >= {datetime(2026, 1, 2, tzinfo=UTC).timestamp()!r}",
        f"updated_ts < {datetime(2026, 2, 2, tzinfo=UTC).timestamp()!r}",
    ]


def test_inbox_and_any_tag_filters() -> None:
    text = build_filter(ME, EntryFilter(stream="inbox", tags=("x", "y")))
    assert 'stream = "inbox"' in text
    assert 'tags IN ["x", "y"]' in text


def test_a_hostile_filter_value_stays_inside_its_quotes() -> None:
    other = uuid4()
    hostile = f'x" OR account_id = "{other}'
    text = build_filter(ME, EntryFilter(status=hostile, is_archived=None))
    assert text == f'account_id = "{ME}" AND status = {json.dumps(hostile)}'
    # The quote is escaped, so the whole value is one string literal.
    assert '\\"' in text


def test_search_parameters_ask_for_highlights_scores_and_a_stable_order() -> None:
    index = MeilisearchIndex(FakeMeiliClient())
    params = index.search_params(ME, SearchRequest(query="x", limit=7, offset=14, match="any"))
    assert params["limit"] == 7
    assert params["offset"] == 14
    assert params["matchingStrategy"] == "last"
    assert params["highlightPreTag"] == "**"
    assert params["showRankingScore"] is True
    assert params["sort"] == ["entry_day:desc", "created_ts:desc"]
    assert params["filter"].startswith(f'account_id = "{ME}"')
    all_words = index.search_params(ME, SearchRequest(query="x"))
    assert all_words["matchingStrategy"] == "all"


def test_settings_make_every_filtered_field_filterable() -> None:
    clauses = build_filter(
        ME,
        EntryFilter(
            stream="inbox",
            tags=("t",),
            status="s",
            type="t",
            is_pinned=True,
            start_date=date(2026, 1, 1),
            created_after=datetime(2026, 1, 1, tzinfo=UTC),
            updated_after=datetime(2026, 1, 1, tzinfo=UTC),
        ),
    )
    fields = {clause.split(" ")[0] for clause in clauses.split(" AND ")}
    assert fields <= set(INDEX_SETTINGS["filterableAttributes"])
    assert INDEX_SETTINGS["searchableAttributes"][0] == "title"


async def test_configure_applies_the_settings() -> None:
    client = FakeMeiliClient()
    await MeilisearchIndex(client).configure()
    assert client.settings == INDEX_SETTINGS


async def test_the_query_sent_is_the_parsed_query_never_the_typed_syntax() -> None:
    client = FakeMeiliClient()
    await MeilisearchIndex(client).search(
        ME, SearchRequest(query='"budget plan" -draft (q3*) AND NOT x:y')
    )
    # The phrase quoted, the exclusion first, every other character only a separator
    # (AND and NOT are stop words here, not operators);
    # the space after the last word keeps Meilisearch from matching it as a prefix.
    assert client.searches[0][0] == '-draft "budget plan" q3 x y '


async def test_hits_become_entries_with_scores_and_highlighted_snippets() -> None:
    client = FakeMeiliClient()
    account = SearchBackendAccount(ME)
    mine = make_entry(account, "the quarterly budget", title="Plan")
    theirs = make_entry(SearchBackendAccount(uuid4()), "their budget")
    client.answer = {
        "hits": [
            {
                **entry_document(mine),
                "_rankingScore": 0.9,
                "_formatted": {"content": "the quarterly **budget**", "title": "Plan"},
            },
            # A document of another account must never come back, whatever the engine does.
            {**entry_document(theirs), "_rankingScore": 0.8, "_formatted": {}},
        ]
    }

    hits = await MeilisearchIndex(client).search(ME, SearchRequest(query="budget"))

    assert [h.entry for h in hits] == [mine]
    assert hits[0].score == 0.9
    assert hits[0].snippet == "the quarterly **budget**"


async def test_an_empty_query_is_refused_before_calling_meilisearch() -> None:
    client = FakeMeiliClient()
    with pytest.raises(InvalidInputError):
        await MeilisearchIndex(client).search(ME, SearchRequest(query="  "))
    assert client.searches == []


async def test_search_while_meilisearch_is_down_is_unavailable() -> None:
    client = FakeMeiliClient()
    client.down = True
    with pytest.raises(UnavailableError):
        await MeilisearchIndex(client).search(ME, SearchRequest(query="budget"))


async def test_the_fallback_answers_while_meilisearch_is_down() -> None:
    client = FakeMeiliClient()
    client.down = True
    fallback = InMemorySearchIndex()
    entry = make_entry(SearchBackendAccount(ME), "budget notes")
    await fallback.index([entry])

    hits = await FallbackSearchIndex(MeilisearchIndex(client), fallback).search(
        ME, SearchRequest(query="budget")
    )

    assert [h.entry.entry_id for h in hits] == [entry.entry_id]


async def test_starting_the_fallback_starts_both_indexes_and_runs_their_background_work() -> None:
    events: list[str] = []

    class Recording(InMemorySearchIndex):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        async def start(self) -> None:
            events.append(f"{self.name} started")

        @asynccontextmanager
        async def background(self) -> AsyncIterator[None]:
            events.append(f"{self.name} running")
            yield
            events.append(f"{self.name} stopped")

    index = FallbackSearchIndex(Recording("primary"), Recording("fallback"))

    await index.start()
    async with index.background():
        events.append("serving")

    assert events == [
        "primary started",
        "fallback started",
        "primary running",
        "fallback running",
        "serving",
        "fallback stopped",
        "primary stopped",
    ]


async def test_an_index_not_fed_by_an_outbox_starts_by_applying_its_settings_only() -> None:
    client = FakeMeiliClient()
    index = MeilisearchIndex(client)

    await index.start()
    async with index.background():
        pass

    assert client.settings == INDEX_SETTINGS


async def test_an_outbox_fed_index_needs_the_storage_its_worker_reads(storage: SqlStorage) -> None:
    with pytest.raises(ValueError, match="storage"):
        MeilisearchIndex(FakeMeiliClient(), outbox=SqlSearchOutbox(storage))


async def test_the_official_client_reports_an_unreachable_server_as_unavailable() -> None:
    client = OfficialMeiliClient("http://127.0.0.1:9", timeout=1)
    with pytest.raises(UnavailableError) as caught:
        await MeilisearchIndex(client).search(ME, SearchRequest(query="budget"))
    assert caught.value.code == "unavailable"


# --- the outbox worker on a real SQLite outbox ------------------------------------------


class SearchBackendAccount:
    """Just enough of an Account for make_entry."""

    def __init__(self, account_id: UUID) -> None:
        self.account_id = account_id


class Clock:
    """Epoch seconds that only move when the test says so (starts just after the real now)."""

    def __init__(self) -> None:
        self.now = time.time() + 1.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(sqlite_url(tmp_path / "outbox.db"))
    await SqlSearchOutbox(storage).enable()
    try:
        yield storage
    finally:
        await storage.close()


def _worker(storage: SqlStorage, client: FakeMeiliClient, clock: Clock) -> OutboxWorker:
    return OutboxWorker(
        SqlSearchOutbox(storage),
        storage,
        MeilisearchIndex(client),
        clock=clock,
        base_delay=2.0,
        max_delay=60.0,
        jitter=0,
    )


async def test_written_entries_reach_meilisearch_through_the_outbox(storage: SqlStorage) -> None:
    client, clock = FakeMeiliClient(), Clock()
    backend = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await backend.account()
    first, second = make_entry(me, "one"), make_entry(me, "two")
    await backend.add(first, second)

    applied = await _worker(storage, client, clock).drain()

    assert applied == 2
    assert set(client.documents) == {str(first.entry_id), str(second.entry_id)}
    assert client.documents[str(first.entry_id)]["account_id"] == str(me.account_id)
    assert await SqlSearchOutbox(storage).pending() == 0


async def test_deleted_and_purged_entries_are_removed_from_meilisearch(
    storage: SqlStorage,
) -> None:
    client, clock = FakeMeiliClient(), Clock()
    backend = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await backend.account()
    soft, hard, kept = make_entry(me, "soft"), make_entry(me, "hard"), make_entry(me, "kept")
    await backend.add(soft, hard, kept)
    worker = _worker(storage, client, clock)
    await worker.drain()

    await backend.update(soft, deleted_at=datetime(2026, 3, 2, tzinfo=UTC))
    await backend.purge(hard)
    await worker.drain()

    assert set(client.documents) == {str(kept.entry_id)}


async def test_writes_succeed_while_meilisearch_is_down_and_are_indexed_once_it_is_back(
    storage: SqlStorage,
) -> None:
    client, clock = FakeMeiliClient(), Clock()
    client.down = True
    backend = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await backend.account()
    entry = make_entry(me, "written during the outage")
    await backend.add(entry)  # the write itself must not fail
    worker = _worker(storage, client, clock)

    assert await worker.run_once() == 0
    assert await SqlSearchOutbox(storage).pending() == 1
    # Backing off: not retried before the delay has passed, even once the engine is back.
    client.down = False
    clock.now += 1.0
    assert await worker.run_once() == 0
    clock.now += 1.5
    assert await worker.run_once() == 1
    assert str(entry.entry_id) in client.documents


async def test_retries_back_off_exponentially_up_to_a_cap() -> None:
    worker = OutboxWorker(
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        base_delay=1.0,
        max_delay=30.0,
        jitter=0,
    )
    assert [worker.backoff(n) for n in range(7)] == [1, 2, 4, 8, 16, 30, 30]


async def test_the_outbox_records_nothing_until_enabled(tmp_path: Path) -> None:
    storage = await open_storage(sqlite_url(tmp_path / "off.db"))
    try:
        backend = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
        me = await backend.account()
        await backend.add(make_entry(me, "quiet"))
        assert await SqlSearchOutbox(storage).pending() == 0
    finally:
        await storage.close()


async def test_rebuild_replaces_an_accounts_documents(storage: SqlStorage) -> None:
    client = FakeMeiliClient()
    backend = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await backend.account()
    entry = make_entry(me, "kept")
    await backend.add(entry)
    client.documents["stale"] = {"id": "stale", "account_id": str(me.account_id)}
    progress: list[tuple[int, int]] = []

    count = await MeilisearchIndex(client).rebuild(
        storage, progress=lambda d, t: progress.append((d, t))
    )

    assert count == 1
    assert set(client.documents) == {str(entry.entry_id)}
    assert progress[-1] == (1, 1)


async def test_the_server_lifespan_feeds_meilisearch_while_it_runs(tmp_path: Path) -> None:
    import anyio

    from trace_core.model import EntryDraft
    from trace_core.service import Trace
    from trace_core.testing.memory import InMemoryBlobStore
    from trace_http.runtime import search_job
    from trace_sql.search_outbox import SqlSearchOutbox

    storage = await open_storage(sqlite_url(tmp_path / "served.db"))
    client = FakeMeiliClient()
    arrived = anyio.Event()
    original = client.add_documents

    async def add_documents(documents: Sequence[Mapping[str, Any]]) -> None:
        await original(documents)
        arrived.set()

    client.add_documents = add_documents  # type: ignore[method-assign]
    index = MeilisearchIndex(client, outbox=SqlSearchOutbox(storage), storage=storage)
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), search=index)
    try:
        account = await trace.create_account("ada@example.org")
        ada = trace.principal_for(account, actor="test")
        async with search_job(trace.search)():
            assert client.settings == INDEX_SETTINGS  # configured at start
            entry = await trace.create_entry(ada, EntryDraft(content="served while running"))
            with anyio.fail_after(10):
                await arrived.wait()
        assert str(entry.entry_id) in client.documents
    finally:
        await storage.close()


async def test_count_asks_meilisearch_for_the_estimated_total_of_the_account_only() -> None:
    client = FakeMeiliClient()
    client.answer = {"hits": [], "estimatedTotalHits": 42}

    count = await MeilisearchIndex(client).count(ME, SearchRequest(query="budget", limit=5))

    assert count == 42
    query, params = client.searches[0]
    assert query == "budget"
    assert params["limit"] == 0
    assert params["filter"].startswith(f'account_id = "{ME}"')


class _OvertakenClient(FakeMeiliClient):
    """Runs ``meanwhile`` once, inside the first document upload, before storing it.

    That is a worker whose request is still on its way while the entry changes and
    another worker (a second replica) sends the newer state first.
    """

    def __init__(self) -> None:
        super().__init__()
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def add_documents(self, documents: Sequence[Mapping[str, Any]]) -> None:
        hook, self.meanwhile = self.meanwhile, None
        if hook is not None:
            await hook()
        await super().add_documents(documents)


async def test_a_state_overtaken_by_another_workers_newer_one_is_sent_again(
    storage: SqlStorage,
) -> None:
    client, clock = _OvertakenClient(), Clock()
    backend = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await backend.account()
    entry = make_entry(me, "the old words")
    await backend.add(entry)
    slow, fast = _worker(storage, client, clock), _worker(storage, client, clock)

    async def edited_and_sent_by_the_other_replica() -> None:
        await backend.update(entry, content="the new words")
        assert await fast.drain() >= 1

    client.meanwhile = edited_and_sent_by_the_other_replica
    await slow.drain()

    assert client.documents[str(entry.entry_id)]["content"] == "the new words"
    assert await SqlSearchOutbox(storage).pending() == 0


# --- the query in Meilisearch's syntax ----------------------------------------------------


def _variants(text: str) -> list[str]:
    return variants(parse_query(text))


def test_words_phrases_and_exclusions_render_in_meilisearch_syntax() -> None:
    assert _variants("budget") == ["budget"]  # still being typed: a prefix
    assert _variants("budget ") == ["budget "]  # done: a whole word
    assert _variants('"sweet potato" pie') == ['"sweet potato" pie']
    # Exclusions first: Meilisearch stops reading after ten terms.
    assert _variants('pie -baking -"deep fried"') == ['-baking -"deep fried" pie ']
    assert render([("a",), ("b", "c")], [("x",)], prefix_word="b") == '-x a "b c" '
    # A word Meilisearch may cut in several is excluded whole, as a phrase.
    assert _variants("trip -京都 -café") == ['-"京都" -"café" trip ']
    assert render([("a",), ("b",)], prefix_word="b") == "a b"


def test_or_between_alternatives_becomes_one_variant_per_combination() -> None:
    assert _variants("dessert OR cake -baking") == ["-baking dessert ", "-baking cake "]
    assert _variants("e-mail setup") == ['"e mail" setup', "email setup"]
    assert _variants("a OR b c OR d") == ["a c ", "a d ", "b c ", "b d "]


def test_too_many_combinations_still_search_every_alternative_once() -> None:
    query = parse_query(" ".join(" OR ".join(f"w{c}{i}" for i in range(5)) for c in "xyz"))
    found = variants(query)
    assert len(found) == 5 <= MAX_VARIANTS
    assert found[0] == "wx0 wy0 wz0 "
    for clause in query.all_clauses:
        for (word,) in clause:
            assert any(word in variant.split() for variant in found)


def test_a_cjk_last_word_stays_open_for_the_longer_word_it_starts() -> None:
    # Meilisearch cuts 京都に行 into 京都 / に / 行, and the text has 行き.
    assert _variants("京都に行") == ["京都に行"]
    assert _variants("京都 tokyo") == ["京都 tokyo"]
    assert _variants("tokyo. 京都.") == ["tokyo 京都"]


def test_a_query_of_exclusions_only_finds_nothing_without_asking() -> None:
    assert _variants("-draft") == []


def test_typo_corrections_from_the_facade_are_alternatives_like_others() -> None:
    corrected = parse_query("budgte plan").with_corrections({"budgte": ["budget"]})
    assert [v.strip() for v in variants(corrected)] == ["budgte plan", "budget plan"]


def _is_meilisearch_syntax(q: str) -> bool:
    """Whether ``q`` is words, quoted phrases and -exclusions, one space apart, nothing else."""
    pos = 0
    while pos < len(q):
        if q[pos] == "-":
            pos += 1
        if pos < len(q) and q[pos] == '"':
            end = q.find('"', pos + 1)
            inner = q[pos + 1 : end]
            if end < 0 or not inner or any(w == "" for w in inner.split(" ")):
                return False
            if not all(is_term_char(c) for c in inner.replace(" ", "")):
                return False
            pos = end + 1
        else:
            end = q.find(" ", pos)
            end = len(q) if end < 0 else end
            if end == pos or not all(is_term_char(c) for c in q[pos:end]):
                return False
            pos = end
        if pos < len(q):
            if q[pos] != " ":
                return False
            pos += 1
    return True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=200)
    | st.lists(
        st.sampled_from(['"', "-", "OR", " ", "a", "é", "京都", "e-mail", "(", "*", ":"]),
        max_size=30,
    ).map("".join)
)
def test_no_typed_text_ever_renders_anything_but_meilisearch_syntax(text: str) -> None:
    try:
        query = parse_query(text)
    except InvalidInputError:
        return  # blank or too long: refused before any engine is asked
    found = variants(query)
    assert len(found) <= MAX_VARIANTS
    assert bool(found) == (not query.is_empty)
    for q in found:
        assert isinstance(q, str)
        assert _is_meilisearch_syntax(q), q


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80))
def test_no_typed_text_makes_a_search_or_count_raise(text: str) -> None:
    client = FakeMeiliClient()
    index = MeilisearchIndex(client)

    async def run() -> None:
        for match in ("all", "any"):
            request = SearchRequest(query=text, match=match)
            try:
                await index.search(ME, request)
                await index.count(ME, request)
            except InvalidInputError:
                assert not text.strip() or len(text) > 80

    anyio.run(run)
    for query, params in client.searches:
        assert _is_meilisearch_syntax(query)
        assert params["filter"].startswith(f'account_id = "{ME}"')


async def test_or_is_one_federated_search_of_the_variants_paged_and_filtered_as_one() -> None:
    client = FakeMeiliClient()
    mine = make_entry(SearchBackendAccount(ME), "cake")
    client.answer = {"hits": [{**entry_document(mine), "_rankingScore": 0.5}]}
    index = MeilisearchIndex(client)

    request = SearchRequest(query="dessert OR cake", limit=5, offset=10, match="all")
    hits = await index.search(ME, request)

    assert [h.entry.entry_id for h in hits] == [mine.entry_id]
    assert client.searches == []
    queries, federation = client.federated[0]
    assert federation == {"limit": 5, "offset": 10}
    assert [q["q"] for q in queries] == ["dessert ", "cake "]
    for query in queries:
        assert query["filter"].startswith(f'account_id = "{ME}"')
        assert query["matchingStrategy"] == "all"
        assert query["showRankingScore"] is True

    client.answer = {"hits": [], "estimatedTotalHits": 7}
    assert await index.count(ME, request) == 7
    queries, federation = client.federated[1]
    assert federation == {"limit": 0, "offset": 0}
    assert len(queries) == 2


# --- documents: the stream's name and the file names -----------------------------------------


def test_documents_carry_the_stream_name_and_live_file_names() -> None:
    account = SearchBackendAccount(ME)
    stream = Stream(stream_id=uuid4(), account_id=ME, name="Garden", created_at=T, updated_at=T)
    inside = make_entry(account, "roses", stream=stream)  # type: ignore[arg-type]
    inbox = make_entry(account, "loose")  # type: ignore[arg-type]

    def attachment(entry: Entry, name: str | None, removed: bool = False) -> Attachment:
        return Attachment(
            attachment_id=uuid4(),
            account_id=ME,
            entry_id=entry.entry_id,
            mime_type="image/png",
            file_size=1,
            created_at=T,
            blob_key="k",
            sha256="0",
            filename=name,
            removed_at=T if removed else None,
        )

    documents = documents_with(
        [inside, inbox],
        [stream],
        [
            attachment(inside, "plan.png"),
            attachment(inside, "old.png", removed=True),
            attachment(inside, None),
            attachment(inbox, "scan.jpg"),
        ],
    )

    assert [(d["stream_name"], d["attachment_names"]) for d in documents] == [
        ("Garden", ["plan.png"]),
        ("", ["scan.jpg"]),
    ]
    assert document_entry(documents[0]) == inside


def test_the_new_fields_are_searched_below_the_title_and_above_the_content() -> None:
    order = INDEX_SETTINGS["searchableAttributes"]
    assert order[0] == "title"
    assert order[-1] == "content"
    assert {"stream_name", "attachment_names"} <= set(order[1:-1])


@pytest.fixture
async def served(sql_storage: SqlStorage) -> AsyncIterator[tuple[Trace, Principal, Drain]]:
    client = FakeMeiliClient()
    outbox = SqlSearchOutbox(sql_storage)
    index = MeilisearchIndex(client, outbox=outbox, storage=sql_storage)
    await index.start()
    trace = Trace(storage=sql_storage, blobs=InMemoryBlobStore(), search=index)
    account = await trace.create_account(f"{uuid4().hex}@example.org")
    worker = OutboxWorker(outbox, sql_storage, index, jitter=0)

    async def drain() -> dict[str, dict[str, Any]]:
        await worker.drain()
        return client.documents

    yield trace, trace.principal_for(account, actor="test"), drain
    await outbox.disable()


async def test_a_stream_rename_reaches_the_documents_of_its_entries(
    served: tuple[Trace, Principal, Drain],
) -> None:
    trace, me, drain = served
    garden = await trace.create_stream(me, NewStream(name="Garden"))
    kitchen = await trace.create_stream(me, NewStream(name="Kitchen"))
    rose = await trace.create_entry(me, EntryDraft(content="roses", stream_id=garden.stream_id))
    pot = await trace.create_entry(me, EntryDraft(content="pots", stream_id=kitchen.stream_id))
    documents = await drain()
    assert documents[str(rose.entry_id)]["stream_name"] == "Garden"

    await trace.update_stream(me, garden.stream_id, StreamPatch(name="Orchard"))
    documents = await drain()

    assert documents[str(rose.entry_id)]["stream_name"] == "Orchard"
    assert documents[str(pot.entry_id)]["stream_name"] == "Kitchen"
    # Moving an entry is an entry write: its document follows.
    await trace.update_entry(me, rose.entry_id, EntryPatch(stream_id=kitchen.stream_id))
    assert (await drain())[str(rose.entry_id)]["stream_name"] == "Kitchen"


async def test_added_removed_and_restored_attachments_reach_the_document(
    served: tuple[Trace, Principal, Drain], sql_storage: SqlStorage
) -> None:
    trace, me, drain = served
    entry = await trace.create_entry(me, EntryDraft(content="receipts"))
    added = await trace.add_attachment(me, entry.entry_id, png_bytes(2, 2), filename="March.png")
    assert (await drain())[str(entry.entry_id)]["attachment_names"] == ["March.png"]

    await trace.delete_attachment(me, added.attachment.attachment_id)
    assert (await drain())[str(entry.entry_id)]["attachment_names"] == []

    await trace.restore_attachment(me, added.attachment.attachment_id)
    assert (await drain())[str(entry.entry_id)]["attachment_names"] == ["March.png"]

    # Written without the facade (an import, a fix in a SQL shell): the trigger records it.
    async with sql_storage.connect(write=True, account_id=me.account_id) as conn:
        await conn.execute(
            sa.update(attachments_table)
            .where(attachments_table.c.attachment_id == added.attachment.attachment_id)
            .values(filename="April.png")
        )
    assert (await drain())[str(entry.entry_id)]["attachment_names"] == ["April.png"]


async def test_rebuild_sends_the_stream_names_and_file_names(sql_storage: SqlStorage) -> None:
    trace = Trace(storage=sql_storage, blobs=InMemoryBlobStore())
    account = await trace.create_account(f"{uuid4().hex}@example.org")
    me = trace.principal_for(account, actor="test")
    garden = await trace.create_stream(me, NewStream(name="Garden"))
    entry = await trace.create_entry(me, EntryDraft(content="roses", stream_id=garden.stream_id))
    await trace.add_attachment(me, entry.entry_id, png_bytes(2, 2), filename="bed.png")
    client = FakeMeiliClient()

    await MeilisearchIndex(client).rebuild(sql_storage)

    document = client.documents[str(entry.entry_id)]
    assert (document["stream_name"], document["attachment_names"]) == ("Garden", ["bed.png"])


async def test_a_match_only_in_a_file_name_or_the_stream_name_is_the_snippet() -> None:
    client = FakeMeiliClient()
    entry = make_entry(SearchBackendAccount(ME), "nothing to see")  # type: ignore[arg-type]
    document = entry_document(entry, stream_name="Garden", attachment_names=["roses.png"])
    unmarked = {"content": "nothing to see", "title": "", "tags": []}
    client.answer = {
        "hits": [
            {**document, "_formatted": {**unmarked, "attachment_names": ["**roses**.png"]}},
            {**document, "_formatted": {**unmarked, "stream_name": "**Garden**"}},
        ]
    }

    hits = await MeilisearchIndex(client).search(ME, SearchRequest(query="roses"))

    assert [h.snippet for h in hits] == ["**roses**.png", "**Garden**"]


async def test_a_compound_meilisearch_marked_in_parts_is_marked_as_one() -> None:
    client = FakeMeiliClient()
    entry = make_entry(SearchBackendAccount(ME), "The Wi-Fi password")  # type: ignore[arg-type]
    formatted = {"content": "The **Wi**-**Fi** password, **a**. **b**"}
    client.answer = {"hits": [{**entry_document(entry), "_formatted": formatted}]}

    [hit] = await MeilisearchIndex(client).search(ME, SearchRequest(query="wifi"))

    assert hit.snippet == "The **Wi-Fi** password, **a**. **b**"
    assert "stream_name" in client.searches[0][1]["attributesToHighlight"]


async def test_the_official_client_sends_a_federated_search_of_its_index() -> None:
    client = OfficialMeiliClient("http://127.0.0.1:9", index_uid="notes", timeout=1)
    sent: list[tuple[Any, Any]] = []

    def multi_search(queries: Any, federation: Any) -> dict[str, Any]:
        sent.append((queries, federation))
        return {"hits": [], "estimatedTotalHits": 0}

    client._client.multi_search = multi_search  # type: ignore[method-assign,assignment]
    answer = await client.federated_search([{"q": "a "}, {"q": "b "}], {"limit": 3, "offset": 0})

    assert answer == {"hits": [], "estimatedTotalHits": 0}
    assert sent == [
        (
            [{"q": "a ", "indexUid": "notes"}, {"q": "b ", "indexUid": "notes"}],
            {"limit": 3, "offset": 0},
        )
    ]


async def test_a_federated_search_on_an_unreachable_server_is_unavailable() -> None:
    client = OfficialMeiliClient("http://127.0.0.1:9", timeout=1)
    with pytest.raises(UnavailableError):
        await MeilisearchIndex(client).search(ME, SearchRequest(query="cake OR pie"))


def test_meilisearch_allows_typos_from_the_word_lengths_the_other_indexes_do() -> None:
    sizes = INDEX_SETTINGS["typoTolerance"]["minWordSizeForTypos"]
    lengths = range(1, 20)
    one = [n for n in lengths if typo_distance("a" * n) >= 1]
    two = [n for n in lengths if typo_distance("a" * n) >= 2]
    assert (sizes["oneTypo"], sizes["twoTypos"]) == (one[0], two[0])


async def test_indexing_with_the_storage_reads_the_names_too(storage: SqlStorage) -> None:
    backend = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await backend.account()
    stream = await backend.stream(me, "Garden")
    entry = make_entry(me, "roses", stream=stream)
    await backend.add(entry)
    await backend.attach(entry, "bed.png")
    client = FakeMeiliClient()
    index = MeilisearchIndex(client, outbox=SqlSearchOutbox(storage), storage=storage)

    await index.index([entry])

    document = client.documents[str(entry.entry_id)]
    assert (document["stream_name"], document["attachment_names"]) == ("Garden", ["bed.png"])
    await MeilisearchIndex(client).index([entry])  # without the storage: no names to read
    assert client.documents[str(entry.entry_id)]["stream_name"] == ""
