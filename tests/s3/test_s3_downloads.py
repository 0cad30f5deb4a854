"""Downloads of attachments kept in S3, through the real app: streamed, or from the bucket."""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread
import httpx2
import pytest

from s3_server import ACCESS_KEY, REGION, SECRET_KEY, shared_session
from trace_core.model import EntryDraft
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import InMemoryStorage
from trace_http.bootstrap import runtime_for
from trace_http.settings import AuthSettings, McpSettings, ServerSettings, Settings
from trace_http.web.app import create_app
from trace_s3 import S3BlobStore

pytestmark = [pytest.mark.anyio, pytest.mark.s3]

PUBLIC = "http://testserver"
SECRET = "u" * 48
SETTINGS = Settings(
    server=ServerSettings(public_url=PUBLIC),
    auth=AuthSettings(session_secret=SECRET),
    mcp=McpSettings(attachment_url_secret=SECRET),
)


def fetch(url: str) -> tuple[bytes, str | None]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), response.headers.get("Content-Type")


@pytest.fixture(params=[False, True], ids=["streamed", "presigned"])
async def trace(
    request: pytest.FixtureRequest, s3_endpoint: str, s3_bucket: str
) -> AsyncIterator[Trace]:
    store = S3BlobStore(
        bucket=s3_bucket,
        endpoint_url=s3_endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        session=shared_session(),
        presigned_downloads=request.param,
    )
    try:
        yield Trace(storage=InMemoryStorage(), blobs=store)
    finally:
        await store.close()


async def test_a_signed_link_downloads_the_image_kept_in_s3(trace: Trace) -> None:
    account = await trace.create_account("ada@example.org")
    ada = trace.principal_for(account, actor="test")
    entry = await trace.create_entry(ada, EntryDraft(content="photo"))
    image = png_bytes()
    attachment = (await trace.add_attachment(ada, entry.entry_id, image)).attachment
    runtime = runtime_for(SETTINGS, trace=trace, background=())
    link = runtime.signer.sign(attachment.account_id, attachment.attachment_id).url
    app = create_app(runtime)
    async with (
        app.lifespan(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC) as http,
    ):
        answer = await http.get(link, follow_redirects=False)
    if answer.status_code == 302:  # presigned: the bucket itself serves the bytes
        with anyio.fail_after(30):
            body, content_type = await anyio.to_thread.run_sync(fetch, answer.headers["location"])
    else:
        assert answer.status_code == 200
        body, content_type = answer.content, answer.headers["content-type"]
    assert body == image
    assert content_type == "image/png"
    assert isinstance(trace.blobs, S3BlobStore)
    assert (answer.status_code == 302) == trace.blobs.presigned_downloads
