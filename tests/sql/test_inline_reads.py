"""Read-only units of work on a SQLite file run on the event loop's thread (no aiosqlite hop).

Writes stay on aiosqlite (a writer may wait for SQLite's lock; that must never
block the loop). These tests pin down what the inline reader must keep: reads
never touch the async engine, see committed data only (WAL snapshot), never wait
for an open write transaction, and many suspended readers never exhaust the pool.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import anyio
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from trace_core.model import Account, EntryDraft, EntryFilter, EntryPatch, Principal, Scope
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore
from trace_sql import SqlStorage, create_storage

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sqlite_storage(sqlite_url: str, anyio_backend: Any) -> AsyncIterator[SqlStorage]:
    storage = create_storage(sqlite_url)
    try:
        yield storage
    finally:
        await storage.close()


def _count_statements(engine: sa.Engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    return seen


async def _alice(trace: Trace) -> Principal:
    account = await trace.create_account("alice@example.com")
    return Principal(account_id=account.account_id, scopes=frozenset({Scope.FULL}), actor="t")


async def test_reads_do_not_use_the_async_engine(sqlite_storage: SqlStorage) -> None:
    trace = Trace(storage=sqlite_storage, blobs=InMemoryBlobStore(), clock=FixedClock())
    alice = await _alice(trace)
    entry = await trace.create_entry(alice, EntryDraft(title="t", content="hello"))
    on_async = _count_statements(sqlite_storage.engine.sync_engine)
    detail = await trace.get_entry(alice, entry.entry_id)
    page = await trace.list_entries(alice)
    assert detail.entry.content == "hello"
    assert [e.entry_id for e in page.items] == [entry.entry_id]
    assert on_async == []
    # Writes still go through aiosqlite.
    await trace.update_entry(alice, entry.entry_id, EntryPatch(content="again"), expected_version=1)
    assert any("UPDATE entries" in s for s in on_async)


async def test_a_read_never_waits_for_an_open_write_transaction(
    sqlite_storage: SqlStorage,
) -> None:
    trace = Trace(storage=sqlite_storage, blobs=InMemoryBlobStore(), clock=FixedClock())
    alice = await _alice(trace)
    entry = await trace.create_entry(alice, EntryDraft(title="committed", content="one"))
    writing = anyio.Event()
    release = anyio.Event()
    bob = Account(account_id=uuid4(), email="bob@example.com", created_at=FixedClock().now())

    async def writer() -> None:
        # Holds SQLite's write lock (BEGIN IMMEDIATE) with an uncommitted account.
        async with sqlite_storage.unit_of_work(write=True) as uow:
            await uow.accounts.add(bob)
            writing.set()
            await release.wait()

    # A reader that waited for the lock would block the loop, the writer could never
    # finish, and this guard could not fire: the test would hang instead of passing.
    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            tg.start_soon(writer)
            await writing.wait()
            seen = await trace.get_entry(alice, entry.entry_id)
            async with sqlite_storage.unit_of_work() as uow:
                during = await uow.accounts.get_by_email("bob@example.com")
            release.set()
    async with sqlite_storage.unit_of_work() as uow:
        after = await uow.accounts.get_by_email("bob@example.com")
    assert seen.entry.title == "committed"
    assert during is None  # the reader's snapshot excludes uncommitted rows
    assert after is not None


async def test_many_suspended_readers_do_not_exhaust_the_pool(sqlite_storage: SqlStorage) -> None:
    trace = Trace(storage=sqlite_storage, blobs=InMemoryBlobStore(), clock=FixedClock())
    alice = await _alice(trace)
    await trace.create_entry(alice, EntryDraft(title="t", content="x"))
    go = anyio.Event()
    all_inside = anyio.Event()
    inside = 0

    async def reader() -> None:
        nonlocal inside
        async with sqlite_storage.unit_of_work() as uow:
            inside += 1
            if inside == 40:
                all_inside.set()
            await go.wait()  # suspended while holding its read connection
            assert await uow.accounts.get(alice.account_id) is not None

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for _ in range(40):
                tg.start_soon(reader)
            await all_inside.wait()
            go.set()
    assert inside == 40


async def test_point_reads_stay_on_the_loop_and_a_tag_listing_runs_in_a_thread(
    sqlite_storage: SqlStorage,
) -> None:
    # A listing by tag probes every entry of the account (~60-90 ms at 100k for a
    # common tag): it must not hold the event loop. Point reads must not pay a hop.
    trace = Trace(storage=sqlite_storage, blobs=InMemoryBlobStore(), clock=FixedClock())
    alice = await _alice(trace)
    tagged = await trace.create_entry(alice, EntryDraft(title="t", content="x", tags=["work"]))
    await trace.create_entry(alice, EntryDraft(title="u", content="y"))
    reader = sqlite_storage.reader
    assert reader is not None
    threads: dict[str, set[int]] = {}

    @event.listens_for(reader, "before_cursor_execute")
    def _record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        # The listing joins entries with entry_tags; the look-up of the account's
        # spelling of a tag (entry_tags alone, by its indexed key) is a point read.
        listing = "entry_tags" in statement and "FROM entries" in statement
        kind = "tags" if listing else "point"
        threads.setdefault(kind, set()).add(threading.get_ident())

    loop_thread = threading.get_ident()
    await trace.get_entry(alice, tagged.entry_id)
    page = await trace.list_entries(alice, EntryFilter(tags=("work",)), limit=1)

    assert [e.entry_id for e in page.items] == [tagged.entry_id]
    assert threads["point"] == {loop_thread}
    assert threads["tags"]
    assert loop_thread not in threads["tags"]
