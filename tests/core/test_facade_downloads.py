"""Attachment downloads through the facade: streamed bytes and store-served URLs, owner only."""

from __future__ import annotations

import pytest

from trace_core.errors import InvalidInputError, NotFoundError
from trace_core.model import Attachment, EntryDraft, Principal
from trace_core.ports import Storage
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import InMemoryBlobStore

pytestmark = pytest.mark.anyio


class PresigningBlobStore(InMemoryBlobStore):
    """Serves URLs of its own, and remembers what it was asked to sign."""

    def __init__(self) -> None:
        super().__init__()
        self.signed: list[dict[str, object]] = []

    async def presigned_url(
        self, key: str, *, ttl_seconds: int, content_type: str, filename: str | None = None
    ) -> str | None:
        self.signed.append(
            {"key": key, "ttl": ttl_seconds, "type": content_type, "filename": filename}
        )
        return f"https://objects.example/{key}?ttl={ttl_seconds}"


@pytest.fixture
def blobs() -> PresigningBlobStore:
    return PresigningBlobStore()


@pytest.fixture
async def attachment(trace: Trace, alice: Principal) -> Attachment:
    entry = await trace.create_entry(alice, EntryDraft(content="photo day"))
    added = await trace.add_attachment(alice, entry.entry_id, png_bytes(), filename="day.png")
    return added.attachment


async def test_the_owner_reads_an_attachment_as_a_stream_of_its_bytes(
    trace: Trace, alice_read: Principal, attachment: Attachment
) -> None:
    found, chunks = await trace.open_attachment(alice_read, attachment.attachment_id)
    assert found == attachment
    assert b"".join([chunk async for chunk in chunks]) == png_bytes()


async def test_the_store_is_asked_for_a_url_with_the_attachment_type_name_and_ttl(
    trace: Trace, alice_read: Principal, attachment: Attachment, blobs: PresigningBlobStore
) -> None:
    found, url = await trace.presigned_attachment_url(
        alice_read, attachment.attachment_id, ttl_seconds=600
    )
    assert found == attachment
    assert url == f"https://objects.example/{attachment.blob_key}?ttl=600"
    assert blobs.signed == [
        {"key": attachment.blob_key, "ttl": 600, "type": "image/png", "filename": "day.png"}
    ]


async def test_another_account_gets_not_found_and_no_url_is_ever_signed(
    trace: Trace, bob: Principal, attachment: Attachment, blobs: PresigningBlobStore
) -> None:
    with pytest.raises(NotFoundError):
        await trace.presigned_attachment_url(bob, attachment.attachment_id, ttl_seconds=600)
    with pytest.raises(NotFoundError):
        await trace.open_attachment(bob, attachment.attachment_id)
    assert blobs.signed == []


async def test_an_attachment_of_a_deleted_entry_is_neither_streamed_nor_signed(
    trace: Trace, alice: Principal, attachment: Attachment, blobs: PresigningBlobStore
) -> None:
    await trace.delete_entry(alice, attachment.entry_id)
    with pytest.raises(NotFoundError):
        await trace.presigned_attachment_url(alice, attachment.attachment_id, ttl_seconds=600)
    with pytest.raises(NotFoundError):
        await trace.open_attachment(alice, attachment.attachment_id)
    assert blobs.signed == []


async def test_a_store_that_serves_no_urls_gives_none(
    storage: Storage, alice: Principal, attachment: Attachment, blobs: PresigningBlobStore
) -> None:
    plain = InMemoryBlobStore()
    await plain.put(attachment.blob_key, png_bytes())
    trace = Trace(storage=storage, blobs=plain)
    found, url = await trace.presigned_attachment_url(
        alice, attachment.attachment_id, ttl_seconds=600
    )
    assert (found, url) == (attachment, None)


async def test_a_ttl_below_one_second_is_refused(
    trace: Trace, alice: Principal, attachment: Attachment
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await trace.presigned_attachment_url(alice, attachment.attachment_id, ttl_seconds=0)
    assert info.value.field == "ttl_seconds"
