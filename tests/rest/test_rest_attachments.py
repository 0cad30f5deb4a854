"""Images over REST: multipart or raw uploads, the MCP tool's checks, download, delete."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from rest_support import bearer

from trace_core.limits import Limits
from trace_core.service import Trace
from trace_core.testing.images import declaring, gif_bytes, jpeg_bytes, png_bytes
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex

pytestmark = pytest.mark.anyio

ALICE = bearer("alice-full")
LIMIT = 4096


@pytest.fixture
def blobs() -> InMemoryBlobStore:
    return InMemoryBlobStore()


@pytest.fixture
def trace(clock: FixedClock, blobs: InMemoryBlobStore) -> Trace:
    """The facade with a small attachment limit (4 KiB)."""
    return Trace(
        storage=InMemoryStorage(),
        blobs=blobs,
        search=InMemorySearchIndex(),
        clock=clock,
        limits=Limits(max_attachment_bytes=LIMIT),
    )


@pytest.fixture
async def entry_id(http: httpx2.AsyncClient) -> str:
    created = await http.post("/api/v1/entries", json={"content": "pictures"}, headers=ALICE)
    return str(created.json()["entry_id"])


async def test_multipart_upload_download_and_delete(
    http: httpx2.AsyncClient, entry_id: str
) -> None:
    data = jpeg_bytes(5, 4)
    uploaded = await http.post(
        f"/api/v1/entries/{entry_id}/attachments",
        files={"file": ("holiday.jpg", data, "image/jpeg")},
        headers=ALICE,
    )
    assert uploaded.status_code == 201, uploaded.text
    body = uploaded.json()
    assert (body["mime_type"], body["width"], body["height"], body["file_size"]) == (
        "image/jpeg",
        5,
        4,
        len(data),
    )
    assert (body["filename"], body["entry_version"]) == ("holiday.jpg", 2)
    assert "warning" not in uploaded.headers
    downloaded = await http.get(body["url"], headers=ALICE)
    assert downloaded.status_code == 200
    assert downloaded.content == data
    assert downloaded.headers["content-type"] == "image/jpeg"
    assert downloaded.headers["x-content-type-options"] == "nosniff"
    removed = await http.delete(body["url"], headers=ALICE)
    assert removed.status_code == 200, removed.text
    assert removed.json()["entry_version"] == 3
    assert (await http.get(body["url"], headers=ALICE)).status_code == 404
    detail = (await http.get(f"/api/v1/entries/{entry_id}", headers=ALICE)).json()
    assert detail["attachments"] == []


async def test_raw_upload_names_the_file_and_reads_the_type_from_the_bytes(
    http: httpx2.AsyncClient, entry_id: str
) -> None:
    uploaded = await http.post(
        f"/api/v1/entries/{entry_id}/attachments",
        content=gif_bytes(),
        headers={
            **ALICE,
            "Content-Type": "image/png",
            "Content-Disposition": 'attachment; filename="spin.gif"',
        },
    )
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["mime_type"], uploaded.json()["filename"]) == ("image/gif", "spin.gif")
    assert "image/gif" in uploaded.headers["warning"]
    named = await http.post(
        f"/api/v1/entries/{entry_id}/attachments?filename=dot.png",
        content=png_bytes(),
        headers={**ALICE, "Content-Type": "application/octet-stream"},
    )
    assert named.json()["filename"] == "dot.png"


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"%PDF-1.7 not an image", "image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>", "SVG"),
        (declaring(png_bytes(), 30_000, 30_000), "pixels"),
        (png_bytes()[:30], ""),
        (b"\x89PNG" + b"\0" * (LIMIT + 10), "bytes"),
        (b"", "empty"),
    ],
    ids=["pdf", "svg", "bomb", "truncated", "over the limit", "empty"],
)
@pytest.mark.parametrize("form", ["raw", "multipart"])
async def test_refused_uploads_name_the_file_and_store_nothing(
    http: httpx2.AsyncClient,
    entry_id: str,
    blobs: InMemoryBlobStore,
    payload: bytes,
    words: str,
    form: str,
) -> None:
    url = f"/api/v1/entries/{entry_id}/attachments"
    if form == "raw":
        response = await http.post(
            url, content=payload, headers={**ALICE, "Content-Type": "image/png"}
        )
    else:
        response = await http.post(
            url, files={"file": ("x.png", payload, "image/png")}, headers=ALICE
        )
    assert response.status_code == 400, response.text
    problem: dict[str, Any] = response.json()
    assert problem["field"] == "file"
    assert words.lower() in problem["detail"].lower()
    assert blobs._blobs == {}
    entry = (await http.get(f"/api/v1/entries/{entry_id}", headers=ALICE)).json()
    assert (entry["entry"]["version"], entry["attachments"]) == (1, [])


async def test_a_body_far_over_the_limit_is_refused_while_read(
    http: httpx2.AsyncClient, entry_id: str, blobs: InMemoryBlobStore
) -> None:
    response = await http.post(
        f"/api/v1/entries/{entry_id}/attachments",
        content=b"\0" * (LIMIT + 200_000),
        headers={**ALICE, "Content-Type": "image/png"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == "file"
    assert response.json()["detail"].startswith("file: larger than the ")
    assert blobs._blobs == {}


async def test_multipart_without_a_file_part(http: httpx2.AsyncClient, entry_id: str) -> None:
    response = await http.post(
        f"/api/v1/entries/{entry_id}/attachments", data={"other": "x"}, files={}, headers=ALICE
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "file"
