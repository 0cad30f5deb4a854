"""Readiness and the pool figures on a real PostgreSQL database that goes away and comes back.

A database of its own is created and migrated, and the app is built by the
composition root on it (the probes of ``trace_http/probes.py``). The database is
then taken away (its connections ended and the database renamed, as when a
server is lost or moved) and put back.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from trace_http.bootstrap import open_runtime
from trace_http.settings import Settings
from trace_http.web.app import create_app
from trace_sql import create_engine, migrate_async

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]

PUBLIC = "http://testserver"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"  # as tests/conftest.py


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _admin(statement: str) -> None:
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 5})
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def database() -> AsyncIterator[str]:
    name = f"trace_ready_{uuid.uuid4().hex[:10]}"
    try:
        await _admin(f'CREATE DATABASE "{name}"')
    except (OSError, TimeoutError, sa.exc.DBAPIError) as exc:
        pytest.skip(f"PostgreSQL is not reachable: {type(exc).__name__}")
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        await migrate_async(url)
        yield name
    finally:
        for candidate in (name, f"{name}_away"):
            await _admin(f'DROP DATABASE IF EXISTS "{candidate}" WITH (FORCE)')


async def test_ready_turns_503_when_postgres_goes_away_and_200_when_it_is_back(
    database: str, tmp_path: Path
) -> None:
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    settings = msgspec.convert(
        {
            "server": {"public_url": PUBLIC},
            "storage": {
                "data_dir": str(tmp_path),
                "database_url": admin_url.set(database=database).render_as_string(
                    hide_password=False
                ),
                "maintenance_interval_seconds": 0,
            },
            "metrics": {"enabled": True, "on_public_port": True},
        },
        Settings,
    )
    async with open_runtime(settings, run_migrations=False) as runtime:
        app = create_app(runtime)
        transport = httpx2.ASGITransport(app=app)
        async with app.lifespan(), httpx2.AsyncClient(transport=transport, base_url=PUBLIC) as http:
            up = await http.get("/health/ready")
            scraped = (await http.get("/metrics")).text

            await _admin(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                f"WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            )
            await _admin(f'ALTER DATABASE "{database}" RENAME TO "{database}_away"')
            down = [(await http.get("/health/ready")).status_code for _ in range(2)]

            await _admin(f'ALTER DATABASE "{database}_away" RENAME TO "{database}"')
            back = [(await http.get("/health/ready")).status_code for _ in range(3)]

    assert up.status_code == 200
    assert up.json() == {"status": "ok", "database": "ok", "search": "ok"}
    assert "trace_db_pool_size " in scraped
    assert "trace_db_pool_checked_out " in scraped
    assert "trace_search_outbox_pending 0.0" in scraped
    assert down == [503, 503]
    assert back[-1] == 200  # at most the first attempt still meets a dead pooled connection
