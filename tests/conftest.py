"""Fixtures shared by every test area: the anyio backend and one storage per backend.

``storage`` is parametrized over ``memory``, ``sqlite`` and ``postgres``, so a
test that takes it runs once per backend and the report shows all three ids.
``sql_storage`` covers only the SQL backends (``sqlite``, ``postgres``);
``sqlite_url`` / ``postgres_url`` give a freshly migrated, empty database URL.

PostgreSQL: one uniquely named database per test session is created from
``TRACE_TEST_POSTGRES_URL`` (default ``postgresql+asyncpg://postgres@127.0.0.1:5432/test``),
migrated once, emptied before each test and dropped at the end. Storage on it
(``storage``, ``sql_storage``) runs its queries as an application role bound by
row-level security (``postgres_app_role``, a role made for the session), as a
hosted server does with ``storage.database_app_role``. When the server
cannot be reached the Postgres tests are skipped with the reason, unless
``CI=true``: then they fail.

``blobs`` is parametrized over ``memory``, ``filesystem`` and ``s3``; the S3 store
gets a new bucket on moto's S3 server, started once per session on a free
loopback port (``s3_endpoint``, see ``s3_server.py``). Without moto the S3 tests
skip, saying so, unless ``CI=true``: then they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from s3_server import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    moto_installed,
    new_bucket,
    s3_unavailable,
    shared_session,
    start_moto,
    stop_moto,
)
from trace_core.ports import BlobStore, Storage
from trace_core.testing.memory import InMemoryBlobStore, InMemoryStorage
from trace_sql import FilesystemBlobStore, SqlStorage, create_storage
from trace_sql import sqlite_url as sqlite_file_url
from trace_sql.engine import create_engine
from trace_sql.migrate import migrate_async

T = TypeVar("T")

DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"

STORAGE_BACKENDS = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]
SQL_BACKENDS = STORAGE_BACKENDS[1:]


def run_blocking(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine to completion on a private loop in another thread.

    Session fixtures are synchronous; running their database setup in a thread
    keeps it off whatever loop the anyio plugin has open.
    """

    async def _main() -> T:
        return await make()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _main()).result()


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True, scope="session")
def per_user_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point the per-user data directory into a temporary one for the whole run.

    The default ``storage.data_dir`` is ``$XDG_DATA_HOME/trace``: no test (nor a
    server a test starts, which inherits the environment) may write into the real
    one of whoever runs the suite. Tests set their own data directory; at the end
    the default one must not even exist.
    """
    home = tmp_path_factory.mktemp("xdg-data-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_DATA_HOME", str(home))
        yield home / "trace"
    written = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    assert not written, f"tests wrote into the default data directory: {written[:10]}"


# --- SQLite ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, empty SQLite database file, copied for every test (faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    run_blocking(lambda: migrate_async(sqlite_file_url(path)))
    # Disposing the engine checkpointed the WAL: the file alone is the database.
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """URL of a fresh, migrated SQLite database file for this test."""
    path = tmp_path / "trace.db"
    shutil.copyfile(sqlite_template, path)
    return sqlite_file_url(path)


# --- PostgreSQL --------------------------------------------------------------------


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL is not reachable ({reason}); set TRACE_TEST_POSTGRES_URL"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: Postgres tests are required)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A uniquely named, migrated database for this test session; dropped at the end."""
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"trace_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    try:
        run_blocking(lambda: admin(f'CREATE DATABASE "{name}"'))
    except (OSError, TimeoutError, sa.exc.DBAPIError) as exc:
        _postgres_unavailable(f"{type(exc).__name__}: {exc}".splitlines()[0])
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        run_blocking(lambda: migrate_async(url))
        run_blocking(lambda: _snapshot_seed_rows(url))
        yield url
    finally:
        run_blocking(lambda: admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# Rows the migrations themselves insert (e.g. search settings) are kept in this
# schema after migrating and put back after every reset, so each test starts
# from exactly what a freshly migrated database holds.
SEED_SCHEMA = "trace_test_seed"

_USER_TABLES = sa.text(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
    "AND tablename <> 'alembic_version' ORDER BY tablename"
)


async def _snapshot_seed_rows(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{SEED_SCHEMA}"'))
            for name in (await conn.execute(_USER_TABLES)).scalars().all():
                has_rows = await conn.execute(sa.text(f'SELECT EXISTS (SELECT 1 FROM "{name}")'))
                if has_rows.scalar():
                    await conn.execute(
                        sa.text(f'CREATE TABLE "{SEED_SCHEMA}"."{name}" AS TABLE "{name}"')
                    )
    finally:
        await engine.dispose()


async def _reset(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            tables = (await conn.execute(_USER_TABLES)).scalars().all()
            if tables:
                names = ", ".join(f'"{name}"' for name in tables)
                await conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            seeded = (
                await conn.execute(
                    sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :schema"),
                    {"schema": SEED_SCHEMA},
                )
            ).scalars()
            for name in seeded:
                await conn.execute(
                    sa.text(f'INSERT INTO "{name}" SELECT * FROM "{SEED_SCHEMA}"."{name}"')
                )
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_app_role(postgres_database: str) -> Iterator[str]:
    """A role bound by row-level security, granted the session database's tables."""
    from trace_sql.rls import prepare_app_role

    role = f"trace_test_app_{os.getpid()}_{uuid.uuid4().hex[:8]}"

    async def create() -> None:
        engine = create_engine(postgres_database)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(f'CREATE ROLE "{role}" NOLOGIN'))
                await conn.execute(sa.text(f'GRANT "{role}" TO CURRENT_USER'))
                await prepare_app_role(conn, role)
        finally:
            await engine.dispose()

    async def drop() -> None:
        engine = create_engine(postgres_database)
        try:
            async with engine.begin() as conn:
                await conn.execute(sa.text(f'DROP OWNED BY "{role}"'))
                await conn.execute(sa.text(f'DROP ROLE "{role}"'))
        finally:
            await engine.dispose()

    run_blocking(create)
    try:
        yield role
    finally:
        run_blocking(drop)


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """URL of the session's Postgres database, reset to its freshly migrated content."""
    run_blocking(lambda: _reset(postgres_database))
    return postgres_database


# --- storage and blobs ------------------------------------------------------------------


@pytest.fixture(params=STORAGE_BACKENDS)
def storage_backend(request: pytest.FixtureRequest) -> str:
    """Which backend this test runs on: ``memory``, ``sqlite`` or ``postgres``."""
    return str(request.param)


def _app_role_for(url: str, request: pytest.FixtureRequest) -> str | None:
    """The application role a storage on ``url`` runs as: Postgres's session role, else None."""
    if not url.startswith("postgresql"):
        return None
    return str(request.getfixturevalue("postgres_app_role"))


def _url_for(backend: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"{backend}_url"))


@pytest.fixture
def storage_url(storage_backend: str, request: pytest.FixtureRequest) -> str | None:
    """The database URL behind ``storage`` (None for the in-memory backend)."""
    if storage_backend == "memory":
        return None
    return _url_for(storage_backend, request)


@pytest.fixture
async def storage(
    storage_url: str | None, anyio_backend: Any, request: pytest.FixtureRequest
) -> AsyncIterator[Storage]:
    """An empty storage on each backend: ``memory``, ``sqlite`` (a file) and ``postgres``."""
    if storage_url is None:
        yield InMemoryStorage()
        return
    sql = create_storage(storage_url, app_role=_app_role_for(storage_url, request))
    try:
        yield sql
    finally:
        await sql.close()


@pytest.fixture(params=SQL_BACKENDS)
def sql_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database URL on each SQL backend (``sqlite``, ``postgres``)."""
    return _url_for(str(request.param), request)


@pytest.fixture
async def sql_storage(
    sql_url: str, anyio_backend: Any, request: pytest.FixtureRequest
) -> AsyncIterator[SqlStorage]:
    """An empty :class:`SqlStorage` on each SQL backend (``sqlite``, ``postgres``).

    On Postgres it runs as the session's application role (row-level security on).
    """
    sql = create_storage(sql_url, app_role=_app_role_for(sql_url, request))
    try:
        yield sql
    finally:
        await sql.close()


# --- blobs ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a local S3 API server (moto's, in a subprocess) for this test session."""
    if not moto_installed():
        s3_unavailable('moto is not installed: uv sync installs "moto[server]" (dev dependency)')
    process, endpoint = start_moto()
    try:
        yield endpoint
    finally:
        stop_moto(process)


@pytest.fixture
async def s3_bucket(s3_endpoint: str) -> str:
    """A new, empty bucket on the test server."""
    return await new_bucket(s3_endpoint)


@pytest.fixture(params=["memory", "filesystem", pytest.param("s3", marks=pytest.mark.s3)])
async def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BlobStore]:
    """An empty blob store: in memory, files in a temporary directory, a bucket on moto."""
    store: BlobStore
    if request.param == "memory":
        store = InMemoryBlobStore()
    elif request.param == "filesystem":
        store = FilesystemBlobStore(tmp_path / "blobs")
    else:
        from trace_s3 import S3BlobStore

        endpoint = request.getfixturevalue("s3_endpoint")
        store = S3BlobStore(
            bucket=await new_bucket(endpoint),
            prefix="trace/blobs",
            endpoint_url=endpoint,
            region=REGION,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            session=shared_session(),
            presigned_downloads=True,
        )
    try:
        yield store
    finally:
        await store.close()
