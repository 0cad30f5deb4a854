from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from trace_core.ports import Storage
from trace_core.testing.memory import InMemoryStorage
from trace_sql import create_storage, sqlite_url
from trace_sql.engine import create_engine

FreshStorage = Callable[[], AbstractAsyncContextManager[Storage]]


async def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            names = (
                await conn.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            tables = ", ".join(f'"{n}"' for n in names)
            await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
def fresh_storage(
    storage_backend: str,
    storage_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    anyio_backend: Any,
) -> FreshStorage:
    """Open a second, empty, migrated database on the same backend as ``storage``.

    Postgres has one database per session, so "fresh" there means emptied after
    the source was read (the caller closes the source storage first).
    """

    @asynccontextmanager
    async def open_fresh() -> AsyncIterator[Storage]:
        if storage_backend == "memory":
            yield InMemoryStorage()
            return
        if storage_backend == "sqlite":
            template: Path = request.getfixturevalue("sqlite_template")
            path = tmp_path / "fresh.db"
            shutil.copyfile(template, path)
            url = sqlite_url(path)
        else:
            assert storage_url is not None
            await _empty_postgres(storage_url)
            url = storage_url
        sql = create_storage(url)
        try:
            yield sql
        finally:
            await sql.close()

    return open_fresh
