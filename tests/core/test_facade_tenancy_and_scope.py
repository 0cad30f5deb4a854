"""Tenant isolation and scope checks on every use case of the facade."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest

from trace_core.errors import InsufficientScopeError, NotFoundError
from trace_core.model import (
    EntryDraft,
    EntryFilter,
    EntryPatch,
    NewStream,
    Principal,
    StreamPatch,
)
from trace_core.service import Trace
from trace_core.testing.images import png_bytes

pytestmark = pytest.mark.anyio


@pytest.fixture
async def alices_things(trace: Trace, alice: Principal) -> dict[str, Any]:
    stream = await trace.create_stream(alice, NewStream(name="Journal"))
    entry = await trace.create_entry(
        alice, EntryDraft(content="secret plans", stream_id=stream.stream_id, tags=("private",))
    )
    attachment = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    trashed = await trace.create_entry(alice, EntryDraft(content="old"))
    await trace.delete_entry(alice, trashed.entry_id)
    return {"stream": stream, "entry": entry, "attachment": attachment, "trashed": trashed}


async def test_another_account_gets_not_found_for_every_read_of_alices_data(
    trace: Trace, bob: Principal, alices_things: dict[str, Any]
) -> None:
    stream, entry = alices_things["stream"], alices_things["entry"]
    attachment, trashed = alices_things["attachment"], alices_things["trashed"]
    reads: list[Callable[[], Awaitable[object]]] = [
        lambda: trace.get_stream(bob, stream.stream_id),
        lambda: trace.get_entry(bob, entry.entry_id),
        lambda: trace.list_entries(bob, EntryFilter(stream=stream.stream_id)),
        lambda: trace.get_attachment(bob, attachment.attachment_id),
        lambda: trace.read_attachment(bob, attachment.attachment_id),
        lambda: trace.entry_history(bob, entry.entry_id),
        lambda: trace.entry_history(bob, trashed.entry_id),
    ]
    for read in reads:
        with pytest.raises(NotFoundError):
            await read()


async def test_another_account_sees_none_of_alices_data_in_listings(
    trace: Trace, bob: Principal, alices_things: dict[str, Any]
) -> None:
    assert await trace.list_streams(bob) == []
    assert (await trace.list_entries(bob)).items == []
    assert (await trace.list_entries(bob, EntryFilter(text="secret"))).items == []
    assert await trace.list_tags(bob) == []
    assert (await trace.list_trash(bob)).items == []
    assert (await trace.search_entries(bob, "secret")).hits == []
    assert await trace.image_counts(bob, [alices_things["entry"].entry_id]) == {}


async def test_another_account_gets_not_found_for_every_write_to_alices_data(
    trace: Trace, bob: Principal, alices_things: dict[str, Any]
) -> None:
    stream, entry, trashed = (
        alices_things["stream"],
        alices_things["entry"],
        alices_things["trashed"],
    )
    attachment = alices_things["attachment"]
    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: trace.update_stream(bob, stream.stream_id, StreamPatch(name="mine")),
        lambda: trace.archive_stream(bob, stream.stream_id),
        lambda: trace.create_entry(bob, EntryDraft(content="x", stream_id=stream.stream_id)),
        lambda: trace.update_entry(bob, entry.entry_id, EntryPatch(content="pwned")),
        lambda: trace.delete_entry(bob, entry.entry_id),
        lambda: trace.restore_entry(bob, trashed.entry_id),
        lambda: trace.add_attachment(bob, entry.entry_id, png_bytes()),
        lambda: trace.delete_attachment(bob, attachment.attachment_id),
        lambda: trace.restore_attachment(bob, attachment.attachment_id),
    ]
    for write in writes:
        with pytest.raises(NotFoundError):
            await write()


async def test_failed_cross_account_writes_leave_alices_data_unchanged(
    trace: Trace, alice: Principal, bob: Principal, alices_things: dict[str, Any]
) -> None:
    entry = alices_things["entry"]
    with pytest.raises(NotFoundError):
        await trace.update_entry(bob, entry.entry_id, EntryPatch(content="pwned"))
    with pytest.raises(NotFoundError):
        await trace.delete_entry(bob, entry.entry_id)
    with pytest.raises(NotFoundError):
        await trace.delete_attachment(bob, alices_things["attachment"].attachment_id)
    detail = await trace.get_entry(alice, entry.entry_id)
    assert detail.entry.content == "secret plans"
    assert detail.entry.version == 2  # created, then the image added
    assert len(detail.attachments) == 1


async def test_moving_an_entry_into_another_accounts_stream_is_not_found(
    trace: Trace, alice: Principal, bob: Principal, alices_things: dict[str, Any]
) -> None:
    bobs = await trace.create_entry(bob, EntryDraft(content="bob's"))
    with pytest.raises(NotFoundError):
        await trace.update_entry(
            bob, bobs.entry_id, EntryPatch(stream_id=alices_things["stream"].stream_id)
        )


async def test_a_read_principal_is_refused_on_every_write(
    trace: Trace, alice: Principal, alice_read: Principal, alices_things: dict[str, Any]
) -> None:
    stream, entry, trashed = (
        alices_things["stream"],
        alices_things["entry"],
        alices_things["trashed"],
    )
    attachment = alices_things["attachment"]
    writes: list[Callable[[], Awaitable[object]]] = [
        lambda: trace.create_stream(alice_read, NewStream(name="New")),
        lambda: trace.update_stream(alice_read, stream.stream_id, StreamPatch(name="x")),
        lambda: trace.archive_stream(alice_read, stream.stream_id),
        lambda: trace.create_entry(alice_read, EntryDraft(content="x")),
        lambda: trace.update_entry(alice_read, entry.entry_id, EntryPatch(content="x")),
        lambda: trace.delete_entry(alice_read, entry.entry_id),
        lambda: trace.restore_entry(alice_read, trashed.entry_id),
        lambda: trace.add_attachment(alice_read, entry.entry_id, png_bytes()),
        lambda: trace.delete_attachment(alice_read, attachment.attachment_id),
        lambda: trace.restore_attachment(alice_read, attachment.attachment_id),
    ]
    for write in writes:
        with pytest.raises(InsufficientScopeError) as info:
            await write()
        assert info.value.required_scope == "full"
    detail = await trace.get_entry(alice, entry.entry_id)
    assert detail.entry.version == 2
    assert len(detail.attachments) == 1


async def test_a_read_principal_can_use_every_read(
    trace: Trace, alice_read: Principal, alices_things: dict[str, Any]
) -> None:
    entry = alices_things["entry"]
    assert len(await trace.list_streams(alice_read)) == 1
    assert (await trace.get_entry(alice_read, entry.entry_id)).entry.content == "secret plans"
    assert (await trace.list_entries(alice_read)).total == 1
    assert [t.tag for t in await trace.list_tags(alice_read)] == ["private"]
    assert (await trace.list_trash(alice_read)).total == 1
    assert len(await trace.entry_history(alice_read, entry.entry_id)) == 2
    assert await trace.image_counts(alice_read, [entry.entry_id]) == {entry.entry_id: 1}
    _, data = await trace.read_attachment(alice_read, alices_things["attachment"].attachment_id)
    assert data == png_bytes()


async def test_unknown_ids_are_not_found(trace: Trace, alice: Principal) -> None:
    with pytest.raises(NotFoundError) as info:
        await trace.get_entry(alice, uuid4())
    assert info.value.code == "not_found"
    with pytest.raises(NotFoundError):
        await trace.get_stream(alice, uuid4())
    with pytest.raises(NotFoundError):
        await trace.create_entry(alice, EntryDraft(content="x", stream_id=uuid4()))
