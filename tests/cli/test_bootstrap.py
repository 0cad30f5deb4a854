"""The composition root builds Trace from settings, and takes any adapter given instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from trace_core.model import EntryDraft
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_http.bootstrap import build_trace, open_trace
from trace_http.settings import Settings, StorageSettings
from trace_sql import FilesystemBlobStore, SqlStorage
from trace_sql.migrate import current_revisions, head_revisions

pytestmark = pytest.mark.anyio


def _settings(tmp_path: Path, **storage: object) -> Settings:
    return Settings(storage=StorageSettings(data_dir=str(tmp_path / "data"), **storage))  # type: ignore[arg-type]


async def test_settings_alone_give_sqlite_and_files_in_the_data_dir(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with open_trace(settings) as trace:
        assert isinstance(trace.storage, SqlStorage)
        assert isinstance(trace.blobs, FilesystemBlobStore)
        assert trace.search is not None  # the SQL full-text index
        account = await trace.create_account("ada@example.org")
        who = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(who, EntryDraft(content="hello"))
        assert (await trace.get_entry(who, entry.entry_id)).entry.content == "hello"
    assert (tmp_path / "data" / "trace.db").exists()
    assert await current_revisions(settings.storage.url) == head_revisions()


async def test_no_migration_when_migrate_on_start_is_off(tmp_path: Path) -> None:
    settings = _settings(tmp_path, migrate_on_start=False)
    async with open_trace(settings):
        pass
    assert await current_revisions(settings.storage.url) == set()


async def test_every_adapter_can_be_given_instead(tmp_path: Path) -> None:
    storage, blobs, clock = InMemoryStorage(), InMemoryBlobStore(), FixedClock()
    trace = await build_trace(_settings(tmp_path), storage=storage, blobs=blobs, clock=clock)
    assert trace.storage is storage
    assert trace.blobs is blobs
    assert trace.clock is clock
    assert trace.search is None  # not SQL storage: the facade's own fallback
    account = await trace.create_account("ada@example.org")
    assert account.created_at == clock.now()
    # Nothing was written to the configured data directory.
    assert not (tmp_path / "data" / "trace.db").exists()


async def test_open_trace_leaves_a_given_storage_open(tmp_path: Path) -> None:
    storage = InMemoryStorage()
    async with open_trace(_settings(tmp_path), storage=storage, blobs=InMemoryBlobStore()) as t:
        await t.create_account("ada@example.org")
    async with storage.unit_of_work() as uow:
        assert [a.email for a in await uow.accounts.list()] == ["ada@example.org"]


async def test_meilisearch_without_a_url_is_refused_naming_the_setting(tmp_path: Path) -> None:
    from trace_core.errors import InvalidInputError
    from trace_http.settings import SearchSettings

    settings = Settings(
        storage=StorageSettings(data_dir=str(tmp_path / "data")),
        search=SearchSettings(kind="meilisearch"),
    )
    with pytest.raises(InvalidInputError) as info:
        async with open_trace(settings):
            pass
    assert info.value.field == "search.meilisearch_url"
