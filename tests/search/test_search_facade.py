"""search_entries through the Trace facade: relaxing, cursors, validation, write-then-search."""

from __future__ import annotations

from uuid import uuid4

import pytest

from trace_core.errors import InvalidInputError, NotFoundError
from trace_core.model import EntryDraft, EntryFilter, EntryPatch, NewStream, Principal
from trace_core.service import Trace

pytestmark = pytest.mark.anyio


@pytest.fixture
async def alice(trace: Trace) -> Principal:
    account = await trace.create_account(f"alice-{uuid4().hex[:6]}@example.org")
    return trace.principal_for(account, actor="alice-key", via="api_key")


@pytest.fixture
async def bob(trace: Trace) -> Principal:
    account = await trace.create_account(f"bob-{uuid4().hex[:6]}@example.org")
    return trace.principal_for(account, actor="bob-key", via="api_key")


async def test_a_created_entry_is_found_as_soon_as_create_entry_returns(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="Booked the ferry to Skye"))

    result = await trace.search_entries(alice, "ferry skye")

    assert [h.entry.entry_id for h in result.hits] == [entry.entry_id]
    assert not result.relaxed


async def test_an_updated_entry_is_found_by_its_new_words_only(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="draft about herons"))
    await trace.update_entry(alice, entry.entry_id, EntryPatch(content="final about egrets"))

    assert (await trace.search_entries(alice, "herons")).hits == []
    assert len((await trace.search_entries(alice, "egrets")).hits) == 1


async def test_a_deleted_entry_is_not_found(trace: Trace, alice: Principal) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="secret gazebo plans"))
    await trace.delete_entry(alice, entry.entry_id)

    assert (await trace.search_entries(alice, "gazebo")).hits == []


async def test_when_no_entry_has_every_word_any_word_is_used_and_the_result_says_so(
    trace: Trace, alice: Principal
) -> None:
    await trace.create_entry(alice, EntryDraft(content="The plumber fixed the sink"))
    await trace.create_entry(alice, EntryDraft(content="Invoice from the electrician"))

    result = await trace.search_entries(alice, "plumber invoice")

    assert result.relaxed
    assert len(result.hits) == 2


async def test_paging_with_next_cursor_returns_every_hit_once(
    trace: Trace, alice: Principal
) -> None:
    created = {
        (await trace.create_entry(alice, EntryDraft(content=f"meadow walk number {i}"))).entry_id
        for i in range(12)
    }
    seen: list = []
    cursor = None
    for _ in range(10):
        result = await trace.search_entries(alice, "meadow", limit=5, cursor=cursor)
        seen += [h.entry.entry_id for h in result.hits]
        cursor = result.next_cursor
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 12
    assert set(seen) == created


async def test_a_relaxed_search_stays_relaxed_on_later_pages(
    trace: Trace, alice: Principal
) -> None:
    for i in range(7):
        await trace.create_entry(alice, EntryDraft(content=f"kayak trip {i}"))
        await trace.create_entry(alice, EntryDraft(content=f"canoe repair {i}"))

    first = await trace.search_entries(alice, "kayak canoe", limit=10)
    second = await trace.search_entries(alice, "kayak canoe", limit=10, cursor=first.next_cursor)

    assert first.relaxed
    assert second.relaxed
    assert second.next_cursor is None
    ids = [h.entry.entry_id for h in first.hits + second.hits]
    assert len(ids) == len(set(ids)) == 14


async def test_a_cursor_cannot_be_reused_for_another_query(trace: Trace, alice: Principal) -> None:
    for i in range(3):
        await trace.create_entry(alice, EntryDraft(content=f"orchard {i} apples"))
    first = await trace.search_entries(alice, "orchard", limit=1)

    with pytest.raises(InvalidInputError) as caught:
        await trace.search_entries(alice, "apples", limit=1, cursor=first.next_cursor)
    assert caught.value.field == "cursor"


@pytest.mark.parametrize("query", ["", "   "])
async def test_an_empty_query_is_refused_naming_the_field(
    trace: Trace, alice: Principal, query: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await trace.search_entries(alice, query)
    assert caught.value.field == "query"


async def test_punctuation_only_queries_find_nothing_without_an_error(
    trace: Trace, alice: Principal
) -> None:
    await trace.create_entry(alice, EntryDraft(content="party time"))

    result = await trace.search_entries(alice, '🎉 "" -- ()*')

    assert result.hits == []


async def test_searching_another_accounts_stream_is_not_found(
    trace: Trace, alice: Principal, bob: Principal
) -> None:
    theirs = await trace.create_stream(bob, NewStream(name="Bob's"))
    await trace.create_entry(bob, EntryDraft(content="lighthouse", stream_id=theirs.stream_id))

    with pytest.raises(NotFoundError):
        await trace.search_entries(
            alice, "lighthouse", filters=EntryFilter(stream=theirs.stream_id)
        )
    assert (await trace.search_entries(alice, "lighthouse")).hits == []


async def test_searching_an_own_stream_with_no_match_finds_nothing_without_an_error(
    trace: Trace, alice: Principal, bob: Principal
) -> None:
    mine = await trace.create_stream(alice, NewStream(name="Mine"))
    theirs = await trace.create_stream(bob, NewStream(name="Bob's"))
    await trace.create_entry(alice, EntryDraft(content="lighthouse keeper"))

    result = await trace.search_entries(
        alice, "lighthouse keeper", filters=EntryFilter(stream=mine.stream_id)
    )

    assert result.hits == []
    with pytest.raises(NotFoundError):
        await trace.search_entries(
            alice, "lighthouse keeper", filters=EntryFilter(stream=theirs.stream_id)
        )


async def test_filters_narrow_the_search(trace: Trace, alice: Principal) -> None:
    work = await trace.create_stream(alice, NewStream(name="Work"))
    in_work = await trace.create_entry(
        alice, EntryDraft(content="quarterly report", stream_id=work.stream_id, tags=("q3",))
    )
    await trace.create_entry(alice, EntryDraft(content="quarterly taxes"))

    by_stream = await trace.search_entries(
        alice, "quarterly", filters=EntryFilter(stream=work.stream_id)
    )
    by_tag = await trace.search_entries(alice, "quarterly", filters=EntryFilter(tags=("q3",)))

    assert [h.entry.entry_id for h in by_stream.hits] == [in_work.entry_id]
    assert [h.entry.entry_id for h in by_tag.hits] == [in_work.entry_id]


async def test_list_entries_with_a_query_matches_like_search(
    trace: Trace, alice: Principal
) -> None:
    stemmed = await trace.create_entry(alice, EntryDraft(content="The database migration is done"))
    await trace.create_entry(alice, EntryDraft(content="Lunch notes"))

    page = await trace.list_entries(alice, EntryFilter(text="migrating databases"))

    # A substring match would find nothing: "migrating" is not in the text.
    assert [e.entry_id for e in page.items] == [stemmed.entry_id]
    assert page.total == 1


async def test_list_entries_with_a_query_pages_by_cursor_and_counts_every_match(
    trace: Trace, alice: Principal
) -> None:
    created = {
        (await trace.create_entry(alice, EntryDraft(content=f"orchard visit {i}"))).entry_id
        for i in range(7)
    }
    await trace.create_entry(alice, EntryDraft(content="unrelated"))

    first = await trace.list_entries(alice, EntryFilter(text="orchard"), limit=3)
    seen = [e.entry_id for e in first.items]
    cursor = first.next_cursor
    while cursor:
        page = await trace.list_entries(alice, EntryFilter(text="orchard"), limit=3, cursor=cursor)
        seen += [e.entry_id for e in page.items]
        cursor = page.next_cursor

    assert first.total == 7
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created
    with pytest.raises(InvalidInputError):
        await trace.list_entries(alice, EntryFilter(text="visit"), cursor=first.next_cursor)
