"""search_entries's pipeline in the facade: full matches, typo corrections, relaxed fill, total,
suggestions, and paging across those stages; on the in-memory index and on SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID, uuid4

import msgspec
import pytest

from trace_core.model import EntryDraft, EntryFilter, NewStream, Principal, SearchHit
from trace_core.ports import SearchRequest
from trace_core.search import HIGHLIGHT_START
from trace_core.service import Trace

pytestmark = pytest.mark.anyio


@pytest.fixture
async def me(trace: Trace) -> Principal:
    account = await trace.create_account(f"me-{uuid4().hex[:6]}@example.org")
    return trace.principal_for(account, actor="key", via="api_key")


async def _write(trace: Trace, who: Principal, *contents: str) -> list[UUID]:
    ids = []
    for content in contents:
        entry = await trace.create_entry(who, EntryDraft(content=content))
        ids.append(entry.entry_id)
    return ids


async def test_a_short_page_is_filled_with_relaxed_hits_below_the_full_matches(
    trace: Trace, me: Principal
) -> None:
    both = await _write(trace, me, "apple pie recipe", "apple and pie again")
    some = await _write(trace, me, "apple tree in bloom", "pie chart of the budget")
    await _write(trace, me, "nothing related")

    result = await trace.search_entries(me, "apple pie", limit=10)

    ids = [h.entry.entry_id for h in result.hits]
    assert set(ids[:2]) == set(both)
    assert set(ids[2:]) == set(some)
    assert [h.relaxed for h in result.hits] == [False, False, True, True]
    assert result.relaxed is True
    assert result.total == 2
    assert result.next_cursor is None


async def test_a_full_page_counts_every_full_match(trace: Trace, me: Principal) -> None:
    await _write(trace, me, *(f"garden note number {i}" for i in range(7)))
    await _write(trace, me, "garden only")

    result = await trace.search_entries(me, "garden note", limit=3)

    assert len(result.hits) == 3
    assert not any(h.relaxed for h in result.hits)
    assert result.total == 7
    assert result.next_cursor is not None


async def test_the_total_stops_at_the_cap_and_says_more_match(trace: Trace, me: Principal) -> None:
    trace.limits = msgspec.structs.replace(trace.limits, search_total_cap=4)
    await _write(trace, me, *(f"harbour log {i}" for i in range(6)))
    await _write(trace, me, *(f"lighthouse log {i}" for i in range(4)))

    many = await trace.search_entries(me, "harbour", limit=2)
    assert (many.total, many.total_more) == (4, True)
    exactly = await trace.search_entries(me, "lighthouse", limit=2)
    assert (exactly.total, exactly.total_more) == (4, False)
    # A short page knows its total without counting: under the cap, exact.
    few = await trace.search_entries(me, "lighthouse", limit=10)
    assert (few.total, few.total_more) == (4, False)
    # Without a filter the same search finds more than the cap.
    filtered = await trace.search_entries(
        me, "harbour", filters=EntryFilter(tags=["nothing-has-it"])
    )
    assert filtered.hits == []
    assert any("more than 4 entries match without the filters" in s for s in filtered.suggestions)


async def test_a_typo_searches_the_nearest_word_of_the_account(trace: Trace, me: Principal) -> None:
    [dentist] = await _write(trace, me, "Dentist appointment on Tuesday")
    other = trace.principal_for(
        await trace.create_account(f"other-{uuid4().hex[:6]}@example.org"),
        actor="key",
        via="api_key",
    )
    await _write(trace, other, "Orthodontist for the kids")

    result = await trace.search_entries(me, "dentst")

    assert [h.entry.entry_id for h in result.hits] == [dentist]
    assert result.corrected == (("dentst", "dentist"),)
    assert HIGHLIGHT_START + "Dentist" in result.hits[0].snippet
    assert result.total == 1
    # Another account's word is never a correction.
    assert (await trace.search_entries(me, "orthodontst")).hits == []


async def test_a_word_the_account_has_is_not_corrected(trace: Trace, me: Principal) -> None:
    [exact] = await _write(trace, me, "the recipt for the lamp")
    await _write(trace, me, "the receipt for the sofa")

    result = await trace.search_entries(me, "recipt")

    assert result.corrected == ()  # the account has "recipt": not a typo to correct
    assert [h.entry.entry_id for h in result.hits] == [exact]


async def test_corrected_hits_come_below_exact_ones(trace: Trace, me: Principal) -> None:
    [exact] = await _write(trace, me, "lamp receipt")
    [near] = await _write(trace, me, "the mortgage papers")

    result = await trace.search_entries(me, "lamp OR mortgge")

    assert [h.entry.entry_id for h in result.hits] == [exact, near]
    assert result.corrected == (("mortgge", "mortgage"),)


async def test_pages_across_the_stages_have_no_duplicates_or_gaps(
    trace: Trace, me: Principal
) -> None:
    full = await _write(trace, me, *(f"walnut cake variant {i}" for i in range(3)))
    partial = await _write(trace, me, *(f"walnut bread {i}" for i in range(4)))

    seen: list[UUID] = []
    cursor = None
    for _ in range(10):
        page = await trace.search_entries(me, "walnut cake", limit=2, cursor=cursor)
        seen += [h.entry.entry_id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert len(seen) == len(set(seen)) == 7
    assert set(seen[:3]) == set(full)
    assert set(seen[3:]) == set(partial)


async def test_nothing_found_suggests_what_to_try(trace: Trace, me: Principal) -> None:
    work = await trace.create_stream(me, NewStream(name="Work"))
    await trace.create_entry(me, EntryDraft(content="quarterly budget review"))
    stream_filter = EntryFilter(stream=work.stream_id)

    filtered = await trace.search_entries(me, "budget", filters=stream_filter)
    unknown_word = await trace.search_entries(me, '"budget quarterly" zzyzx')

    assert filtered.hits == []
    assert any("1 entries match without the filters stream" in s for s in filtered.suggestions)
    assert unknown_word.hits == []
    assert any("'zzyzx'" in s for s in unknown_word.suggestions)
    assert any("quotes" in s for s in unknown_word.suggestions)


async def test_results_with_hits_carry_no_suggestions(trace: Trace, me: Principal) -> None:
    await _write(trace, me, "ferry to Skye")

    result = await trace.search_entries(me, "ferry")

    assert result.suggestions == ()
    assert result.total == 1


async def test_page_one_asks_the_full_match_query_once(
    trace: Trace, me: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _write(trace, me, "Dentist appointment on Tuesday", "apple tree in bloom")
    assert trace.search is not None
    asked: list[tuple[str, str]] = []
    search = trace.search.search

    async def recorded(account_id: UUID, request: SearchRequest) -> list[SearchHit]:
        asked.append((request.parsed_query().text, request.match))
        return await search(account_id, request)

    monkeypatch.setattr(trace.search, "search", recorded)

    # Nothing has every word: the stages must not ask the empty full match again.
    typo = await trace.search_entries(me, "dentst")
    assert typo.corrected == (("dentst", "dentist"),)
    assert [m for _, m in asked] == ["all", "all"]  # typed, then corrected
    asked.clear()
    relaxed = await trace.search_entries(me, "apple xylophone")
    assert [h.relaxed for h in relaxed.hits] == [True]
    assert [m for _, m in asked] == ["all", "any"]


async def test_a_search_that_finds_nothing_looks_its_words_up_once(
    trace: Trace, me: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _write(trace, me, "apple tree in bloom")
    assert trace.search is not None
    looked_up: list[list[str]] = []
    similar_words = trace.search.similar_words

    async def recorded(account_id: UUID, words: Sequence[str]) -> dict[str, tuple[str, ...]]:
        looked_up.append(list(words))
        return await similar_words(account_id, words)

    monkeypatch.setattr(trace.search, "similar_words", recorded)

    result = await trace.search_entries(me, "zzyzx bloom")
    # The corrections and the suggestions share one lookup of the typed words.
    assert [h.relaxed for h in result.hits] == [True]
    nothing = await trace.search_entries(me, "zzyzx qwv")
    assert nothing.hits == []
    assert nothing.suggestions == ("fewer or other words",)
    assert looked_up == [["zzyzx", "bloom"], ["zzyzx", "qwv"]]
