"""S3BlobStore beyond the blob contract: multipart, prefix, URLs, credentials, failures.

Runs against moto's S3 server (the ``s3_endpoint`` fixture); the contract suite
itself runs in tests/contracts/test_blobs.py.
"""

from __future__ import annotations

import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest

from s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_client, shared_session
from trace_core.errors import InvalidInputError, NotFoundError, UnavailableError
from trace_s3 import MIN_PART_BYTES, S3BlobStore, content_disposition

pytestmark = [pytest.mark.anyio, pytest.mark.s3]

MiB = 1024 * 1024


@pytest.fixture
async def make_store(s3_endpoint: str, s3_bucket: str) -> AsyncIterator[Any]:
    made: list[S3BlobStore] = []

    def make(**options: Any) -> S3BlobStore:
        settings: dict[str, Any] = {
            "bucket": s3_bucket,
            "endpoint_url": s3_endpoint,
            "region": REGION,
            "access_key_id": ACCESS_KEY,
            "secret_access_key": SECRET_KEY,
            "session": shared_session(),
            **options,
        }
        store = S3BlobStore(**settings)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def fetch(url: str) -> tuple[bytes, dict[str, str]]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read(), {k.lower(): v for k, v in response.headers.items()}


async def test_a_stream_longer_than_a_part_becomes_one_object_of_several_parts(
    make_store: Any, s3_endpoint: str, s3_bucket: str
) -> None:
    store = make_store(part_size=MIN_PART_BYTES)
    data = bytes(range(256)) * (11 * MiB // 256)  # 11 MiB: parts of 5, 5 and 1 MiB
    with anyio.fail_after(60):
        assert await store.write_stream("acct/big", chunks_of(data, 300_000)) == len(data)
    async with s3_client(s3_endpoint) as s3:
        head = await s3.head_object(Bucket=s3_bucket, Key="acct/big")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # S3's mark of a 3-part upload
    assert await store.get("acct/big") == data


async def test_a_stream_that_fits_in_one_part_is_one_plain_upload(
    make_store: Any, s3_endpoint: str, s3_bucket: str
) -> None:
    store = make_store()
    await store.write_stream("acct/small", chunks_of(b"x" * 100_000, 7_000))
    async with s3_client(s3_endpoint) as s3:
        head = await s3.head_object(Bucket=s3_bucket, Key="acct/small")
    assert "-" not in head["ETag"]


async def test_a_multipart_upload_that_fails_is_aborted_leaving_no_parts(
    make_store: Any, s3_endpoint: str, s3_bucket: str
) -> None:
    store = make_store(part_size=MIN_PART_BYTES)

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(12):
            yield b"y" * MiB
        raise ConnectionResetError("the uploader went away")

    with anyio.fail_after(60), pytest.raises(ConnectionResetError):
        await store.write_stream("acct/broken", broken())
    async with s3_client(s3_endpoint) as s3:
        uploads = await s3.list_multipart_uploads(Bucket=s3_bucket)
    assert uploads.get("Uploads", []) == []
    assert not await store.exists("acct/broken")


async def test_objects_are_named_under_the_prefix(
    make_store: Any, s3_endpoint: str, s3_bucket: str
) -> None:
    store = make_store(prefix="/tenants/trace/")
    await store.put("acct/one", b"1")
    async with s3_client(s3_endpoint) as s3:
        listed = await s3.list_objects_v2(Bucket=s3_bucket)
    assert [o["Key"] for o in listed["Contents"]] == ["tenants/trace/acct/one"]
    other = make_store(prefix="elsewhere")
    assert not await other.exists("acct/one")


async def test_reads_stream_in_bounded_chunks(make_store: Any) -> None:
    store = make_store(read_chunk_bytes=64 * 1024)
    data = bytes(range(256)) * (1 * MiB // 256)
    await store.put("acct/k", data)
    reader = await store.open_read("acct/k")
    chunks = [chunk async for chunk in reader]
    assert b"".join(chunks) == data
    assert len(chunks) >= 16
    assert max(map(len, chunks)) <= 64 * 1024


async def test_a_presigned_url_answers_with_the_type_and_file_name_given(
    make_store: Any,
) -> None:
    store = make_store(presigned_downloads=True)
    await store.put("acct/photo", b"\x89PNG not really")
    url = await store.presigned_url(
        "acct/photo", ttl_seconds=120, content_type="image/png", filename='Straße "1".png'
    )
    assert url is not None
    assert "X-Amz-Expires=120" in url
    body, headers = await anyio.to_thread.run_sync(fetch, url)
    assert body == b"\x89PNG not really"
    assert headers["content-type"] == "image/png"
    assert headers["content-disposition"] == content_disposition('Straße "1".png')


def test_a_content_disposition_keeps_ascii_plain_and_the_full_name_encoded() -> None:
    assert content_disposition(None) == "inline"
    assert content_disposition("a.png") == "inline; filename=\"a.png\"; filename*=UTF-8''a.png"
    assert content_disposition('Straße "1".png') == (
        "inline; filename=\"Stra_e _1_.png\"; filename*=UTF-8''Stra%C3%9Fe%20%221%22.png"
    )


async def test_without_presigned_downloads_the_store_serves_no_urls(make_store: Any) -> None:
    store = make_store()
    await store.put("acct/photo", b"x")
    assert await store.presigned_url("acct/photo", ttl_seconds=60, content_type="image/png") is None


async def test_a_url_beyond_seven_days_is_refused(make_store: Any) -> None:
    store = make_store(presigned_downloads=True)
    with pytest.raises(InvalidInputError) as info:
        await store.presigned_url("acct/p", ttl_seconds=8 * 24 * 3600, content_type="image/png")
    assert info.value.field == "ttl_seconds"


@pytest.mark.parametrize("key", ["", "../outside", "a//b", ".hidden", "a/./b", "x" * 600])
async def test_a_key_that_is_not_a_plain_relative_path_is_refused(
    make_store: Any, key: str
) -> None:
    store = make_store()
    for operation in (store.get, store.exists, store.delete, store.open_read):
        with pytest.raises(InvalidInputError) as info:
            await operation(key)
        assert info.value.field == "blob_key"


def test_bad_settings_are_refused_naming_the_setting() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"bucket": ""}, "storage.blobs.bucket"),
        ({"bucket": "b", "access_key_id": "only-half"}, "storage.blobs.access_key_id"),
        ({"bucket": "b", "prefix": "a/../b"}, "storage.blobs.prefix"),
        ({"bucket": "b", "part_size": MiB}, "part_size"),
    ]
    for options, field in cases:
        with pytest.raises(InvalidInputError) as info:
            S3BlobStore(**options)
        assert info.value.field == field


async def test_a_missing_bucket_makes_the_store_unavailable(make_store: Any) -> None:
    store = make_store(bucket="no-such-bucket-here")
    with pytest.raises(UnavailableError):
        await store.put("acct/k", b"x")


async def test_an_unreachable_server_makes_the_store_unavailable(make_store: Any) -> None:
    # The discard port: nothing answers. One attempt: the retries' back-off is not the point.
    store = make_store(endpoint_url="http://127.0.0.1:9", max_attempts=1)
    with anyio.fail_after(60), pytest.raises(UnavailableError):
        await store.open_read("acct/k")


async def test_a_closed_store_opens_a_new_client_on_next_use(make_store: Any) -> None:
    store = make_store()
    await store.put("acct/k", b"before")
    await store.close()
    assert await store.get("acct/k") == b"before"


@pytest.fixture
def aws_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No AWS configuration at all but what a test sets (no files, no instance role)."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.mark.usefixtures("aws_environment")
async def test_credentials_and_endpoint_come_from_the_standard_aws_variables(
    monkeypatch: pytest.MonkeyPatch, s3_endpoint: str, s3_bucket: str
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    monkeypatch.setenv("AWS_REGION", REGION)
    store = S3BlobStore(bucket=s3_bucket, presigned_downloads=True)
    try:
        await store.put("acct/k", b"from the environment")
        assert await store.get("acct/k") == b"from the environment"
        url = await store.presigned_url("acct/k", ttl_seconds=60, content_type="image/png")
        assert url is not None
        assert f"X-Amz-Credential={ACCESS_KEY}" in url
    finally:
        await store.close()


@pytest.mark.usefixtures("aws_environment")
async def test_without_any_credentials_the_store_is_unavailable(
    s3_endpoint: str, s3_bucket: str
) -> None:
    store = S3BlobStore(bucket=s3_bucket, endpoint_url=s3_endpoint, region=REGION)
    try:
        with anyio.fail_after(60), pytest.raises(UnavailableError):
            await store.put("acct/k", b"x")
    finally:
        await store.close()


async def test_a_missing_object_is_not_found(make_store: Any) -> None:
    store = make_store()
    with pytest.raises(NotFoundError):
        await store.get("acct/none")
    assert not await store.exists("acct/none")


async def test_when_the_abort_fails_too_the_streams_own_error_is_reported(
    make_store: Any,
) -> None:
    from botocore.exceptions import EndpointConnectionError

    store = make_store(part_size=MIN_PART_BYTES)
    client = await store._client()  # the adapter's own client, to make its abort fail

    async def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    client.abort_multipart_upload = unreachable

    async def broken() -> AsyncIterator[bytes]:
        for _ in range(6):
            yield b"z" * MiB
        raise ConnectionResetError("the uploader went away")

    with anyio.fail_after(60), pytest.raises(ConnectionResetError):
        await store.write_stream("acct/broken", broken())
