"""Optimistic locking under real concurrency, on a SQLite file and on PostgreSQL.

Every writer runs in its own unit of work (its own connection and transaction),
started together in an anyio task group.
"""

from __future__ import annotations

import anyio
import msgspec
import pytest

from trace_core.errors import VersionConflictError
from trace_core.model import Entry, EntryDraft, EntryPatch, Principal
from trace_core.service import Trace
from trace_core.testing.contracts.storage_support import add_account, add_entries, make_entry
from trace_sql import SqlStorage

pytestmark = pytest.mark.anyio


async def _race_update_entry(
    trace: Trace, alice: Principal, entry: Entry, writers: int
) -> tuple[list[Entry], list[VersionConflictError]]:
    won: list[Entry] = []
    lost: list[VersionConflictError] = []
    start = anyio.Event()

    async def update(n: int) -> None:
        await start.wait()
        try:
            won.append(
                await trace.update_entry(
                    alice,
                    entry.entry_id,
                    EntryPatch(content=f"writer {n}"),
                    expected_version=entry.version,
                )
            )
        except VersionConflictError as exc:
            lost.append(exc)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for n in range(writers):
                tg.start_soon(update, n)
            start.set()
    return won, lost


async def test_two_concurrent_update_entry_calls_with_the_same_expected_version_one_wins(
    trace: Trace, alice: Principal
) -> None:
    for _round in range(5):
        entry = await trace.create_entry(alice, EntryDraft(content="original"))
        won, lost = await _race_update_entry(trace, alice, entry, writers=2)
        assert len(won) == 1
        assert len(lost) == 1
        assert lost[0].expected_version == 1
        assert lost[0].current_version == 2
        stored = await trace.get_entry(alice, entry.entry_id)
        assert stored.entry.version == 2
        assert stored.entry.content == won[0].content


async def test_of_many_concurrent_writers_with_one_expected_version_exactly_one_wins(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="original"))
    won, lost = await _race_update_entry(trace, alice, entry, writers=6)
    assert len(won) == 1
    assert len(lost) == 5
    history = await trace.entry_history(alice, entry.entry_id)
    assert [v.version for v in history] == [2, 1]


async def test_concurrent_updates_without_expected_version_all_apply_in_turn(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="original", tags=("a",)))

    async def add_tag(n: int) -> None:
        await trace.update_entry(alice, entry.entry_id, EntryPatch(title=f"title {n}"))

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for n in range(4):
                tg.start_soon(add_tag, n)
    stored = await trace.get_entry(alice, entry.entry_id)
    assert stored.entry.version == 5
    history = await trace.entry_history(alice, entry.entry_id)
    assert [v.version for v in history] == [5, 4, 3, 2, 1]


async def test_conditional_updates_after_a_shared_read_let_exactly_one_writer_win(
    sql_storage: SqlStorage,
) -> None:
    """Both writers read version 1 before either writes (a barrier), then both write."""
    account = await add_account(sql_storage)
    entry = make_entry(account.account_id)
    await add_entries(sql_storage, entry)
    both_read = anyio.Event()
    readers = 0
    results: dict[int, bool] = {}

    async def writer(n: int) -> None:
        nonlocal readers
        async with sql_storage.unit_of_work() as uow:
            seen = await uow.entries.get(account.account_id, entry.entry_id)
        assert seen is not None
        readers += 1
        if readers == 2:
            both_read.set()
        await both_read.wait()
        async with sql_storage.unit_of_work(write=True) as uow:
            new = msgspec.structs.replace(seen, content=f"writer {n}", version=seen.version + 1)
            results[n] = await uow.entries.update(new, expected_version=seen.version)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer, 1)
            tg.start_soon(writer, 2)
    assert sorted(results.values()) == [False, True]
    winner = next(n for n, won in results.items() if won)
    async with sql_storage.unit_of_work() as uow:
        stored = await uow.entries.get(account.account_id, entry.entry_id)
    assert stored is not None
    assert (stored.content, stored.version) == (f"writer {winner}", 2)


@pytest.mark.postgres
async def test_on_postgres_a_conditional_update_waits_for_the_open_rival_and_then_misses(
    postgres_url: str,
) -> None:
    """Two write transactions open at once; the second UPDATE blocks on the row lock."""
    from trace_sql import create_storage

    storage = create_storage(postgres_url)
    try:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        both_open = anyio.Event()
        opened = 0
        results: dict[int, bool] = {}

        async def writer(n: int) -> None:
            nonlocal opened
            async with storage.unit_of_work(write=True) as uow:
                current = await uow.entries.get(account.account_id, entry.entry_id)
                assert current is not None
                opened += 1
                if opened == 2:
                    both_open.set()
                await both_open.wait()
                new = msgspec.structs.replace(current, content=f"w{n}", version=2)
                results[n] = await uow.entries.update(new, expected_version=1)

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(writer, 1)
                tg.start_soon(writer, 2)
        assert sorted(results.values()) == [False, True]
    finally:
        await storage.close()


async def test_on_sqlite_a_write_unit_of_work_holds_the_write_lock_from_its_start(
    sqlite_url: str,
) -> None:
    """BEGIN IMMEDIATE: a second writer waits at its start, so its read is never stale."""
    from trace_sql import create_storage

    storage = create_storage(sqlite_url)
    try:
        order: list[str] = []
        first_open = anyio.Event()
        release_first = anyio.Event()

        async def first() -> None:
            async with storage.unit_of_work(write=True) as uow:
                order.append("first began")
                await uow.accounts.list()
                first_open.set()
                await release_first.wait()
                order.append("first committing")

        async def second() -> None:
            await first_open.wait()
            async with storage.unit_of_work(write=True) as uow:
                order.append("second began")
                await uow.accounts.list()

        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(first)
                tg.start_soon(second)
                await first_open.wait()
                # The second writer is now waiting for the lock (in the driver's
                # thread); every task is blocked, so it has had its chance to begin.
                await anyio.wait_all_tasks_blocked()
                assert order == ["first began"]
                release_first.set()
        assert order == ["first began", "first committing", "second began"]
    finally:
        await storage.close()
