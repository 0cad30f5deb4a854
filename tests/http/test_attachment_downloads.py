"""The signed download route streams attachments, or redirects to the blob store's own URL.

And ``get_attachment_url`` hands out the store's presigned URL when it serves one.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from http_support import PUBLIC, SECRET, McpConnect

from trace_core.model import Attachment, EntryDraft, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_mcp import AttachmentUrlSigner

pytestmark = pytest.mark.anyio

STORE = "https://bucket.objects.example"


class ObjectStoreFake(InMemoryBlobStore):
    """Streams in small chunks; serves presigned URLs when ``serves_urls`` is on."""

    def __init__(self) -> None:
        super().__init__()
        self.serves_urls = False
        self.whole_reads = 0
        self.signed: list[tuple[str, int]] = []

    async def get(self, key: str) -> bytes:
        self.whole_reads += 1
        return await super().get(key)

    async def open_read(self, key: str) -> AsyncGenerator[bytes, None]:
        data = await InMemoryBlobStore.get(self, key)  # not counted: not a whole read by a caller

        async def chunks() -> AsyncGenerator[bytes, None]:
            for start in range(0, len(data), 50):
                yield data[start : start + 50]

        return chunks()

    async def presigned_url(
        self, key: str, *, ttl_seconds: int, content_type: str, filename: str | None = None
    ) -> str | None:
        if not self.serves_urls:
            return None
        self.signed.append((key, ttl_seconds))
        return f"{STORE}/{key}?X-Amz-Expires={ttl_seconds}"


@pytest.fixture
def store() -> ObjectStoreFake:
    return ObjectStoreFake()


@pytest.fixture
def trace(clock: FixedClock, store: ObjectStoreFake) -> Trace:
    return Trace(storage=InMemoryStorage(), blobs=store, search=InMemorySearchIndex(), clock=clock)


@pytest.fixture
async def photo(trace: Trace, keys: dict[str, Principal]) -> Attachment:
    alice = keys["alice-full"]
    entry = await trace.create_entry(alice, EntryDraft(content="photo day"))
    added = await trace.add_attachment(alice, entry.entry_id, png_bytes(), filename="day.png")
    return added.attachment


def signed_link(attachment: Attachment, clock: FixedClock) -> str:
    signer = AttachmentUrlSigner(SECRET, PUBLIC, clock=clock)
    return signer.sign(attachment.account_id, attachment.attachment_id).url


async def test_a_download_streams_the_file_in_chunks_without_reading_it_whole(
    http: httpx2.AsyncClient, photo: Attachment, clock: FixedClock, store: ObjectStoreFake
) -> None:
    answer = await http.get(signed_link(photo, clock))
    assert answer.status_code == 200
    assert answer.content == png_bytes()
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-disposition"] == 'inline; filename="day.png"'
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cache-control"] == "private, max-age=3600"
    assert store.whole_reads == 0


async def test_a_download_redirects_to_the_stores_url_for_the_rest_of_the_links_life(
    http: httpx2.AsyncClient, photo: Attachment, clock: FixedClock, store: ObjectStoreFake
) -> None:
    store.serves_urls = True
    link = signed_link(photo, clock)
    clock.advance(minutes=20)
    answer = await http.get(link, follow_redirects=False)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"{STORE}/{photo.blob_key}?X-Amz-Expires=2400"
    assert answer.headers["cache-control"] == "private, max-age=2400"
    assert store.signed == [(photo.blob_key, 2400)]
    assert store.whole_reads == 0


async def test_a_tampered_link_is_refused_before_the_store_signs_anything(
    http: httpx2.AsyncClient, photo: Attachment, clock: FixedClock, store: ObjectStoreFake
) -> None:
    store.serves_urls = True
    link = signed_link(photo, clock)
    answer = await http.get(link[:-2] + "AA", follow_redirects=False)
    assert answer.status_code == 403
    assert store.signed == []


async def test_a_missing_file_is_not_found_not_a_broken_stream(
    http: httpx2.AsyncClient, photo: Attachment, clock: FixedClock, store: ObjectStoreFake
) -> None:
    await store.delete(photo.blob_key)
    answer = await http.get(signed_link(photo, clock))
    assert answer.status_code == 404


async def test_get_attachment_url_hands_out_the_stores_url_with_the_same_lifetime(
    mcp_client: McpConnect, photo: Attachment, store: ObjectStoreFake
) -> None:
    store.serves_urls = True
    async with mcp_client("alice-read") as client:
        result = await client.call_tool(
            "get_attachment_url", {"attachment_id": str(photo.attachment_id)}
        )
    assert not result.is_error, result.content
    answer = result.structured_content
    assert answer is not None
    assert answer["url"] == f"{STORE}/{photo.blob_key}?X-Amz-Expires=3600"
    assert answer["expires_at"] == "2026-01-15T10:30:00Z"  # the fixed clock + one hour
    assert store.signed == [(photo.blob_key, 3600)]


async def test_get_attachment_url_for_another_accounts_image_signs_nothing(
    mcp_client: McpConnect, photo: Attachment, store: ObjectStoreFake
) -> None:
    store.serves_urls = True
    async with mcp_client("bob-full") as client:
        result = await client.call_tool(
            "get_attachment_url", {"attachment_id": str(photo.attachment_id)}
        )
    assert result.is_error
    assert store.signed == []


async def test_without_store_urls_get_attachment_url_links_to_the_signed_route(
    mcp_client: McpConnect, photo: Attachment
) -> None:
    async with mcp_client("alice-read") as client:
        result = await client.call_tool(
            "get_attachment_url", {"attachment_id": str(photo.attachment_id)}
        )
    answer = result.structured_content
    assert answer is not None
    url = urlsplit(answer["url"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{PUBLIC}/attachments/{photo.attachment_id}"
    assert set(parse_qs(url.query)) == {"account", "expires", "sig"}
