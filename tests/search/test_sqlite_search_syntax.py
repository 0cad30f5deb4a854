"""SQLite FTS5 search (#13): query syntax, CJK, compounds and the new fields, on both paths.

Every test runs on the fast path (one hand-written statement) and on the
SQLAlchemy path, which must agree; ``count`` must agree with what a search finds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects.sqlite import aiosqlite

from trace_core.model import Account, Attachment, Entry, EntryFilter
from trace_core.ports import SearchRequest
from trace_core.search import parse_query
from trace_core.testing.contracts.search import T0, SearchBackend, make_entry
from trace_sql.engine import sqlite_url
from trace_sql.search import SqliteSearchIndex, fts5_match
from trace_sql.search.sqlite import _SqliteCodec
from trace_sql.storage import SqlStorage, open_storage

pytestmark = pytest.mark.anyio


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(sqlite_url(tmp_path / "syntax.db"))
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture(params=[True, False], ids=["fast", "sqlalchemy"])
def b(storage: SqlStorage, request: pytest.FixtureRequest) -> SearchBackend:
    return SearchBackend(storage=storage, index=SqliteSearchIndex(storage, fast_path=request.param))


async def _found(b: SearchBackend, me: Account, query: str, match: str = "all") -> set[str]:
    """Return the contents of what ``query`` finds, checking count() agrees."""
    hits = await b.search(me, query, match=match, limit=100)
    count = await b.index.count(me.account_id, SearchRequest(query=query, match=match))
    assert count == len(hits), (query, match)
    return {hit.entry.content for hit in hits}


async def test_phrases_exclusions_and_or(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(
        make_entry(me, "sweet potato pie"),
        make_entry(me, "potato salad, sweet and sour"),
        make_entry(me, "baking a dessert"),
        make_entry(me, "a cake for dessert"),
        make_entry(me, "plain cake"),
    )
    assert await _found(b, me, '"sweet potato"') == {"sweet potato pie"}
    both = {"sweet potato pie", "potato salad, sweet and sour"}
    assert await _found(b, me, "sweet potato") == both
    assert await _found(b, me, "dessert OR pie") == {
        "sweet potato pie",
        "baking a dessert",
        "a cake for dessert",
    }
    # Exclusions are stemmed like every word: -baking also drops "bake"d forms.
    assert await _found(b, me, "dessert -baking") == {"a cake for dessert"}
    assert await _found(b, me, 'cake -"for dessert"') == {"plain cake"}
    assert await _found(b, me, "cake OR pie -sweet") == {"a cake for dessert", "plain cake"}
    # Any-word: at least one clause, none of the exclusions.
    assert await _found(b, me, "pie salad -sour", match="any") == {"sweet potato pie"}
    # Nothing but exclusions finds nothing (and counts nothing).
    assert await _found(b, me, "-cake") == set()


async def test_nothing_typed_is_fts5_syntax(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(make_entry(me, "near and not or"), make_entry(me, "title: colon * star"))
    assert await _found(b, me, "NEAR(and not)") == {"near and not or"}
    assert await _found(b, me, "title: {colon} ^star") == {"title: colon * star"}
    assert await _found(b, me, '"unclosed') == set()
    assert await _found(b, me, "and OR") == {"near and not or"}


_PIECES = [
    '"',
    "-",
    "OR",
    "AND",
    "NOT",
    "NEAR",
    "*",
    ":",
    "(",
    ")",
    "{",
    "}",
    "^",
    "+",
    "wi-fi",
    "e-mail",
    "京都",
    "桜",
    "회의",
    "a",
    "the",
    "cat",
    "dogs",
    "x" * 70,
    "\u0301",
    "\ue000",
    "\U0001f600",
    '-"a b"',
    "'",
    "\\",
    "\x00",
]


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    text=st.text(min_size=1, max_size=40)
    | st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map(" ".join)
    | st.lists(st.sampled_from(_PIECES), min_size=1, max_size=8).map("".join)
)
async def test_no_query_text_raises(storage: SqlStorage, text: str) -> None:
    if not text.strip():
        return
    for fast in (True, False):
        index = SqliteSearchIndex(storage, fast_path=fast)
        account_id = uuid4()
        for match in ("all", "any"):
            request = SearchRequest(query=text, match=match)
            await index.search(account_id, request)
            await index.count(account_id, request)
        await index.similar_words(account_id, parse_query(text).plain_words())


async def test_cjk_substrings_are_found_inside_sentences(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(
        make_entry(me, "昨日は京都に行きました"),
        make_entry(me, "桜が咲いた"),
        make_entry(me, "서울에서 회의가 있었다"),
        make_entry(me, "东京的天气很好"),
    )
    assert await _found(b, me, "京都") == {"昨日は京都に行きました"}
    assert await _found(b, me, "京都に行") == {"昨日は京都に行きました"}
    assert await _found(b, me, "桜") == {"桜が咲いた"}
    assert await _found(b, me, "回議") == set()
    assert await _found(b, me, "회의") == {"서울에서 회의가 있었다"}
    assert await _found(b, me, "天气 东京") == {"东京的天气很好"}
    assert await _found(b, me, "京都 OR 天气") == {"昨日は京都に行きました", "东京的天气很好"}
    assert await _found(b, me, "京都 -行き") == set()
    # Grams must follow each other: both characters present apart do not match.
    assert await _found(b, me, "京行") == set()


async def test_compounds_find_each_other(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(
        make_entry(me, "the Wi-Fi is down"),
        make_entry(me, "send an email"),
        make_entry(me, "COVID-19 rules"),
        make_entry(me, "reply by e-mail"),
    )
    assert await _found(b, me, "wifi") == {"the Wi-Fi is down"}
    assert await _found(b, me, "wi-fi") == {"the Wi-Fi is down"}
    assert await _found(b, me, "e-mail") == {"send an email", "reply by e-mail"}
    assert await _found(b, me, "email") == {"send an email", "reply by e-mail"}
    assert await _found(b, me, "covid19") == {"COVID-19 rules"}


async def test_stream_names_follow_renames_and_moves(b: SearchBackend) -> None:
    me = await b.account()
    garden = await b.stream(me, "Gardening")
    kitchen = await b.stream(me, "Kitchen")
    [tomato] = await b.add(make_entry(me, "tomatoes", stream=garden))
    await b.add(make_entry(me, "gardening tools in the shed"))
    assert await _found(b, me, "gardening") == {"tomatoes", "gardening tools in the shed"}
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.streams.update(msgspec.structs.replace(garden, name="Allotment"))
    assert await _found(b, me, "allotment") == {"tomatoes"}
    assert await _found(b, me, "gardening") == {"gardening tools in the shed"}
    moved = await b.update(tomato, stream_id=kitchen.stream_id)
    assert await _found(b, me, "kitchen") == {"tomatoes"}
    assert await _found(b, me, "allotment") == set()
    await b.update(moved, stream_id=None)
    assert await _found(b, me, "kitchen") == set()
    # The entry keeps its place (document) when only its stream changes.
    assert await _found(b, me, "tomatoes") == {"tomatoes"}


def _attachment(entry: Entry, filename: str) -> Attachment:
    return Attachment(
        attachment_id=uuid4(),
        account_id=entry.account_id,
        entry_id=entry.entry_id,
        mime_type="image/png",
        file_size=1,
        created_at=T0,
        blob_key=uuid4().hex,
        sha256="0" * 64,
        filename=filename,
    )


async def test_attachment_file_names_are_searchable_while_live(b: SearchBackend) -> None:
    me = await b.account()
    [entry] = await b.add(make_entry(me, "holiday"))
    photo = _attachment(entry, "lighthouse_at_dusk.png")
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.attachments.add(photo)
        await uow.attachments.add(_attachment(entry, "harbour.jpg"))
    assert await _found(b, me, "lighthouse") == {"holiday"}
    assert await _found(b, me, "harbour dusk") == {"holiday"}
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.attachments.set_removed(me.account_id, photo.attachment_id, T0)
    assert await _found(b, me, "lighthouse") == set()
    assert await _found(b, me, "harbour") == {"holiday"}
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.attachments.set_removed(me.account_id, photo.attachment_id, None)
    assert await _found(b, me, "lighthouse") == {"holiday"}
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.attachments.purge(me.account_id, [photo.attachment_id])
    assert await _found(b, me, "lighthouse") == set()
    # An edit re-indexes the entry with its live attachments.
    await b.update(entry, content="holiday photos")
    assert await _found(b, me, "harbour") == {"holiday photos"}


async def test_fields_rank_title_then_tags_stream_files_then_content(b: SearchBackend) -> None:
    me = await b.account()
    otters = await b.stream(me, "Otters")
    late = T0 + timedelta(days=1)
    in_title = make_entry(me, "river notes", title="Otters")
    in_stream = make_entry(me, "river notes", stream=otters, created_at=late)
    in_content = make_entry(me, "otters in the river notes", created_at=late)
    await b.add(in_title, in_stream, in_content)
    filler = [make_entry(me, f"river notes {i}") for i in range(5)]
    await b.add(*filler)
    ranked = await b.ids(me, "otters")
    assert ranked == [in_title.entry_id, in_stream.entry_id, in_content.entry_id]


async def test_the_last_word_is_a_prefix_and_a_stream_filter_applies(b: SearchBackend) -> None:
    me = await b.account()
    work = await b.stream(me, "Work")
    await b.add(
        make_entry(me, "deployment plan", stream=work),
        make_entry(me, "deploying at home"),
    )
    assert await _found(b, me, "deplo") == {"deployment plan", "deploying at home"}
    in_work = await b.search(me, "deplo", EntryFilter(stream=work.stream_id))
    assert [h.entry.content for h in in_work] == ["deployment plan"]
    counted = await b.index.count(
        me.account_id, SearchRequest(query="deplo", filters=EntryFilter(stream=work.stream_id))
    )
    assert counted == 1


async def test_parsed_queries_with_corrections_are_used(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(make_entry(me, "the kingfisher"))
    parsed = parse_query("kingfishr").with_corrections({"kingfishr": ["kingfisher"]})
    request = SearchRequest(query="kingfishr", parsed=parsed)
    hits = await b.index.search(me.account_id, request)
    assert [h.entry.content for h in hits] == ["the kingfisher"]
    assert await b.index.count(me.account_id, request) == 1


def test_the_match_text_quotes_words_and_writes_the_structure() -> None:
    cols = "{title content tags stream files extra}"
    assert fts5_match(parse_query('"potato sweet" -baking dessert OR cake')) == (
        f'({cols} : (("potato sweet") AND ("dessert" OR "cake"))) NOT ({cols} : ("baking"))'
    )
    assert fts5_match(parse_query("e-mail 京都 桜")) == (
        f'{cols} : (("e mail" OR "email") AND ({{extra}} : "京都") AND ({{extra}} : "桜"*))'
    )


async def test_rebuild_recomputes_the_fields_and_the_vocabulary(storage: SqlStorage) -> None:
    import sqlalchemy as sa

    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await b.account()
    birds = await b.stream(me, "Birds")
    [kept] = await b.add(make_entry(me, "Wi-Fi in the hide", stream=birds))
    [gone] = await b.add(make_entry(me, "ephemeral words"))
    async with storage.unit_of_work(write=True) as uow:
        await uow.entries.purge(me.account_id, [gone.entry_id])
        await uow.attachments.add(_attachment(kept, "osprey.jpg"))
    async with storage.connect(write=True) as conn:
        # As if copied in by other means: no extra, no words.
        await conn.execute(sa.text("UPDATE entries SET search_extra = ''"))
        await conn.execute(sa.text("DELETE FROM search_words"))
    assert await _found(b, me, "wifi") == set()
    assert await b.index.rebuild(storage) == 1
    assert await _found(b, me, "wifi") == {"Wi-Fi in the hide"}
    assert await _found(b, me, "osprey birds") == {"Wi-Fi in the hide"}
    near = await b.index.similar_words(me.account_id, ["wiif", "ephemral", "hide"])
    assert near == {"wiif": ("wifi",), "ephemral": ()}


async def _counted(b: SearchBackend, me: Account, query: str, filters: EntryFilter) -> int:
    hits = await b.search(me, query, filters, limit=100)
    count = await b.index.count(me.account_id, SearchRequest(query=query, filters=filters))
    assert count == len(hits), (query, filters)
    return count


async def test_counts_follow_archiving_and_agree_with_every_filter(b: SearchBackend) -> None:
    me, other = await b.account(), await b.account()
    work = await b.stream(me, "Work")
    late = T0 + timedelta(days=3)
    [a, _, _] = await b.add(
        make_entry(me, "heron one", stream=work),
        make_entry(me, "heron two", created_at=late, due_date=late.date()),
        make_entry(me, "heron three", is_archived=True),
    )
    await b.add(make_entry(other, "heron elsewhere"))
    assert await _counted(b, me, "heron", EntryFilter()) == 2
    assert await _counted(b, me, "heron", EntryFilter(is_archived=True)) == 1
    assert await _counted(b, me, "heron", EntryFilter(is_archived=None)) == 3
    archived = await b.update(a, is_archived=True)
    assert await _counted(b, me, "heron", EntryFilter()) == 1
    assert await _counted(b, me, "heron", EntryFilter(is_archived=True)) == 2
    await b.update(archived, is_archived=False, content="heron one again")
    assert await _counted(b, me, "heron", EntryFilter()) == 2
    assert await _counted(b, me, "heron", EntryFilter(stream=work.stream_id)) == 1
    # Half-open creation range, due dates: the same answers on every path.
    assert await _counted(b, me, "heron", EntryFilter(created_after=late)) == 1
    assert await _counted(b, me, "heron", EntryFilter(created_before=late)) == 1
    due = (late + timedelta(days=1)).date()
    assert await _counted(b, me, "heron", EntryFilter(due_before=due)) == 1
    assert await _counted(b, me, "heron -two", EntryFilter(is_archived=None)) == 2


async def test_counts_by_stream_follow_moves(b: SearchBackend) -> None:
    me = await b.account()
    work, home = await b.stream(me, "Work"), await b.stream(me, "Home")
    [a, _, _] = await b.add(
        make_entry(me, "otter one", stream=work),
        make_entry(me, "otter two", stream=home, is_archived=True),
        make_entry(me, "otter three"),
    )
    inbox, at_work = EntryFilter(stream="inbox"), EntryFilter(stream=work.stream_id)
    at_home = EntryFilter(stream=home.stream_id, is_archived=None)
    assert await _counted(b, me, "otter", inbox) == 1
    assert await _counted(b, me, "otter", at_work) == 1
    assert await _counted(b, me, "otter", at_home) == 1
    moved = await b.update(a, stream_id=home.stream_id)
    assert await _counted(b, me, "otter", at_work) == 0
    assert await _counted(b, me, "otter", at_home) == 2
    archived = await b.update(moved, stream_id=None, is_archived=True)
    assert await _counted(b, me, "otter", inbox) == 1
    assert await _counted(b, me, "otter", EntryFilter(stream="inbox", is_archived=True)) == 1
    await b.update(archived, content="otter moved back", stream_id=work.stream_id)
    assert await _counted(b, me, "otter", EntryFilter(stream=work.stream_id, is_archived=True)) == 1


async def test_counting_stops_at_the_count_limit(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(*(make_entry(me, f"dunlin {i}") for i in range(6)))
    dated = EntryFilter(start_date=(T0 - timedelta(days=400)).date())
    for filters in (EntryFilter(), dated):
        request = SearchRequest(query="dunlin", filters=filters, count_limit=4)
        assert await b.index.count(me.account_id, request) == 4
        unlimited = msgspec.structs.replace(request, count_limit=None)
        assert await b.index.count(me.account_id, unlimited) == 6
    codec = _SqliteCodec.get(aiosqlite.dialect())
    for filters in (EntryFilter(), dated):
        sql, _ = codec.count_query(me.account_id, filters, '"dunlin"', limit=4)
        assert sql.startswith("SELECT count(*) FROM (SELECT 1 FROM ")
        assert sql.endswith(" LIMIT 4)")
