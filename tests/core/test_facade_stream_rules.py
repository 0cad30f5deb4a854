"""Stream rules that hold: a stream takes only the entry fields its settings switch on.

Run on every storage backend (memory, SQLite, PostgreSQL) by the ``trace`` fixture.
"""

from __future__ import annotations

from datetime import date
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
    Stream,
    StreamPatch,
)
from trace_core.service import Trace

pytestmark = pytest.mark.anyio

EVERYTHING = EntrySettings(
    use_rating=True,
    use_status=True,
    use_priority=True,
    use_duedates=True,
    use_type=True,
    types=("bug", "idea"),
    statuses=("open", "done"),
    default_status="open",
)

# field → (its setting, a value a stream using it takes, the value that clears it)
FIELDS: dict[str, tuple[str, Any, Any]] = {
    "status": ("use_status", "done", None),
    "type": ("use_type", "idea", None),
    "rating": ("use_rating", 4, None),
    "priority": ("use_priority", 3, 0),
    "due_date": ("use_duedates", date(2026, 2, 1), None),
}
FULL_VALUES: dict[str, Any] = {field: value for field, (_, value, _) in FIELDS.items()}


@pytest.fixture
async def full(trace: Trace, alice: Principal) -> Stream:
    return await trace.create_stream(alice, NewStream(name="Tasks", entry_settings=EVERYTHING))


async def _stream_without(trace: Trace, alice: Principal, setting: str) -> Stream:
    settings = EntrySettings(**{**_as_dict(EVERYTHING), setting: False})
    return await trace.create_stream(
        alice, NewStream(name=f"No {setting}", entry_settings=settings)
    )


def _as_dict(settings: EntrySettings) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in settings.__struct_fields__}


async def _count(trace: Trace, alice: Principal) -> int:
    return len((await trace.list_entries(alice, EntryFilter())).items)


@pytest.mark.parametrize("field", FIELDS)
async def test_create_refuses_a_field_the_stream_does_not_use_naming_the_setting(
    trace: Trace, alice: Principal, field: str
) -> None:
    setting, value, _ = FIELDS[field]
    stream = await _stream_without(trace, alice, setting)

    with pytest.raises(InvalidInputError) as caught:
        await trace.create_entry(
            alice, EntryDraft(content="x", stream_id=stream.stream_id, **{field: value})
        )

    assert caught.value.field == field
    assert caught.value.details["setting"] == setting
    assert setting in str(caught.value)
    assert await _count(trace, alice) == 0


@pytest.mark.parametrize("field", FIELDS)
async def test_create_takes_the_field_and_its_cleared_value_where_the_stream_uses_it(
    trace: Trace, alice: Principal, full: Stream, field: str
) -> None:
    setting, value, cleared = FIELDS[field]
    bare = await _stream_without(trace, alice, setting)

    used = await trace.create_entry(
        alice, EntryDraft(content="x", stream_id=full.stream_id, **{field: value})
    )
    blank = await trace.create_entry(
        alice, EntryDraft(content="x", stream_id=bare.stream_id, **{field: cleared})
    )

    assert getattr(used, field) == (8 if field == "rating" else value)  # 4 stars stored as 8
    assert getattr(blank, field) == (0 if field == "priority" else None)


@pytest.mark.parametrize("field", FIELDS)
async def test_update_refuses_a_field_the_stream_does_not_use_and_allows_clearing_it(
    trace: Trace, alice: Principal, field: str
) -> None:
    setting, value, cleared = FIELDS[field]
    stream = await _stream_without(trace, alice, setting)
    entry = await trace.create_entry(alice, EntryDraft(content="x", stream_id=stream.stream_id))

    with pytest.raises(InvalidInputError) as caught:
        await trace.update_entry(alice, entry.entry_id, EntryPatch(**{field: value}))
    cleared_entry = await trace.update_entry(alice, entry.entry_id, EntryPatch(**{field: cleared}))

    assert caught.value.field == field
    assert caught.value.details["setting"] == setting
    assert cleared_entry.version == 2  # the refused update wrote nothing


async def test_the_default_status_is_not_applied_where_statuses_are_off(
    trace: Trace, alice: Principal
) -> None:
    settings = EntrySettings(use_status=False, statuses=("open",), default_status="open")
    stream = await trace.create_stream(alice, NewStream(name="Plain", entry_settings=settings))

    entry = await trace.create_entry(alice, EntryDraft(content="x", stream_id=stream.stream_id))

    assert entry.status is None


async def test_the_inbox_takes_every_field(trace: Trace, alice: Principal) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x", **FULL_VALUES))

    assert (entry.status, entry.type, entry.priority) == ("done", "idea", 3)


async def _full_entry(trace: Trace, alice: Principal, full: Stream) -> Entry:
    return await trace.create_entry(
        alice, EntryDraft(content="x", stream_id=full.stream_id, **FULL_VALUES)
    )


@pytest.mark.parametrize("field", FIELDS)
async def test_moving_to_a_stream_that_does_not_use_a_field_is_refused_naming_it(
    trace: Trace, alice: Principal, full: Stream, field: str
) -> None:
    entry = await _full_entry(trace, alice, full)
    target = await _stream_without(trace, alice, FIELDS[field][0])

    with pytest.raises(InvalidInputError) as caught:
        await trace.update_entry(alice, entry.entry_id, EntryPatch(stream_id=target.stream_id))

    assert caught.value.field == "stream_id"
    assert caught.value.details["fields_to_clear"] == [field]
    assert "clear_disallowed" in str(caught.value)
    stored = (await trace.get_entry(alice, entry.entry_id)).entry
    assert (stored.stream_id, stored.version) == (full.stream_id, 1)


@pytest.mark.parametrize("field", FIELDS)
async def test_moving_with_clear_disallowed_clears_only_what_the_stream_does_not_use(
    trace: Trace, alice: Principal, full: Stream, field: str
) -> None:
    entry = await _full_entry(trace, alice, full)
    target = await _stream_without(trace, alice, FIELDS[field][0])

    moved = await trace.update_entry(
        alice, entry.entry_id, EntryPatch(stream_id=target.stream_id, clear_disallowed=True)
    )

    assert moved.stream_id == target.stream_id
    assert getattr(moved, field) == (0 if field == "priority" else None)
    for other in FIELDS:
        if other != field:
            assert getattr(moved, other) == getattr(entry, other), other


async def test_a_refused_move_lists_every_field_to_clear_and_a_move_that_clears_them_passes(
    trace: Trace, alice: Principal, full: Stream
) -> None:
    entry = await _full_entry(trace, alice, full)
    bare = await trace.create_stream(alice, NewStream(name="Bare"))

    with pytest.raises(InvalidInputError) as caught:
        await trace.update_entry(alice, entry.entry_id, EntryPatch(stream_id=bare.stream_id))
    moved = await trace.update_entry(
        alice,
        entry.entry_id,
        EntryPatch(
            stream_id=bare.stream_id,
            status=None,
            type=None,
            rating=None,
            priority=0,
            due_date=None,
        ),
    )

    assert sorted(caught.value.details["fields_to_clear"]) == sorted(FIELDS)
    assert moved.stream_id == bare.stream_id
    assert (moved.status, moved.type, moved.rating, moved.priority, moved.due_date) == (
        None,
        None,
        None,
        0,
        None,
    )


async def test_moving_a_status_or_type_the_target_does_not_list_is_refused(
    trace: Trace, alice: Principal, full: Stream
) -> None:
    entry = await _full_entry(trace, alice, full)
    other = await trace.create_stream(
        alice,
        NewStream(
            name="Other",
            entry_settings=EntrySettings(
                **{**_as_dict(EVERYTHING), "statuses": ("todo",), "default_status": "todo"}
            ),
        ),
    )

    with pytest.raises(InvalidInputError) as caught:
        await trace.update_entry(alice, entry.entry_id, EntryPatch(stream_id=other.stream_id))
    moved = await trace.update_entry(
        alice, entry.entry_id, EntryPatch(stream_id=other.stream_id, status="todo")
    )

    assert caught.value.details["fields_to_clear"] == ["status"]
    assert "'done'" in str(caught.value)
    assert moved.status == "todo"


async def test_moving_to_the_inbox_keeps_every_value(
    trace: Trace, alice: Principal, full: Stream
) -> None:
    entry = await _full_entry(trace, alice, full)

    moved = await trace.update_entry(alice, entry.entry_id, EntryPatch(stream_id=None))

    assert moved.stream_id is None
    assert (moved.status, moved.type, moved.rating, moved.priority, moved.due_date) == (
        entry.status,
        entry.type,
        entry.rating,
        entry.priority,
        entry.due_date,
    )


async def test_existing_values_are_kept_when_the_stream_turns_a_setting_off(
    trace: Trace, alice: Principal, full: Stream
) -> None:
    entry = await _full_entry(trace, alice, full)
    await trace.update_stream(alice, full.stream_id, StreamPatch(entry_settings=EntrySettings()))

    edited = await trace.update_entry(alice, entry.entry_id, EntryPatch(title="still here"))

    assert edited.title == "still here"
    assert (edited.status, edited.type, edited.rating, edited.priority, edited.due_date) == (
        entry.status,
        entry.type,
        entry.rating,
        entry.priority,
        entry.due_date,
    )
    with pytest.raises(InvalidInputError) as caught:
        await trace.update_entry(alice, entry.entry_id, EntryPatch(status="open"))
    assert caught.value.details["setting"] == "use_status"
