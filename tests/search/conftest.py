from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_sql.engine import sqlite_url
from trace_sql.search import SqliteSearchIndex
from trace_sql.storage import SqlStorage, open_storage

POSTGRES_URL = os.environ.get(
    "TRACE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def sqlite_storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(sqlite_url(tmp_path / "trace.db"))
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture(params=["memory", "sqlite"])
async def trace(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Trace]:
    """A Trace facade on the in-memory index, then on SQLite (searches through the facade)."""
    if request.param == "memory":
        memory = InMemoryStorage()
        yield Trace(
            storage=memory,
            blobs=InMemoryBlobStore(),
            search=InMemorySearchIndex(memory),
            clock=FixedClock(),
        )
        return
    storage = await open_storage(sqlite_url(tmp_path / "trace.db"))
    try:
        yield Trace(
            storage=storage,
            blobs=InMemoryBlobStore(),
            search=SqliteSearchIndex(storage),
            clock=FixedClock(),
        )
    finally:
        await storage.close()


async def _admin_execute(sql: str, url: str = POSTGRES_URL) -> None:
    import asyncpg

    url = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _admin(sql: str, url: str = POSTGRES_URL) -> None:
    # In a thread of its own: this may be reached from inside a running event
    # loop (an async fixture asking for the database by name).
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin_execute(sql, url)).result()


@pytest.fixture(scope="session")
def postgres_database_url() -> Iterator[str]:
    """A fresh database for this session's search tests, dropped at the end."""
    name = f"trace_search_{uuid.uuid4().hex[:10]}"
    try:
        _admin(f'CREATE DATABASE "{name}"')
    except (OSError, Exception) as exc:
        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    base, _, _ = POSTGRES_URL.rpartition("/")
    yield f"{base}/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_search_app_role(postgres_database_url: str) -> Iterator[str]:
    """A role bound by row-level security that the Postgres search storage runs as."""
    role = f"trace_search_app_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE ROLE "{role}" NOLOGIN')
    try:
        yield role
    finally:
        _admin(f'DROP OWNED BY "{role}"', postgres_database_url)
        _admin(f'DROP ROLE "{role}"')


@pytest.fixture
async def postgres_storage(
    postgres_database_url: str, postgres_search_app_role: str
) -> AsyncIterator[SqlStorage]:
    # Queries run as an application role under row-level security, like a hosted server.
    storage = await open_storage(postgres_database_url, app_role=postgres_search_app_role)
    try:
        yield storage
    finally:
        await storage.close()
