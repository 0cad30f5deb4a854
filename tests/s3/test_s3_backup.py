"""Backup and restore with attachment files in a bucket: read from it, put into another."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3_server import ACCESS_KEY, REGION, SECRET_KEY, new_bucket
from trace_core.model import EntryDraft
from trace_core.testing.images import png_bytes
from trace_http.backups import restore
from trace_http.bootstrap import open_runtime
from trace_http.settings import BlobSettings, Settings, StorageSettings

pytestmark = [pytest.mark.anyio, pytest.mark.s3]


def _settings(data_dir: Path, endpoint: str, bucket: str) -> Settings:
    blobs = BlobSettings(
        kind="s3",
        bucket=bucket,
        prefix="trace",
        endpoint_url=endpoint,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
    )
    return Settings(storage=StorageSettings(data_dir=str(data_dir), blobs=blobs))


async def test_a_backup_carries_the_bucket_s_files_into_a_new_bucket(
    tmp_path: Path, s3_endpoint: str, s3_bucket: str
) -> None:
    async with open_runtime(_settings(tmp_path / "live", s3_endpoint, s3_bucket)) as runtime:
        trace = runtime.trace
        account = await trace.create_account("ada@example.org")
        ada = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(ada, EntryDraft(content="a photo"))
        attachment = (await trace.add_attachment(ada, entry.entry_id, png_bytes(seed=3))).attachment
        manifest = await runtime.backups.create(tmp_path / "backup.tar")
    assert [blob.key for blob in manifest.blobs] == [attachment.blob_key]

    other = _settings(tmp_path / "restored", s3_endpoint, await new_bucket(s3_endpoint))
    await restore(tmp_path / "backup.tar", other)

    async with open_runtime(other) as runtime:
        ada = runtime.trace.principal_for(
            await runtime.trace.get_account_by_email("ada@example.org"), actor="test"
        )
        _, data = await runtime.trace.read_attachment(ada, attachment.attachment_id)
    assert data == png_bytes(seed=3)
