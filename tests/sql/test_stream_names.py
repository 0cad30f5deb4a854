"""Stream names stay unique per account (ignoring case) even when creates race."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
import sqlalchemy as sa
from alembic import command

from trace_core.errors import ConflictError
from trace_core.model import NewStream, Principal
from trace_core.service import Trace
from trace_core.testing.contracts.storage_support import add_account, make_stream
from trace_sql import create_storage, sqlite_url
from trace_sql.engine import create_engine
from trace_sql.migrate import alembic_config, migrate_async
from trace_sql.storage import stream_to_row
from trace_sql.tables import streams

pytestmark = pytest.mark.anyio


async def test_of_concurrent_creates_of_one_stream_name_exactly_one_succeeds(
    trace: Trace, alice: Principal
) -> None:
    made: list[str] = []
    refused: list[ConflictError] = []
    start = anyio.Event()

    async def create(name: str) -> None:
        await start.wait()
        try:
            made.append((await trace.create_stream(alice, NewStream(name=name))).name)
        except ConflictError as exc:
            refused.append(exc)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for name in ("Projects", "projects", "PROJECTS", "Projects"):
                tg.start_soon(create, name)
            start.set()
    assert len(made) == 1
    assert len(refused) == 3
    assert [s.name for s in await trace.list_streams(alice)] == made


async def test_the_same_stream_name_is_fine_in_two_accounts(trace: Trace) -> None:
    one = trace.principal_for(await trace.create_account("one@example.org"), actor="k")
    two = trace.principal_for(await trace.create_account("two@example.org"), actor="k")
    await trace.create_stream(one, NewStream(name="Journal"))
    await trace.create_stream(two, NewStream(name="journal"))


async def test_upgrading_a_database_with_case_duplicate_names_keeps_both_streams(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "old.db")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0001_core"))
            # The accounts table as this code writes it (streams stay at 0001).
            await conn.run_sync(
                lambda c: command.upgrade(alembic_config(c), "0200_account_time_zone")
            )
    finally:
        await engine.dispose()
    storage = create_storage(url)
    try:
        account = await add_account(storage)
        first, second = (
            make_stream(account.account_id, "Ideas"),
            make_stream(account.account_id, "IDEAS"),
        )
        async with storage.engine.begin() as conn:
            for stream in (first, second):
                row = stream_to_row(stream)
                del row["name_key"]  # the column does not exist yet at 0001_core
                await conn.execute(sa.insert(streams).values(row))
    finally:
        await storage.close()

    await migrate_async(url)

    storage = create_storage(url)
    try:
        async with storage.unit_of_work() as uow:
            names = [s.name for s in await uow.streams.list(account.account_id)]
        async with storage.engine.connect() as conn:
            keys = (await conn.execute(sa.select(streams.c.name_key))).scalars().all()
    finally:
        await storage.close()
    assert sorted(names) == ["IDEAS", "Ideas"]
    assert len(keys) == 2
    assert set(keys) == {"ideas", None}
