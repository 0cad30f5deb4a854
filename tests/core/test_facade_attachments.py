"""Images on entries through the facade: checks before storing, and every change in the history."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from trace_core.errors import (
    ConflictError,
    InsufficientScopeError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
)
from trace_core.limits import MAX_ATTACHMENT_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, Limits
from trace_core.model import EntryDraft, EntryPatch, Principal
from trace_core.service import Trace
from trace_core.testing.images import declaring, image_bytes, png_bytes
from trace_core.testing.memory import FixedClock, InMemoryBlobStore

pytestmark = pytest.mark.anyio

FORMATS = ["image/png", "image/jpeg", "image/webp", "image/gif"]


async def _history(trace: Trace, principal: Principal, entry_id: Any) -> list[tuple[int, str]]:
    return [(v.version, v.action) for v in await trace.entry_history(principal, entry_id)]


async def test_adding_an_image_is_a_write_in_the_entrys_history(
    trace: Trace, alice: Principal, clock: FixedClock
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="trip"))
    clock.advance(minutes=5)

    added = await trace.add_attachment(alice, entry.entry_id, png_bytes(4, 3), filename="beach.png")

    assert added.entry.version == 2
    assert added.entry.updated_at == clock.now()
    assert added.entry.last_edited_by == "alice-key"
    assert added.attachment.entry_id == entry.entry_id
    history = await trace.entry_history(alice, entry.entry_id)
    assert [(v.version, v.action) for v in history] == [(2, "attachment_added"), (1, "create")]
    ref = history[0].attachment
    assert ref is not None
    assert (ref.attachment_id, ref.mime_type, ref.filename) == (
        added.attachment.attachment_id,
        "image/png",
        "beach.png",
    )
    assert history[0].written_by == "alice-key"
    assert history[1].attachment is None
    detail = await trace.get_entry(alice, entry.entry_id)
    assert detail.entry == added.entry


async def test_an_update_with_the_version_read_before_an_image_was_added_is_a_conflict(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="trip"))
    await trace.add_attachment(alice, entry.entry_id, png_bytes())

    with pytest.raises(VersionConflictError):
        await trace.update_entry(
            alice, entry.entry_id, EntryPatch(content="mine"), expected_version=1
        )
    updated = await trace.update_entry(
        alice, entry.entry_id, EntryPatch(content="mine"), expected_version=2
    )
    assert updated.version == 3


async def test_deleting_an_image_hides_it_and_records_its_id_and_name_in_the_history(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="trip"))
    kept = (await trace.add_attachment(alice, entry.entry_id, png_bytes(2, 2))).attachment
    gone = (
        await trace.add_attachment(alice, entry.entry_id, png_bytes(3, 3), filename="blurry.png")
    ).attachment

    removed = await trace.delete_attachment(alice, gone.attachment_id)

    assert removed.entry.version == 4
    assert removed.attachment.removed_at == removed.entry.updated_at
    detail = await trace.get_entry(alice, entry.entry_id)
    assert [a.attachment_id for a in detail.attachments] == [kept.attachment_id]
    with pytest.raises(NotFoundError):
        await trace.get_attachment(alice, gone.attachment_id)
    with pytest.raises(NotFoundError):
        await trace.read_attachment(alice, gone.attachment_id)
    with pytest.raises(NotFoundError):
        await trace.delete_attachment(alice, gone.attachment_id)
    history = await trace.entry_history(alice, entry.entry_id)
    assert history[0].action == "attachment_removed"
    assert history[0].attachment is not None
    assert history[0].attachment.attachment_id == gone.attachment_id
    assert history[0].attachment.filename == "blurry.png"
    # The bytes stay until the trash purge, so the removal can be undone.
    assert await blobs.exists(gone.blob_key)


async def test_a_removed_image_can_be_restored_until_it_is_purged(
    trace: Trace, alice: Principal, clock: FixedClock, blobs: InMemoryBlobStore
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="trip"))
    image = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    with pytest.raises(ConflictError):
        await trace.restore_attachment(alice, image.attachment_id)
    await trace.delete_attachment(alice, image.attachment_id)

    restored = await trace.restore_attachment(alice, image.attachment_id)

    assert restored.attachment == image
    assert restored.entry.version == 4
    assert await trace.get_attachment(alice, image.attachment_id) == image
    assert (await _history(trace, alice, entry.entry_id))[0] == (4, "attachment_restored")

    await trace.delete_attachment(alice, image.attachment_id)
    clock.advance(days=31)
    assert await trace.purge_expired_trash() == 0
    assert blobs.keys() == []
    with pytest.raises(NotFoundError):
        await trace.restore_attachment(alice, image.attachment_id)


async def test_an_image_added_after_a_removal_takes_a_new_position(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="trip"))
    first = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    second = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    await trace.delete_attachment(alice, second.attachment_id)
    third = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    await trace.restore_attachment(alice, second.attachment_id)

    assert (first.position, second.position, third.position) == (0, 1, 2)
    detail = await trace.get_entry(alice, entry.entry_id)
    assert [a.attachment_id for a in detail.attachments] == [
        first.attachment_id,
        second.attachment_id,
        third.attachment_id,
    ]


async def test_images_of_an_entry_in_the_trash_cannot_be_changed(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="trip"))
    image = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    await trace.delete_entry(alice, entry.entry_id)

    with pytest.raises(NotFoundError):
        await trace.delete_attachment(alice, image.attachment_id)
    with pytest.raises(NotFoundError):
        await trace.add_attachment(alice, entry.entry_id, png_bytes(seed=2))
    assert blobs.keys() == [image.blob_key]
    restored = await trace.restore_entry(alice, entry.entry_id)
    assert restored.version == 4
    assert len((await trace.get_entry(alice, entry.entry_id)).attachments) == 1


async def test_image_counts_cover_a_page_and_leave_out_removed_images(
    trace: Trace, alice: Principal
) -> None:
    one = await trace.create_entry(alice, EntryDraft(content="one"))
    two = await trace.create_entry(alice, EntryDraft(content="two"))
    bare = await trace.create_entry(alice, EntryDraft(content="none"))
    await trace.add_attachment(alice, one.entry_id, png_bytes())
    await trace.add_attachment(alice, one.entry_id, png_bytes())
    removed = (await trace.add_attachment(alice, two.entry_id, png_bytes())).attachment
    await trace.delete_attachment(alice, removed.attachment_id)

    counts = await trace.image_counts(alice, [one.entry_id, two.entry_id, bare.entry_id])

    assert counts == {one.entry_id: 2}
    assert await trace.image_counts(alice, []) == {}


@pytest.mark.parametrize("mime_type", FORMATS)
async def test_each_accepted_format_is_stored_with_its_type_and_pixel_size(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore, mime_type: str
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    data = image_bytes(mime_type, 17, 9)

    added = (await trace.add_attachment(alice, entry.entry_id, data, filename="a")).attachment

    assert (added.mime_type, added.width, added.height) == (mime_type, 17, 9)
    assert added.file_size == len(data)
    assert await blobs.get(added.blob_key) == data


async def _refused(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore, data: bytes, **kwargs: Any
) -> InvalidInputError:
    """Add ``data``, expect a refusal, and check that nothing was stored."""
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    with pytest.raises(InvalidInputError) as info:
        await trace.add_attachment(alice, entry.entry_id, data, **kwargs)
    assert blobs.keys() == []
    detail = await trace.get_entry(alice, entry.entry_id)
    assert detail.attachments == []
    assert detail.entry.version == 1
    assert await _history(trace, alice, entry.entry_id) == [(1, "create")]
    return info.value


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"%PDF-1.7 not an image", "PDF"),
        (b"plain text", "not an image"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"  <svg onload='alert(1)'></svg>", "SVG"),
        (b"\x00\x00\x00\x18ftypheic" + b"\x00" * 20, "HEIC"),
        (b"", "empty"),
    ],
)
async def test_a_file_that_is_not_an_accepted_image_is_refused_and_nothing_is_stored(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore, data: bytes, says: str
) -> None:
    error = await _refused(trace, alice, blobs, data)
    assert error.field == "file"
    assert says in str(error)


@pytest.mark.parametrize("mime_type", FORMATS)
async def test_a_decompression_bomb_is_refused_naming_the_field_and_nothing_is_stored(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore, mime_type: str
) -> None:
    # A tiny file declaring 16,000 x 16,000 (256 megapixels: 1 GB of RGBA to decode).
    bomb = declaring(image_bytes(mime_type), 16_000, 16_000)
    assert len(bomb) < 500

    error = await _refused(trace, alice, blobs, bomb, field="data")

    assert error.field == "data"
    assert "16,000x16,000" in str(error)
    assert f"at most {MAX_IMAGE_SIDE:,} pixels a side and {MAX_IMAGE_PIXELS:,}" in str(error)


@pytest.mark.parametrize("mime_type", ["image/png", "image/jpeg", "image/gif"])
async def test_an_image_wider_than_the_side_limit_is_refused(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore, mime_type: str
) -> None:
    error = await _refused(trace, alice, blobs, declaring(image_bytes(mime_type), 30_000, 1))
    assert "30,000x1" in str(error)


@pytest.mark.parametrize("mime_type", FORMATS)
async def test_a_truncated_header_is_refused_and_nothing_is_stored(
    trace: Trace, alice: Principal, blobs: InMemoryBlobStore, mime_type: str
) -> None:
    error = await _refused(trace, alice, blobs, image_bytes(mime_type)[:18])
    assert error.field == "file"
    assert "truncated" in str(error) or "corrupt" in str(error)


async def test_a_file_over_the_size_limit_is_refused_and_nothing_is_stored(
    storage: Any, blobs: InMemoryBlobStore, clock: FixedClock
) -> None:
    trace = Trace(
        storage=storage, blobs=blobs, clock=clock, limits=Limits(max_attachment_bytes=1_000)
    )
    account = await trace.create_account("small@example.org")
    alice = trace.principal_for(account, actor="alice-key")
    big = png_bytes(40, 40, seed=3) + b"\x00" * 1_000

    error = await _refused(trace, alice, blobs, big)

    assert "at most 1,000 bytes" in str(error)
    entry = await trace.create_entry(alice, EntryDraft(content="small is fine"))
    assert (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment


def test_the_default_size_limit_is_ten_mebibytes() -> None:
    assert Limits().max_attachment_bytes == MAX_ATTACHMENT_BYTES == 10 * 1024 * 1024


async def test_lower_pixel_limits_are_the_facades_to_set(
    storage: Any, blobs: InMemoryBlobStore, clock: FixedClock
) -> None:
    trace = Trace(
        storage=storage,
        blobs=blobs,
        clock=clock,
        limits=Limits(max_image_pixels=100, max_image_side=20),
    )
    account = await trace.create_account("small@example.org")
    alice = trace.principal_for(account, actor="alice-key")

    error = await _refused(trace, alice, blobs, png_bytes(11, 10))

    assert "11x10" in str(error)


async def test_a_read_principal_cannot_add_remove_or_restore_and_others_see_nothing(
    trace: Trace, alice: Principal, alice_read: Principal, bob: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    image = (await trace.add_attachment(alice, entry.entry_id, png_bytes())).attachment
    for write in (
        trace.add_attachment(alice_read, entry.entry_id, png_bytes()),
        trace.delete_attachment(alice_read, image.attachment_id),
        trace.restore_attachment(alice_read, image.attachment_id),
    ):
        with pytest.raises(InsufficientScopeError):
            await write
    with pytest.raises(NotFoundError):
        await trace.delete_attachment(bob, image.attachment_id)
    with pytest.raises(NotFoundError):
        await trace.delete_attachment(alice, uuid4())
    assert await trace.get_attachment(alice, image.attachment_id) == image
