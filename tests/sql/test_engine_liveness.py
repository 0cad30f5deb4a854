"""Postgres connection liveness: a pooled connection the server dropped is replaced, cheaply.

The engine pings a pooled connection (one round trip) only when it sat idle for
``ping_after_idle_s``; connections in steady use are handed out unchecked.
These tests kill the pooled connection's backend with ``pg_terminate_backend``.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from trace_sql import SqlStorage, create_storage
from trace_sql.engine import create_engine

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


async def _backend_pid(storage: SqlStorage) -> int:
    async with storage.connect() as conn:
        return int((await conn.execute(sa.text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            # Waits (up to 5 s) until the backend is gone.
            killed = await conn.execute(
                sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid}
            )
            assert killed.scalar_one() is True
    finally:
        await admin.dispose()


def _one_connection_storage(url: str, *, ping_after_idle_s: float) -> SqlStorage:
    return create_storage(url, ping_after_idle_s=ping_after_idle_s, pool_size=1, max_overflow=0)


async def test_a_pooled_connection_killed_while_idle_is_replaced_before_it_is_used(
    postgres_url: str,
) -> None:
    # Threshold 0: every checkout of a pooled connection counts as "after an idle spell".
    storage = _one_connection_storage(postgres_url, ping_after_idle_s=0.0)
    try:
        first = await _backend_pid(storage)
        await _terminate(postgres_url, first)

        second = await _backend_pid(storage)

        assert second != first
        assert await _backend_pid(storage) == second  # the new connection is pooled
    finally:
        await storage.close()


async def test_a_connection_used_moments_ago_is_not_pinged_and_the_pool_recovers_after_a_failure(
    postgres_url: str,
) -> None:
    # Within the idle window nothing is checked (no extra round trip): a connection
    # killed in that window fails the one statement that gets it, as a disconnect
    # the pool notices, and the pool hands out a fresh connection next time.
    engine = create_engine(postgres_url, ping_after_idle_s=3600.0, pool_size=1, max_overflow=0)
    query = sa.text("SELECT pg_backend_pid()")
    try:
        async with engine.connect() as conn:
            first = (await conn.execute(query)).scalar_one()
        await _terminate(postgres_url, first)

        async with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError) as failure:
                await conn.execute(query)
        assert failure.value.connection_invalidated
        async with engine.connect() as conn:
            second = (await conn.execute(query)).scalar_one()

        assert second != first
    finally:
        await engine.dispose()


async def test_a_dropped_connection_in_a_unit_of_work_is_a_clean_unavailable_error(
    postgres_url: str,
) -> None:
    # The request that meets a dead connection gets "unavailable, retry" (not a
    # MissingGreenlet from touching the invalidated connection), and the next one works.
    from trace_core.errors import UnavailableError

    storage = _one_connection_storage(postgres_url, ping_after_idle_s=3600.0)
    try:
        first = await _backend_pid(storage)
        await _terminate(postgres_url, first)

        with pytest.raises(UnavailableError):
            await _backend_pid(storage)
        assert await _backend_pid(storage) != first
    finally:
        await storage.close()
