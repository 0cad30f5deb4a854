"""SQLite commits are durable on power loss by default: ``PRAGMA synchronous=FULL``.

In WAL mode ``NORMAL`` survives a process crash but may lose the last
acknowledged transactions when the machine loses power; ``FULL`` syncs the WAL
on every commit. ``storage.sqlite_synchronous = "normal"`` relaxes it. Every
connection is checked: the async writer engine and the synchronous reader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from trace_core.errors import InvalidInputError
from trace_http.bootstrap import make_storage
from trace_http.settings import Settings, SettingsError, StorageSettings, load_settings
from trace_sql import SqlStorage, create_storage

pytestmark = pytest.mark.anyio

FULL, NORMAL = 2, 1  # what PRAGMA synchronous answers


async def _synchronous(storage: SqlStorage) -> tuple[int, int]:
    """``PRAGMA synchronous`` on a fresh writer connection and a fresh reader connection."""
    async with storage.engine.connect() as conn:
        writer = (await conn.exec_driver_sql("PRAGMA synchronous")).scalar_one()
    assert storage.reader is not None
    with storage.reader.connect() as sync_conn:
        reader = sync_conn.exec_driver_sql("PRAGMA synchronous").scalar_one()
    return int(writer), int(reader)


async def test_writer_and_reader_connections_sync_fully_by_default(sqlite_url: str) -> None:
    storage = create_storage(sqlite_url)
    try:
        assert await _synchronous(storage) == (FULL, FULL)
    finally:
        await storage.close()


async def test_the_server_storage_syncs_fully_unless_the_setting_relaxes_it(
    tmp_path: Path, anyio_backend: Any
) -> None:
    for settings, expected in [
        (Settings(storage=StorageSettings(data_dir=str(tmp_path / "a"))), FULL),
        (
            Settings(
                storage=StorageSettings(data_dir=str(tmp_path / "b"), sqlite_synchronous="full")
            ),
            FULL,
        ),
        (
            Settings(
                storage=StorageSettings(data_dir=str(tmp_path / "c"), sqlite_synchronous="normal")
            ),
            NORMAL,
        ),
    ]:
        storage = make_storage(settings)
        try:
            await storage.migrate()
            assert await _synchronous(storage) == (expected, expected)
        finally:
            await storage.close()


async def test_relaxed_storage_keeps_wal_and_commits(sqlite_url: str) -> None:
    storage = create_storage(sqlite_url, sqlite_synchronous="normal")
    try:
        assert await _synchronous(storage) == (NORMAL, NORMAL)
        async with storage.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar_one()
        assert mode == "wal"
    finally:
        await storage.close()


def test_the_setting_is_read_from_the_environment_and_checked() -> None:
    settings = load_settings(env={"TRACE_STORAGE_SQLITE_SYNCHRONOUS": "normal"})
    assert settings.storage.sqlite_synchronous == "normal"
    with pytest.raises(SettingsError) as refused:
        load_settings(env={"TRACE_STORAGE_SQLITE_SYNCHRONOUS": "off"})
    assert refused.value.field == "storage.sqlite_synchronous"


def test_an_unknown_mode_is_refused_by_the_engine(sqlite_url: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        create_storage(sqlite_url, sqlite_synchronous="off")  # type: ignore[arg-type]
    assert refused.value.field == "sqlite_synchronous"


@pytest.mark.postgres
async def test_postgres_storage_accepts_the_sqlite_only_setting(postgres_url: str) -> None:
    storage = create_storage(postgres_url, sqlite_synchronous="normal")
    try:
        async with storage.connect() as conn:
            assert (await conn.execute(sa.text("SELECT 1"))).scalar_one() == 1
    finally:
        await storage.close()
