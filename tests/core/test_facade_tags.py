"""Tags are case-insensitive: ``Work``, ``work`` and ``#WORK`` are one tag, spelled as first."""

from __future__ import annotations

import pytest

from trace_core.model import EntryDraft, EntryFilter, EntryPatch, Principal
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock

pytestmark = pytest.mark.anyio


async def test_later_spellings_of_a_tag_take_the_first_one(
    trace: Trace, alice: Principal, clock: FixedClock
) -> None:
    first = await trace.create_entry(alice, EntryDraft(content="a", tags=("Work",)))
    clock.advance(minutes=1)
    second = await trace.create_entry(alice, EntryDraft(content="b", tags=("work", "idea")))
    third = await trace.create_entry(alice, EntryDraft(content="c", tags=("#WORK", "work")))

    assert (first.tags, second.tags, third.tags) == (("Work",), ("Work", "idea"), ("Work",))
    tags = await trace.list_tags(alice)
    assert [(t.tag, t.count) for t in tags] == [("Work", 3), ("idea", 1)]


async def test_tag_filters_match_whatever_the_case(trace: Trace, alice: Principal) -> None:
    a = await trace.create_entry(alice, EntryDraft(content="a", tags=("Work", "Idea")))
    b = await trace.create_entry(alice, EntryDraft(content="b", tags=("work",)))
    await trace.create_entry(alice, EntryDraft(content="c", tags=("home",)))

    any_case = await trace.list_entries(alice, EntryFilter(tags=("WORK",)))
    hashed = await trace.list_entries(alice, EntryFilter(tags=("#work",)))
    both = await trace.list_entries(alice, EntryFilter(tags=("wORK", "idea"), tags_mode="all"))

    assert {e.entry_id for e in any_case.items} == {a.entry_id, b.entry_id}
    assert {e.entry_id for e in hashed.items} == {a.entry_id, b.entry_id}
    assert [e.entry_id for e in both.items] == [a.entry_id]


async def test_an_update_keeps_the_accounts_spelling(trace: Trace, alice: Principal) -> None:
    await trace.create_entry(alice, EntryDraft(content="a", tags=("Project X",)))
    entry = await trace.create_entry(alice, EntryDraft(content="b"))

    updated = await trace.update_entry(
        alice, entry.entry_id, EntryPatch(tags=("project x", "PROJECT X", "New"))
    )

    assert updated.tags == ("Project X", "New")


async def test_another_account_has_its_own_spelling(
    trace: Trace, alice: Principal, bob: Principal
) -> None:
    await trace.create_entry(alice, EntryDraft(content="a", tags=("Work",)))

    mine = await trace.create_entry(bob, EntryDraft(content="b", tags=("work",)))

    assert mine.tags == ("work",)


async def test_a_restored_entry_takes_the_spelling_in_use(
    trace: Trace, alice: Principal, clock: FixedClock
) -> None:
    old = await trace.create_entry(alice, EntryDraft(content="a", tags=("Garden",)))
    await trace.delete_entry(alice, old.entry_id)
    clock.advance(minutes=1)
    await trace.create_entry(alice, EntryDraft(content="b", tags=("garden",)))

    restored = await trace.restore_entry(alice, old.entry_id)

    assert restored.tags == ("garden",)
    assert [(t.tag, t.count) for t in await trace.list_tags(alice)] == [("garden", 2)]
