"""Purging the trash removes every trace of an entry from the database and the disk."""

from __future__ import annotations

from datetime import timedelta

import anyio
import pytest
import sqlalchemy as sa

from trace_core.model import EntryDraft, EntryPatch, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import FixedClock
from trace_sql import FilesystemBlobStore, SqlStorage, create_storage
from trace_sql.tables import attachments, entries, entry_tags, entry_versions

pytestmark = pytest.mark.anyio


async def _rows(storage: SqlStorage, table: sa.Table, entry_id: object) -> int:
    async with storage.connect(all_accounts=True) as conn:
        result = await conn.execute(
            sa.select(sa.func.count()).select_from(table).where(table.c.entry_id == entry_id)
        )
        return int(result.scalar_one())


async def test_purge_removes_the_entry_its_versions_tags_attachment_rows_and_files(
    trace: Trace,
    alice: Principal,
    sql_storage: SqlStorage,
    files: FilesystemBlobStore,
    clock: FixedClock,
) -> None:
    doomed = await trace.create_entry(alice, EntryDraft(content="old", tags=("x", "y")))
    kept = await trace.create_entry(alice, EntryDraft(content="keep", tags=("x",)))
    await trace.update_entry(alice, doomed.entry_id, EntryPatch(content="older"))
    attachment = (await trace.add_attachment(alice, doomed.entry_id, png_bytes(4, 4))).attachment
    # An image removed from the doomed entry goes with it too.
    removed = (await trace.add_attachment(alice, doomed.entry_id, png_bytes(3, 3))).attachment
    await trace.delete_attachment(alice, removed.attachment_id)
    kept_attachment = (
        await trace.add_attachment(alice, kept.entry_id, png_bytes(2, 2, seed=1))
    ).attachment
    assert await files.exists(attachment.blob_key)
    await trace.delete_entry(alice, doomed.entry_id)
    assert await _rows(sql_storage, entry_versions, doomed.entry_id) == 6

    clock.advance(days=31)
    assert await trace.purge_expired_trash() == 1

    for table in (entries, entry_versions, entry_tags, attachments):
        assert await _rows(sql_storage, table, doomed.entry_id) == 0, table.name
    assert not await files.exists(attachment.blob_key)
    assert not await files.exists(removed.blob_key)
    assert await files.exists(kept_attachment.blob_key)
    assert await _rows(sql_storage, entry_versions, kept.entry_id) == 2
    assert await _rows(sql_storage, attachments, kept.entry_id) == 1
    assert [(t.tag, t.count) for t in await trace.list_tags(alice)] == [("x", 1)]


async def test_entries_deleted_less_than_the_retention_period_ago_survive_a_purge(
    trace: Trace, alice: Principal, sql_storage: SqlStorage, clock: FixedClock
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="recent"))
    await trace.delete_entry(alice, entry.entry_id)
    clock.advance(days=29)
    assert await trace.purge_expired_trash() == 0
    assert await _rows(sql_storage, entries, entry.entry_id) == 1
    clock.advance(days=1, seconds=1)
    assert await trace.purge_expired_trash(now=clock.now() + timedelta(seconds=1)) == 1
    assert await _rows(sql_storage, entries, entry.entry_id) == 0


# --- several replicas purging one database -------------------------------------------


async def _expired_entries(trace: Trace, alice: Principal, clock: FixedClock, count: int) -> None:
    for n in range(count):
        entry = await trace.create_entry(alice, EntryDraft(content=f"doomed {n}"))
        await trace.delete_entry(alice, entry.entry_id)
    clock.advance(days=31)


@pytest.mark.postgres
async def test_a_purge_batch_one_replica_holds_is_skipped_by_another(
    postgres_url: str, files: FilesystemBlobStore, clock: FixedClock
) -> None:
    one, two = create_storage(postgres_url), create_storage(postgres_url)
    trace = Trace(storage=one, blobs=files, clock=clock)
    try:
        account = await trace.create_account("carol@example.org")
        await _expired_entries(trace, trace.principal_for(account, actor="test"), clock, 5)
        async with one.unit_of_work(write=True) as first:
            taken = await first.entries.deleted_before(clock.now(), limit=3)
            with anyio.fail_after(10):
                async with two.unit_of_work(write=True) as second:
                    rest = await second.entries.deleted_before(clock.now(), limit=10)
    finally:
        await one.close()
        await two.close()
    assert len(taken) == 3
    assert len(rest) == 2
    assert not set(taken) & set(rest)


async def test_replicas_purging_at_once_purge_each_expired_entry_exactly_once(
    trace: Trace,
    alice: Principal,
    sql_url: str,
    files: FilesystemBlobStore,
    clock: FixedClock,
) -> None:
    await _expired_entries(trace, alice, clock, 40)
    replicas = [Trace(storage=create_storage(sql_url), blobs=files, clock=clock) for _ in range(3)]
    purged: list[int] = []

    async def purge(replica: Trace) -> None:
        purged.append(await replica.purge_expired_trash(batch=4))

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                for replica in replicas:
                    tg.start_soon(purge, replica)
    finally:
        for replica in replicas:
            await replica.storage.close()
    assert sum(purged) == 40
    async with trace.storage.unit_of_work() as uow:
        assert await uow.entries.deleted_before(clock.now(), limit=100) == []


async def test_an_image_removed_longer_than_the_retention_period_ago_is_purged_with_its_file(
    trace: Trace,
    alice: Principal,
    sql_storage: SqlStorage,
    files: FilesystemBlobStore,
    clock: FixedClock,
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="with pictures"))
    old = (await trace.add_attachment(alice, entry.entry_id, png_bytes(4, 4))).attachment
    recent = (await trace.add_attachment(alice, entry.entry_id, png_bytes(3, 3))).attachment
    kept = (await trace.add_attachment(alice, entry.entry_id, png_bytes(2, 2))).attachment
    await trace.delete_attachment(alice, old.attachment_id)
    clock.advance(days=20)
    await trace.delete_attachment(alice, recent.attachment_id)
    clock.advance(days=10, seconds=1)

    assert await trace.purge_expired_trash() == 0

    assert not await files.exists(old.blob_key)
    assert await files.exists(recent.blob_key)
    assert await files.exists(kept.blob_key)
    assert await _rows(sql_storage, attachments, entry.entry_id) == 2
    # The restore window of the recent removal is still open.
    restored = await trace.restore_attachment(alice, recent.attachment_id)
    assert restored.attachment.removed_at is None
