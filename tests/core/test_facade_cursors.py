"""Page cursors through the facade, on every backend: they round-trip, and only they do.

Every listing that pages (``list_entries`` with and without a query,
``search_entries``, ``list_trash``) hands out cursors signed with the facade's
cursor key; a cursor that was altered, made up, or made for another query,
listing or account is refused with ``invalid_input`` naming ``cursor``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from trace_core.errors import InvalidInputError
from trace_core.model import EntryDraft, EntryFilter, Principal
from trace_core.ports import SearchIndex, Storage
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_sql import SqlStorage
from trace_sql.search import create_sql_search_index

pytestmark = pytest.mark.anyio


@pytest.fixture
def search_index(storage: Storage) -> SearchIndex:
    """The backend's own ranked search (in memory, FTS5 or Postgres full-text)."""
    if isinstance(storage, SqlStorage):
        return create_sql_search_index(storage)
    return InMemorySearchIndex()


@pytest.fixture
def ranked(storage: Storage, search_index: SearchIndex, clock: FixedClock) -> Trace:
    """A facade with ranked search, sharing ``trace``'s storage but not its cursor key."""
    return Trace(storage=storage, blobs=InMemoryBlobStore(), search=search_index, clock=clock)


async def _fill(trace: Trace, who: Principal, clock: FixedClock, n: int = 7) -> None:
    for i in range(n):
        clock.advance(seconds=1)
        entry = await trace.create_entry(who, EntryDraft(content=f"meadow walk number {i}"))
        if i % 2:
            await trace.delete_entry(who, entry.entry_id)


Pages = Callable[[str | None], Awaitable[tuple[list[Any], str | None]]]


async def _walk(first_page: Pages) -> list[Any]:
    seen: list[Any] = []
    cursor: str | None = None
    for _ in range(20):
        items, cursor = await first_page(cursor)
        seen += items
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


async def test_every_listing_pages_to_the_end_by_cursor_on_every_backend(
    ranked: Trace, alice: Principal, clock: FixedClock
) -> None:
    await _fill(ranked, alice, clock, n=9)

    async def entries(cursor: str | None) -> tuple[list[Any], str | None]:
        page = await ranked.list_entries(alice, limit=2, cursor=cursor)
        return [e.entry_id for e in page.items], page.next_cursor

    async def queried(cursor: str | None) -> tuple[list[Any], str | None]:
        page = await ranked.list_entries(alice, EntryFilter(text="meadow"), limit=2, cursor=cursor)
        return [e.entry_id for e in page.items], page.next_cursor

    async def searched(cursor: str | None) -> tuple[list[Any], str | None]:
        result = await ranked.search_entries(alice, "meadow walk", limit=2, cursor=cursor)
        return [h.entry.entry_id for h in result.hits], result.next_cursor

    async def trash(cursor: str | None) -> tuple[list[Any], str | None]:
        page = await ranked.list_trash(alice, limit=2, cursor=cursor)
        return [e.entry_id for e in page.items], page.next_cursor

    live = [e.entry_id for e in (await ranked.list_entries(alice)).items]
    deleted = [e.entry_id for e in (await ranked.list_trash(alice)).items]
    assert (len(live), len(deleted)) == (5, 4)
    assert await _walk(entries) == live
    assert sorted(map(str, await _walk(queried))) == sorted(map(str, live))
    assert sorted(map(str, await _walk(searched))) == sorted(map(str, live))
    assert await _walk(trash) == deleted


async def _cursors(trace: Trace, who: Principal) -> dict[str, str]:
    pages = {
        "entries": await trace.list_entries(who, limit=1),
        "entries-search": await trace.list_entries(who, EntryFilter(text="meadow"), limit=1),
        "trash": await trace.list_trash(who, limit=1),
    }
    cursors = {kind: page.next_cursor for kind, page in pages.items()}
    cursors["search"] = (await trace.search_entries(who, "meadow", limit=1)).next_cursor
    assert all(cursors.values())
    return cursors  # type: ignore[return-value]


def _use(trace: Trace, who: Principal, kind: str, cursor: str) -> Awaitable[Any]:
    if kind == "entries":
        return trace.list_entries(who, limit=1, cursor=cursor)
    if kind == "entries-search":
        return trace.list_entries(who, EntryFilter(text="meadow"), limit=1, cursor=cursor)
    if kind == "trash":
        return trace.list_trash(who, limit=1, cursor=cursor)
    return trace.search_entries(who, "meadow", limit=1, cursor=cursor)


async def _refused(call: Awaitable[Any]) -> str:
    with pytest.raises(InvalidInputError) as caught:
        await call
    assert caught.value.field == "cursor"
    return caught.value.message


KINDS = ["entries", "entries-search", "search", "trash"]


@pytest.mark.parametrize("kind", KINDS)
async def test_an_altered_cursor_is_refused(
    ranked: Trace, alice: Principal, clock: FixedClock, kind: str
) -> None:
    await _fill(ranked, alice, clock)
    cursor = (await _cursors(ranked, alice))[kind]
    raw = bytearray(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    raw[len(raw) // 3] ^= 0x01  # one bit of the payload
    altered = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    await _refused(_use(ranked, alice, kind, altered))


@pytest.mark.parametrize("kind", ["entries-search", "search", "trash"])
async def test_a_made_up_offset_cursor_is_refused(
    ranked: Trace, alice: Principal, clock: FixedClock, kind: str
) -> None:
    # The old search cursor: base64 of JSON with any offset, checked by an unkeyed hash.
    await _fill(ranked, alice, clock)
    forged = base64.urlsafe_b64encode(json.dumps([10**6, "all", "0" * 16]).encode()).decode()
    await _refused(_use(ranked, alice, kind, forged))


async def test_a_cursor_from_another_query_or_filter_is_refused(
    ranked: Trace, alice: Principal, clock: FixedClock
) -> None:
    await _fill(ranked, alice, clock)
    cursors = await _cursors(ranked, alice)
    search = cursors["search"]
    message = await _refused(ranked.search_entries(alice, "walk", limit=1, cursor=search))
    assert "different query or filters" in message
    await _refused(
        ranked.list_entries(
            alice, EntryFilter(text="number"), limit=1, cursor=cursors["entries-search"]
        )
    )
    await _refused(
        ranked.list_entries(alice, EntryFilter(stream="inbox"), limit=1, cursor=cursors["entries"])
    )


@pytest.mark.parametrize("kind", KINDS)
async def test_a_cursor_of_another_listing_is_refused(
    ranked: Trace, alice: Principal, clock: FixedClock, kind: str
) -> None:
    await _fill(ranked, alice, clock)
    cursors = await _cursors(ranked, alice)
    other = next(k for k in KINDS if k != kind)
    await _refused(_use(ranked, alice, kind, cursors[other]))


async def test_a_cursor_of_another_account_or_server_is_refused(
    ranked: Trace, trace: Trace, alice: Principal, bob: Principal, clock: FixedClock
) -> None:
    await _fill(ranked, alice, clock)
    await _fill(ranked, bob, clock)
    for kind, cursor in (await _cursors(ranked, alice)).items():
        await _refused(_use(ranked, bob, kind, cursor))
        # ``trace`` shares the storage but has its own cursor key: another server.
        await _refused(_use(trace, alice, kind, cursor))
