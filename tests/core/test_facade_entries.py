"""Entry use cases: validation against stream settings, versions, trash, paging."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trace_core.errors import ConflictError, InvalidInputError, NotFoundError, VersionConflictError
from trace_core.model import (
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
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import FixedClock, InMemoryBlobStore

pytestmark = pytest.mark.anyio

SETTINGS = EntrySettings(
    use_rating=True,
    use_status=True,
    use_type=True,
    use_priority=True,
    use_duedates=True,
    types=("bug", "idea"),
    statuses=("open", "done"),
    default_status="open",
    rating_type="stars",
)


@pytest.fixture
async def work(trace: Trace, alice: Principal) -> Stream:
    return await trace.create_stream(alice, NewStream(name="Work", entry_settings=SETTINGS))


async def test_an_entry_gets_the_streams_default_status_today_and_version_one(
    trace: Trace, alice: Principal, work: Stream, clock: FixedClock
) -> None:
    entry = await trace.create_entry(
        alice, EntryDraft(content="Fix the **login**", stream_id=work.stream_id)
    )
    assert entry.status == "open"
    assert entry.entry_date == clock.today()
    assert entry.version == 1
    assert entry.last_edited_by == "alice-key"
    history = await trace.entry_history(alice, entry.entry_id)
    assert [(v.version, v.action, v.written_by) for v in history] == [(1, "create", "alice-key")]


async def test_a_type_not_in_the_stream_is_refused_naming_the_allowed_types(
    trace: Trace, alice: Principal, work: Stream
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.create_entry(
            alice, EntryDraft(content="x", stream_id=work.stream_id, type="task")
        )
    assert info.value.field == "type"
    assert info.value.allowed == ["bug", "idea"]


async def test_a_status_not_in_the_stream_is_refused_naming_the_allowed_statuses(
    trace: Trace, alice: Principal, work: Stream
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.create_entry(
            alice, EntryDraft(content="x", stream_id=work.stream_id, status="wip")
        )
    assert info.value.field == "status"
    assert info.value.allowed == ["open", "done"]


@pytest.mark.parametrize(("stars", "stored"), [(0, 0), (3, 6), (3.5, 7), (5, 10)])
async def test_star_ratings_are_stored_doubled(
    trace: Trace, alice: Principal, work: Stream, stars: float, stored: int
) -> None:
    entry = await trace.create_entry(
        alice, EntryDraft(content="x", stream_id=work.stream_id, rating=stars)
    )
    assert entry.rating == stored


@pytest.mark.parametrize("rating", [-1, 5.5, 6, 3.3, 11])
async def test_star_ratings_out_of_range_are_refused(
    trace: Trace, alice: Principal, work: Stream, rating: float
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.create_entry(
            alice, EntryDraft(content="x", stream_id=work.stream_id, rating=rating)
        )
    assert info.value.field == "rating"


async def test_numeric_ratings_are_whole_numbers_from_zero_to_ten(
    trace: Trace, alice: Principal
) -> None:
    books = await trace.create_stream(
        alice,
        NewStream(
            name="Books", entry_settings=EntrySettings(use_rating=True, rating_type="numeric")
        ),
    )
    entry = await trace.create_entry(
        alice, EntryDraft(content="x", stream_id=books.stream_id, rating=9)
    )
    assert entry.rating == 9
    for bad in (11, 7.5):
        with pytest.raises(InvalidInputError):
            await trace.create_entry(
                alice, EntryDraft(content="x", stream_id=books.stream_id, rating=bad)
            )


@pytest.mark.parametrize("priority", [-1, 5, True, "high"])
async def test_priority_must_be_zero_to_four(
    trace: Trace, alice: Principal, priority: object
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.create_entry(alice, EntryDraft(content="x", priority=priority))  # type: ignore[arg-type]
    assert info.value.field == "priority"
    assert info.value.allowed == [0, 1, 2, 3, 4]


async def test_content_over_one_megabyte_is_refused(trace: Trace, alice: Principal) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.create_entry(alice, EntryDraft(content="x" * 1_000_001))
    assert info.value.field == "content"
    with pytest.raises(InvalidInputError) as info:
        await trace.create_entry(alice, EntryDraft(content="   "))
    assert info.value.field == "content"


async def test_a_bad_date_is_refused_naming_the_field(trace: Trace, alice: Principal) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.create_entry(alice, EntryDraft(content="x", due_date="tomorrow"))  # type: ignore[arg-type]
    assert info.value.field == "due_date"


async def test_tags_are_trimmed_deduplicated_and_lose_a_leading_hash(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(
        alice, EntryDraft(content="x", tags=(" #work", "work", "", "a"))
    )
    assert entry.tags == ("work", "a")


async def test_mentions_are_parsed_from_content_but_not_from_emails(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(
        alice, EntryDraft(content="Met @sam and @lee.k, mail me@example.org, @sam again.")
    )
    assert entry.mentions == ("sam", "lee.k")


async def test_update_replaces_tags_clears_due_date_and_bumps_the_version(
    trace: Trace, alice: Principal, work: Stream, clock: FixedClock
) -> None:
    entry = await trace.create_entry(
        alice,
        EntryDraft(
            content="x", stream_id=work.stream_id, tags=("a", "b"), due_date=date(2026, 2, 1)
        ),
    )
    clock.advance(minutes=5)
    updated = await trace.update_entry(
        alice, entry.entry_id, EntryPatch(tags=("c",), due_date=None, title="New")
    )
    assert updated.tags == ("c",)
    assert updated.due_date is None
    assert updated.title == "New"
    assert updated.version == 2
    assert updated.updated_at > entry.updated_at
    assert updated.content == "x"


async def test_update_with_a_stale_expected_version_names_both_versions(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    await trace.update_entry(alice, entry.entry_id, EntryPatch(content="y"), expected_version=1)
    with pytest.raises(VersionConflictError) as info:
        await trace.update_entry(alice, entry.entry_id, EntryPatch(content="z"), expected_version=1)
    assert (info.value.expected_version, info.value.current_version) == (1, 2)
    assert (await trace.get_entry(alice, entry.entry_id)).entry.content == "y"


async def test_moving_to_another_stream_validates_against_the_target_stream(
    trace: Trace, alice: Principal, work: Stream
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    with pytest.raises(InvalidInputError):
        await trace.update_entry(
            alice, entry.entry_id, EntryPatch(stream_id=work.stream_id, type="task")
        )
    moved = await trace.update_entry(
        alice, entry.entry_id, EntryPatch(stream_id=work.stream_id, type="idea")
    )
    assert moved.stream_id == work.stream_id
    back = await trace.update_entry(alice, entry.entry_id, EntryPatch(stream_id=None))
    assert back.stream_id is None


async def test_deleted_entries_are_invisible_everywhere_but_the_trash(
    trace: Trace, alice: Principal, work: Stream
) -> None:
    entry = await trace.create_entry(
        alice, EntryDraft(content="findme", stream_id=work.stream_id, tags=("gone",))
    )
    attachment = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    await trace.delete_entry(alice, entry.entry_id)
    with pytest.raises(NotFoundError):
        await trace.get_entry(alice, entry.entry_id)
    with pytest.raises(NotFoundError):
        await trace.update_entry(alice, entry.entry_id, EntryPatch(content="x"))
    with pytest.raises(NotFoundError):
        await trace.get_attachment(alice, attachment.attachment_id)
    assert (await trace.list_entries(alice)).total == 0
    assert (await trace.list_entries(alice, EntryFilter(text="findme"))).total == 0
    assert (await trace.search_entries(alice, "findme")).hits == []
    assert await trace.list_tags(alice) == []
    assert (await trace.get_stream(alice, work.stream_id)).entry_count == 0
    trash = await trace.list_trash(alice)
    assert [e.entry_id for e in trash.items] == [entry.entry_id]


async def test_restore_brings_an_entry_back_and_records_it_in_history(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    await trace.delete_entry(alice, entry.entry_id)
    restored = await trace.restore_entry(alice, entry.entry_id)
    assert restored.deleted_at is None
    assert (await trace.get_entry(alice, entry.entry_id)).entry.version == 3
    actions = [v.action for v in await trace.entry_history(alice, entry.entry_id)]
    assert actions == ["restore", "delete", "create"]
    with pytest.raises(ConflictError):
        await trace.restore_entry(alice, entry.entry_id)


async def test_purge_removes_entries_deleted_over_thirty_days_ago_with_their_blobs(
    trace: Trace, alice: Principal, clock: FixedClock, blobs: InMemoryBlobStore
) -> None:
    old = await trace.create_entry(alice, EntryDraft(content="old"))
    await trace.add_attachment(alice, old.entry_id, png_bytes())
    await trace.delete_entry(alice, old.entry_id)
    clock.advance(days=20)
    recent = await trace.create_entry(alice, EntryDraft(content="recent"))
    await trace.add_attachment(alice, recent.entry_id, png_bytes())
    await trace.delete_entry(alice, recent.entry_id)
    assert len(blobs.keys()) == 2
    clock.advance(days=11)
    assert await trace.purge_expired_trash() == 1
    assert [e.entry_id for e in (await trace.list_trash(alice)).items] == [recent.entry_id]
    with pytest.raises(NotFoundError):
        await trace.entry_history(alice, old.entry_id)
    assert len(blobs.keys()) == 1
    assert await trace.purge_expired_trash(now=clock.now() + timedelta(days=30)) == 1
    assert blobs.keys() == []


async def test_cursor_paging_visits_every_entry_once_in_order(
    trace: Trace, alice: Principal, clock: FixedClock
) -> None:
    created = []
    for i in range(7):
        clock.advance(minutes=1)
        created.append(
            await trace.create_entry(
                alice, EntryDraft(content=f"n{i}", entry_date=date(2026, 1, 1 + i % 3))
            )
        )
    seen = []
    cursor = None
    while True:
        page = await trace.list_entries(alice, limit=3, cursor=cursor)
        assert page.total == 7
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert len(seen) == 7
    assert {e.entry_id for e in seen} == {e.entry_id for e in created}
    keys = [(e.entry_date, e.created_at) for e in seen]
    assert keys == sorted(keys, reverse=True)


async def test_inbox_and_all_stream_selectors_differ(
    trace: Trace, alice: Principal, work: Stream
) -> None:
    await trace.create_entry(alice, EntryDraft(content="inbox"))
    await trace.create_entry(alice, EntryDraft(content="work", stream_id=work.stream_id))
    assert (await trace.list_entries(alice, EntryFilter(stream="all"))).total == 2
    inbox = await trace.list_entries(alice, EntryFilter(stream="inbox"))
    assert [e.content for e in inbox.items] == ["inbox"]
    in_work = await trace.list_entries(alice, EntryFilter(stream=work.stream_id))
    assert [e.content for e in in_work.items] == ["work"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"offset": -1}, "offset"),
        ({"cursor": "garbage!"}, "cursor"),
    ],
)
async def test_bad_paging_arguments_name_the_field(
    trace: Trace, alice: Principal, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.list_entries(alice, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


async def test_stream_names_are_unique_per_account_and_settings_are_checked(
    trace: Trace, alice: Principal, bob: Principal, work: Stream
) -> None:
    with pytest.raises(ConflictError):
        await trace.create_stream(alice, NewStream(name="work"))
    await trace.create_stream(bob, NewStream(name="Work"))
    with pytest.raises(InvalidInputError) as info:
        await trace.create_stream(
            alice,
            NewStream(
                name="Other",
                entry_settings=EntrySettings(statuses=("a",), default_status="b"),
            ),
        )
    assert info.value.field == "entry_settings.default_status"
    with pytest.raises(InvalidInputError) as info:
        await trace.create_stream(alice, NewStream(name="Other", color="red"))
    assert info.value.field == "color"


async def test_archived_streams_leave_the_list_but_keep_their_entries(
    trace: Trace, alice: Principal, work: Stream
) -> None:
    await trace.create_entry(alice, EntryDraft(content="x", stream_id=work.stream_id))
    await trace.archive_stream(alice, work.stream_id)
    assert await trace.list_streams(alice) == []
    archived = await trace.list_streams(alice, include_archived=True)
    assert [(s.name, s.entry_count, s.is_archived) for s in archived] == [("Work", 1, True)]
    renamed = await trace.update_stream(alice, work.stream_id, StreamPatch(name="Job"))
    assert renamed.name == "Job"


async def test_list_tags_counts_live_entries_most_used_first(
    trace: Trace, alice: Principal
) -> None:
    await trace.create_entry(alice, EntryDraft(content="1", tags=("a", "b")))
    await trace.create_entry(alice, EntryDraft(content="2", tags=("b",)))
    assert [(t.tag, t.count) for t in await trace.list_tags(alice)] == [("b", 2), ("a", 1)]


async def test_a_non_image_attachment_is_refused_naming_the_file(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    with pytest.raises(InvalidInputError) as info:
        await trace.add_attachment(alice, entry.entry_id, b"%PDF-1.7 not an image")
    assert info.value.field == "file"
    assert "image/png" in (info.value.allowed or [])
    assert blobs.keys() == []


async def test_attachments_keep_their_order_and_dimensions(trace: Trace, alice: Principal) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    first = (await trace.add_attachment(alice, entry.entry_id, png_bytes(4, 5))).attachment
    second = (await trace.add_attachment(alice, entry.entry_id, png_bytes(1, 1))).attachment
    assert (first.position, second.position) == (0, 1)
    assert (first.mime_type, first.width, first.height) == ("image/png", 4, 5)
    detail = await trace.get_entry(alice, entry.entry_id)
    assert [a.attachment_id for a in detail.attachments] == [
        first.attachment_id,
        second.attachment_id,
    ]


async def test_total_counts_every_match_on_a_short_first_page_and_on_later_pages(
    trace: Trace, alice: Principal
) -> None:
    for i in range(5):
        await trace.create_entry(alice, EntryDraft(content=f"n{i}", tags=("t",) if i < 3 else ()))
    assert (await trace.list_entries(alice)).total == 5
    assert (await trace.list_entries(alice, EntryFilter(tags=("t",)))).total == 3
    first = await trace.list_entries(alice, limit=2)
    assert first.total == 5
    assert (await trace.list_entries(alice, limit=2, cursor=first.next_cursor)).total == 5
    assert (await trace.list_entries(alice, limit=2, offset=4)).total == 5
    assert (await trace.list_entries(alice, offset=6)).total == 5


async def test_streams_by_id_has_every_stream_including_archived(
    trace: Trace, alice: Principal, work: Stream, alice_read: Principal
) -> None:
    await trace.archive_stream(alice, work.stream_id)
    other = await trace.create_stream(alice, NewStream(name="Other"))
    streams = await trace.streams_by_id(alice_read)
    assert set(streams) == {work.stream_id, other.stream_id}
    assert streams[work.stream_id].entry_settings == SETTINGS


async def test_get_stream_and_update_stream_report_the_live_entry_count(
    trace: Trace, alice: Principal, work: Stream
) -> None:
    for i in range(3):
        await trace.create_entry(alice, EntryDraft(content=f"n{i}", stream_id=work.stream_id))
    gone = await trace.create_entry(alice, EntryDraft(content="x", stream_id=work.stream_id))
    await trace.delete_entry(alice, gone.entry_id)
    assert (await trace.get_stream(alice, work.stream_id)).entry_count == 3
    renamed = await trace.update_stream(alice, work.stream_id, StreamPatch(name="Job"))
    assert renamed.entry_count == 3
