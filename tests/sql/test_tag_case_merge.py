"""Migration 0210_tag_case_merge: spellings of one tag merge per account, no tag is lost."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from trace_core.model import Entry, EntryFilter
from trace_core.service import Trace
from trace_core.testing.contracts.storage_support import T0, make_account, make_entry
from trace_core.testing.memory import InMemoryBlobStore
from trace_sql import open_storage
from trace_sql import sqlite_url as sqlite_file_url
from trace_sql.engine import create_engine
from trace_sql.migrate import alembic_config, migrate_async, script_heads
from trace_sql.storage._rows import account_to_row, entry_to_row
from trace_sql.tables import accounts, entries

pytestmark = pytest.mark.anyio

MERGE = "0210_tag_case_merge"
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# entry_tags as it was before the migration: no tag_key.
OLD_ENTRY_TAGS = sa.table(
    "entry_tags",
    sa.column("entry_id", sa.Uuid()),
    sa.column("account_id", sa.Uuid()),
    sa.column("tag", sa.String()),
)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database on each SQL backend."""
    if request.param == "sqlite":
        yield sqlite_file_url(tmp_path / "old.db")
        return
    request.getfixturevalue("postgres_database")  # skips (or fails on CI) when unreachable
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    name = f"trace_tags_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def _upgrade_all_but_the_merge(connection: sa.Connection) -> None:
    """Upgrade to every revision that neither is the merge nor comes after it."""
    heads = script_heads()
    assert heads is not None
    config = alembic_config(connection)
    script = ScriptDirectory.from_config(config)
    after, todo = set(), [MERGE]
    while todo:  # the merge and every revision that follows it
        revision = script.get_revision(todo.pop())
        assert revision is not None
        after.add(revision.revision)
        todo.extend(revision.nextrev)
    targets = {
        r.revision
        for r in script.walk_revisions()
        if r.revision not in after and not (set(r.nextrev) - after)
    }
    for target in sorted(targets):
        command.upgrade(config, target)


async def test_spellings_merge_per_account_into_the_first_keeping_every_entrys_tags(
    blank_url: str,
) -> None:
    alice, bob = make_account("alice@example.org"), make_account("bob@example.org")
    a = alice.account_id

    def entry(tags: tuple[str, ...], minutes: int, **fields: object) -> Entry:
        return make_entry(a, tags=tags, created_at=T0 + timedelta(minutes=minutes), **fields)

    e1 = entry(("Work", "idea"), 0)
    e2 = entry(("work", "WORK"), 1)
    e3 = entry(("IDEA",), 2)
    trashed = entry(("WoRk", "Garden"), 3, deleted_at=T0 + timedelta(days=1))
    e5 = make_entry(bob.account_id, tags=("work",))
    live = [e1, e2, e3, e5]

    engine = create_engine(blank_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_all_but_the_merge)
            await conn.execute(sa.insert(accounts), [account_to_row(alice), account_to_row(bob)])
            # Without search_extra: a column of a later revision (0500_search_fields).
            rows = [entry_to_row(e) for e in (*live, trashed)]
            old_rows = [{k: v for k, v in row.items() if k != "search_extra"} for row in rows]
            await conn.execute(sa.insert(entries), old_rows)
            await conn.execute(
                sa.insert(OLD_ENTRY_TAGS),
                [
                    {"entry_id": e.entry_id, "account_id": e.account_id, "tag": t}
                    for e in live
                    for t in e.tags
                ],
            )
    finally:
        await engine.dispose()

    await migrate_async(blank_url)

    storage = await open_storage(blank_url)
    try:
        trace = Trace(storage=storage, blobs=InMemoryBlobStore())
        async with storage.unit_of_work() as uow:
            tags = {e.entry_id: e.tags for e in await uow.entries.list_all(a, include_deleted=True)}
            alice_tags = [(t.tag, t.count) for t in await uow.entries.list_tags(a)]
            bob_tags = [(t.tag, t.count) for t in await uow.entries.list_tags(bob.account_id)]
        principal = trace.principal_for(alice, actor="test")
        work = await trace.list_entries(principal, EntryFilter(tags=("WORK",)))
        async with storage.unit_of_work() as uow:
            keys = await uow.entries.tag_spellings(a, ["work", "idea", "garden"])
    finally:
        await storage.close()

    assert tags == {
        e1.entry_id: ("Work", "idea"),
        e2.entry_id: ("Work",),
        e3.entry_id: ("idea",),
        trashed.entry_id: ("Work", "Garden"),
    }
    assert alice_tags == [("Work", 2), ("idea", 2)]
    assert bob_tags == [("work", 1)]
    assert {e.entry_id for e in work.items} == {e1.entry_id, e2.entry_id}
    assert keys == {"work": "Work", "idea": "idea"}  # a trashed entry has no tag rows
