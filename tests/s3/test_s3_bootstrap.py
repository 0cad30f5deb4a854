"""The root picks the S3 blob store by ``storage.blobs.kind = "s3"``; it is an optional extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_client
from trace_core.errors import InvalidInputError
from trace_core.model import EntryDraft
from trace_core.testing.images import png_bytes
from trace_http.bootstrap import open_runtime, open_trace
from trace_http.settings import (
    BlobSettings,
    McpSettings,
    Settings,
    SettingsError,
    StorageSettings,
    load_settings,
)
from trace_s3 import S3BlobStore

pytestmark = pytest.mark.anyio


def s3_settings(tmp_path: Path, mcp: McpSettings | None = None, **blobs: Any) -> Settings:
    return Settings(
        storage=StorageSettings(
            data_dir=str(tmp_path / "data"), blobs=BlobSettings(kind="s3", **blobs)
        ),
        mcp=mcp or McpSettings(),
    )


@pytest.mark.s3
async def test_settings_with_kind_s3_keep_attachments_in_the_bucket_under_the_prefix(
    tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    settings = s3_settings(
        tmp_path,
        bucket=s3_bucket,
        prefix="trace",
        endpoint_url=s3_endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
    async with open_trace(settings) as trace:
        assert isinstance(trace.blobs, S3BlobStore)
        account = await trace.create_account("ada@example.org")
        ada = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(ada, EntryDraft(content="a photo"))
        attachment = (await trace.add_attachment(ada, entry.entry_id, png_bytes())).attachment
        _, data = await trace.read_attachment(ada, attachment.attachment_id)
        assert data == png_bytes()
    async with s3_client(s3_endpoint) as s3:
        listed = await s3.list_objects_v2(Bucket=s3_bucket)
    assert [o["Key"] for o in listed["Contents"]] == [f"trace/{attachment.blob_key}"]
    assert not (tmp_path / "data" / "blobs").exists()


async def test_open_runtime_closes_the_s3_client_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[S3BlobStore] = []
    original = S3BlobStore.close

    async def close(self: S3BlobStore) -> None:
        closed.append(self)
        await original(self)

    monkeypatch.setattr(S3BlobStore, "close", close)
    async with open_runtime(s3_settings(tmp_path, bucket="b")) as runtime:
        store = runtime.trace.blobs
    assert closed == [store]


async def test_s3_without_the_extra_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import trace_s3` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "trace_s3", None)
    with pytest.raises(InvalidInputError) as info:
        async with open_trace(s3_settings(tmp_path, bucket="b")):
            pass
    assert info.value.field == "storage.blobs.kind"
    assert "trace-http[s3]" in str(info.value)


async def test_presigned_downloads_refuse_a_url_lifetime_beyond_seven_days(
    tmp_path: Path,
) -> None:
    settings = s3_settings(
        tmp_path,
        mcp=McpSettings(attachment_url_ttl_seconds=8 * 24 * 3600),
        bucket="b",
        presigned_downloads=True,
    )
    with pytest.raises(InvalidInputError) as info:
        async with open_trace(settings):
            pass
    assert info.value.field == "mcp.attachment_url_ttl_seconds"


@pytest.mark.parametrize(
    ("blobs", "field"),
    [
        ({"kind": "s3"}, "storage.blobs.bucket"),
        ({"kind": "s3", "bucket": "b", "access_key_id": "AKIA"}, "storage.blobs.access_key_id"),
        ({"kind": "s3", "bucket": "b", "endpoint_url": "minio:9000"}, "storage.blobs.endpoint_url"),
    ],
)
def test_bad_s3_settings_are_refused_naming_the_setting(
    tmp_path: Path, blobs: dict[str, str], field: str
) -> None:
    config = tmp_path / "trace.toml"
    lines = "\n".join(f'{key} = "{value}"' for key, value in blobs.items())
    config.write_text(f"[storage.blobs]\n{lines}\n")
    with pytest.raises(SettingsError) as info:
        load_settings(config, env={})
    assert info.value.field == field


def test_s3_settings_come_from_the_environment_too() -> None:
    settings = load_settings(
        env={
            "TRACE_STORAGE_BLOBS_KIND": "s3",
            "TRACE_STORAGE_BLOBS_BUCKET": "attachments",
            "TRACE_STORAGE_BLOBS_PREFIX": "trace/",
            "TRACE_STORAGE_BLOBS_PRESIGNED_DOWNLOADS": "true",
        }
    )
    blobs = settings.storage.blobs
    assert (blobs.kind, blobs.bucket, blobs.prefix, blobs.presigned_downloads) == (
        "s3",
        "attachments",
        "trace/",
        True,
    )


_DEFAULT_PROFILE = """
import sys

import anyio

from trace_http.bootstrap import open_runtime
from trace_http.settings import Settings, StorageSettings


async def build_and_close() -> None:
    settings = Settings(storage=StorageSettings(data_dir=sys.argv[1]))
    async with open_runtime(settings) as runtime:
        await runtime.trace.blobs.put("a/b", b"x")


anyio.run(build_and_close)
clients = ("trace_s3", "aiobotocore", "botocore", "aiohttp")
print(" ".join(sorted(m for m in sys.modules if m.split(".")[0] in clients)))
"""


def test_the_default_profile_never_imports_the_s3_client(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    done = subprocess.run(
        [sys.executable, "-c", _DEFAULT_PROFILE, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
