"""list_entries sorts (with ties and paging) and due-date filters, on every storage backend."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from trace_core.errors import InvalidInputError
from trace_core.model import (
    Entry,
    EntryDraft,
    EntryFilter,
    EntryPatch,
    EntrySettings,
    NewStream,
    Principal,
)
from trace_core.ordering import SORTS
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock

pytestmark = pytest.mark.anyio

TASKS = EntrySettings(use_priority=True, use_duedates=True)
D = date(2026, 1, 10)


@pytest.fixture
async def entries(trace: Trace, alice: Principal, clock: FixedClock) -> list[Entry]:
    """Nine entries with many ties on every sort field (and some without a due date)."""
    stream = await trace.create_stream(alice, NewStream(name="Tasks", entry_settings=TASKS))
    made = []
    for i in range(9):
        clock.advance(minutes=1)
        made.append(
            await trace.create_entry(
                alice,
                EntryDraft(
                    content=f"task {i}",
                    stream_id=stream.stream_id,
                    entry_date=date(2026, 1, 1 + i % 3),
                    priority=i % 3,
                    due_date=None if i % 4 == 0 else date(2026, 1, 5 + i % 2),
                ),
            )
        )
    # Updates in an order unlike creation: two pairs share an updated_at.
    for i in (4, 1, 7):
        clock.advance(minutes=1)
        made[i] = await trace.update_entry(alice, made[i].entry_id, EntryPatch(title="touched"))
        made[i + 1] = await trace.update_entry(
            alice, made[i + 1].entry_id, EntryPatch(title="touched")
        )
    return made


def expected(items: list[Entry], sort: str) -> list[Any]:
    down = sort.startswith("-")
    field = sort.removeprefix("-")

    def key(e: Entry) -> tuple[Any, ...]:
        if field == "entry_date":
            return (e.entry_date, e.created_at, e.entry_id)
        if field == "updated":
            return (e.updated_at, e.entry_id)
        if field == "due_date":
            # Entries without a due date come last in both directions.
            return (e.due_date or (date.min if down else date.max), e.entry_id)
        return (e.priority, e.entry_id)

    return [e.entry_id for e in sorted(items, key=key, reverse=down)]


@pytest.mark.parametrize("sort", SORTS)
async def test_each_sort_orders_ties_by_id_and_cursor_pages_cover_it_exactly(
    trace: Trace, alice: Principal, entries: list[Entry], sort: str
) -> None:
    whole = await trace.list_entries(alice, EntryFilter(), sort=sort)  # type: ignore[arg-type]
    paged: list[Any] = []
    cursor = None
    for _ in range(10):
        page = await trace.list_entries(
            alice,
            EntryFilter(),
            limit=2,
            cursor=cursor,
            sort=sort,  # type: ignore[arg-type]
        )
        paged.extend(e.entry_id for e in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert [e.entry_id for e in whole.items] == expected(entries, sort)
    assert paged == expected(entries, sort)


async def test_the_default_order_is_newest_entry_date_first(
    trace: Trace, alice: Principal, entries: list[Entry]
) -> None:
    page = await trace.list_entries(alice, EntryFilter())

    assert [e.entry_id for e in page.items] == expected(entries, "-entry_date")


async def test_a_cursor_of_one_sort_is_refused_by_another(
    trace: Trace, alice: Principal, entries: list[Entry]
) -> None:
    page = await trace.list_entries(alice, EntryFilter(), limit=2, sort="priority")

    with pytest.raises(InvalidInputError) as caught:
        await trace.list_entries(alice, EntryFilter(), cursor=page.next_cursor, sort="-priority")
    assert caught.value.field == "cursor"


async def test_an_unknown_sort_is_refused_naming_the_allowed_ones(
    trace: Trace, alice: Principal
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await trace.list_entries(alice, EntryFilter(), sort="title")  # type: ignore[arg-type]

    assert caught.value.field == "sort"
    assert "-due_date" in (caught.value.allowed or [])


async def test_due_before_keeps_entries_due_strictly_before_the_day(
    trace: Trace, alice: Principal, entries: list[Entry]
) -> None:
    page = await trace.list_entries(alice, EntryFilter(due_before=date(2026, 1, 6)))

    assert {e.entry_id for e in page.items} == {
        e.entry_id for e in entries if e.due_date is not None and e.due_date < date(2026, 1, 6)
    }
    assert page.total == len(page.items) > 0


@pytest.mark.parametrize(
    ("now", "zone", "overdue_days"),
    [
        # 23:30 UTC on the 5th: still the 5th in UTC, the 6th in Paris.
        (datetime(2026, 1, 5, 23, 30, tzinfo=UTC), "UTC", {date(2026, 1, 4)}),
        (
            datetime(2026, 1, 5, 23, 30, tzinfo=UTC),
            "Europe/Paris",
            {date(2026, 1, 4), D.replace(day=5)},
        ),
    ],
)
async def test_overdue_means_due_before_today_in_the_accounts_zone(
    trace: Trace,
    alice: Principal,
    clock: FixedClock,
    now: datetime,
    zone: str,
    overdue_days: set[date],
) -> None:
    await trace.set_time_zone(alice, zone)
    for day in (4, 5, 6):
        await trace.create_entry(
            alice, EntryDraft(content=f"due {day}", due_date=date(2026, 1, day))
        )
    await trace.create_entry(alice, EntryDraft(content="no due date"))
    clock.set(now)

    page = await trace.list_entries(alice, EntryFilter(), overdue=True)
    capped = await trace.list_entries(alice, EntryFilter(due_before=date(2026, 1, 5)), overdue=True)

    assert {e.due_date for e in page.items} == overdue_days
    assert {e.due_date for e in capped.items} == {date(2026, 1, 4)}
