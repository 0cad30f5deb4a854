"""PostgreSQL row-level security: the second wall between tenants (trace_sql.rls).

The Postgres storage fixtures run as an application role that is not the
tables' owner and cannot bypass the policies (``postgres_app_role`` in
tests/conftest.py), so SQL written here without any account filter shows what
the database itself lets through.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from trace_core.model import Entry, EntryDraft, NewStream, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import FixedClock
from trace_meili import OutboxWorker
from trace_sql import FilesystemBlobStore, SqlStorage, create_storage
from trace_sql.engine import create_engine
from trace_sql.migrate import migrate_async
from trace_sql.rls import (
    NOT_TENANT_TABLES,
    SQLITE_ONLY_TABLES,
    TENANT_TABLES,
    AppRoleError,
    prepare_app_role,
)
from trace_sql.search_outbox import SqlSearchOutbox
from trace_sql.tables import metadata

pytestmark = pytest.mark.anyio

TABLES_OF_SCHEMA = sa.text(
    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
)


def _unlisted(names: Sequence[str]) -> list[str]:
    listed = set(TENANT_TABLES) | set(NOT_TENANT_TABLES) | set(SQLITE_ONLY_TABLES)
    return sorted(set(names) - listed)


# --- the catalog ------------------------------------------------------------------------


def test_the_catalog_lists_each_table_once() -> None:
    groups = [set(TENANT_TABLES), set(NOT_TENANT_TABLES), set(SQLITE_ONLY_TABLES)]
    for i, group in enumerate(groups):
        for other in groups[i + 1 :]:
            assert not group & other


def test_every_table_of_the_metadata_is_in_the_catalog() -> None:
    assert _unlisted(list(metadata.tables)) == []


async def test_every_table_a_migrated_sqlite_database_has_is_in_the_catalog(
    sqlite_url: str,
) -> None:
    engine = create_engine(sqlite_url)
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names())
    finally:
        await engine.dispose()
    # FTS5's own shadow tables (entry_fts_0_data, ...) belong to their virtual table.
    names = [n for n in names if not n.startswith("entry_fts_") or len(n) == len("entry_fts_0")]
    assert _unlisted(names) == [], "add the new table to trace_sql.rls's catalog"


@pytest.mark.postgres
async def test_every_postgres_table_is_listed_and_every_tenant_table_has_forced_policies(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.connect() as conn:
            names = (await conn.execute(TABLES_OF_SCHEMA)).scalars().all()
            assert _unlisted(names) == [], "add the new table to trace_sql.rls's catalog"
            with_account = set(
                (
                    await conn.execute(
                        sa.text(
                            "SELECT table_name FROM information_schema.columns "
                            "WHERE table_schema = current_schema() AND column_name = 'account_id'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            # A per-account table is a tenant table unless the catalog says why not.
            assert with_account - set(TENANT_TABLES) <= set(NOT_TENANT_TABLES)
            rows = (
                await conn.execute(
                    sa.text(
                        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                        "array(SELECT polname::text FROM pg_policy p WHERE p.polrelid = c.oid "
                        "ORDER BY polname) AS policies "
                        "FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
                        "AND c.relkind = 'r'"
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    state = {r.relname: (r.relrowsecurity, r.relforcerowsecurity, list(r.policies)) for r in rows}
    for table in TENANT_TABLES:
        assert state[table] == (True, True, ["trace_all_accounts", "trace_tenant"]), table
    for table in NOT_TENANT_TABLES:
        assert state[table][:2] == (False, False), table


# --- the wall, on the application role ------------------------------------------------------


@pytest.fixture
async def pg_storage(postgres_url: str, postgres_app_role: str) -> AsyncIterator[SqlStorage]:
    storage = create_storage(postgres_url, app_role=postgres_app_role)
    try:
        yield storage
    finally:
        await storage.close()


@pytest.fixture
async def pg_trace(pg_storage: SqlStorage, tmp_path: Any) -> Trace:
    await SqlSearchOutbox(pg_storage).enable()
    return Trace(
        storage=pg_storage, blobs=FilesystemBlobStore(tmp_path / "blobs"), clock=FixedClock()
    )


async def _person(trace: Trace, name: str) -> tuple[Principal, Entry]:
    """An account with a stream, an edited entry with a tag and an image."""
    account = await trace.create_account(f"{name}@example.org", name=name)
    who = trace.principal_for(account, actor=f"{name}-key", via="api_key")
    stream = await trace.create_stream(who, NewStream(name=f"{name}'s journal"))
    entry = await trace.create_entry(
        who, EntryDraft(content=f"{name} private note", tags=(name,), stream_id=stream.stream_id)
    )
    await trace.add_attachment(who, entry.entry_id, png_bytes(2, 2))
    return who, entry


async def _accounts_in(conn: Any, table: str) -> set[UUID]:
    rows = await conn.execute(sa.text(f"SELECT DISTINCT account_id FROM {table}"))
    return {UUID(str(r[0])) for r in rows}


@pytest.mark.postgres
async def test_sql_that_forgets_the_account_filter_sees_only_the_callers_rows(
    pg_trace: Trace, pg_storage: SqlStorage
) -> None:
    alice, _ = await _person(pg_trace, "alice")
    bob, _ = await _person(pg_trace, "bob")
    async with pg_storage.unit_of_work(account_id=alice.account_id) as uow:
        for table in TENANT_TABLES:
            assert await _accounts_in(uow.connection, table) == {alice.account_id}, table
    # The owner, with every account open, sees both: the rows are there.
    async with pg_storage.connect(all_accounts=True) as conn:
        for table in TENANT_TABLES:
            found = await _accounts_in(conn, table)
            assert found == {alice.account_id, bob.account_id}, table


@pytest.mark.postgres
async def test_a_unit_of_work_for_one_account_cannot_read_another_even_when_asked_by_id(
    pg_trace: Trace, pg_storage: SqlStorage
) -> None:
    alice, _ = await _person(pg_trace, "alice")
    bob, bobs = await _person(pg_trace, "bob")
    async with pg_storage.unit_of_work(account_id=alice.account_id) as uow:
        # The repository's own filter names bob: the policy still hides his rows.
        assert await uow.entries.get(bob.account_id, bobs.entry_id) is None
        assert await uow.entries.list_all(bob.account_id) == []
        assert await uow.attachments.list_all(bob.account_id) == []
    async with pg_storage.unit_of_work(account_id=bob.account_id) as uow:
        assert await uow.entries.get(bob.account_id, bobs.entry_id) is not None


@pytest.mark.postgres
async def test_writes_to_another_accounts_rows_are_refused(
    pg_trace: Trace, pg_storage: SqlStorage
) -> None:
    alice, _ = await _person(pg_trace, "alice")
    bob, bobs = await _person(pg_trace, "bob")
    async with pg_storage.connect(write=True, account_id=alice.account_id) as conn:
        changed = await conn.execute(
            sa.text("UPDATE entries SET content = 'overwritten' WHERE entry_id = :id"),
            {"id": bobs.entry_id},
        )
        assert changed.rowcount == 0
        deleted = await conn.execute(sa.text("DELETE FROM entry_versions"))
        assert deleted.rowcount > 0  # alice's own versions only
    # Moving alice's row into bob's account, or inserting a row for bob, is refused.
    for statement in (
        "UPDATE streams SET account_id = :bob",
        "INSERT INTO entry_tags (entry_id, tag, account_id) VALUES (gen_random_uuid(), 'x', :bob)",
    ):
        with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
            async with pg_storage.connect(write=True, account_id=alice.account_id) as conn:
                await conn.execute(sa.text(statement), {"bob": bob.account_id})
    bobs_now = await pg_trace.get_entry(bob, bobs.entry_id)
    assert bobs_now.entry.content == "bob private note"
    assert [v.version for v in await pg_trace.entry_history(bob, bobs.entry_id)] == [2, 1]


@pytest.mark.postgres
async def test_without_an_account_nothing_is_visible_or_writable(
    pg_trace: Trace, pg_storage: SqlStorage
) -> None:
    alice, _ = await _person(pg_trace, "alice")
    async with pg_storage.connect() as conn:
        for table in TENANT_TABLES:
            assert await _accounts_in(conn, table) == set(), table
        # The application role cannot open every account by itself: that policy is the owner's.
        await conn.execute(sa.text("SELECT set_config('trace.all_accounts', 'on', true)"))
        assert await _accounts_in(conn, "entries") == set()
    async with pg_storage.connect(write=True) as conn:
        updated = await conn.execute(sa.text("UPDATE entries SET content = 'gone'"))
        assert updated.rowcount == 0
    insert = sa.text(
        "INSERT INTO entry_tags (entry_id, tag, account_id) VALUES (gen_random_uuid(), 'x', :a)"
    )
    with pytest.raises(sa.exc.ProgrammingError, match="row-level security"):
        async with pg_storage.connect(write=True) as conn:
            await conn.execute(insert, {"a": alice.account_id})
    # The role the queries run as is the application role.
    async with pg_storage.connect() as conn:
        assert (await conn.execute(sa.text("SELECT current_user"))).scalar() == (
            pg_storage.app_role
        )


@pytest.mark.postgres
async def test_an_unbound_unit_of_work_sees_the_account_each_call_names(
    pg_trace: Trace, pg_storage: SqlStorage
) -> None:
    alice, alices = await _person(pg_trace, "alice")
    bob, bobs = await _person(pg_trace, "bob")
    async with pg_storage.unit_of_work() as uow:
        assert await uow.entries.get(alice.account_id, alices.entry_id) is not None
        assert await _accounts_in(uow.connection, "entries") == {alice.account_id}
        assert await uow.entries.get(bob.account_id, bobs.entry_id) is not None
        assert await _accounts_in(uow.connection, "entries") == {bob.account_id}


@pytest.mark.postgres
async def test_the_trash_purge_works_across_accounts_on_the_application_role(
    pg_trace: Trace, pg_storage: SqlStorage
) -> None:
    clock = pg_trace.clock
    assert isinstance(clock, FixedClock)
    alice, alices = await _person(pg_trace, "alice")
    bob, bobs = await _person(pg_trace, "bob")
    await pg_trace.delete_entry(alice, alices.entry_id)
    await pg_trace.delete_entry(bob, bobs.entry_id)
    clock.advance(days=31)
    assert await pg_trace.purge_expired_trash() == 2
    async with pg_storage.connect(all_accounts=True) as conn:
        for table in ("entries", "entry_versions", "entry_tags", "attachments"):
            assert await _accounts_in(conn, table) == set(), table


class RecordingIndex:
    """What the outbox worker sends to Meilisearch, kept in a dict."""

    def __init__(self) -> None:
        self.documents: dict[UUID, Entry] = {}

    async def index(self, entries: Sequence[Entry]) -> None:
        self.documents.update({e.entry_id: e for e in entries})

    async def remove(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        for entry_id in entry_ids:
            self.documents.pop(entry_id, None)


@pytest.mark.postgres
async def test_the_search_outbox_worker_serves_every_account_on_the_application_role(
    pg_trace: Trace, pg_storage: SqlStorage
) -> None:
    _, alices = await _person(pg_trace, "alice")
    bob, bobs = await _person(pg_trace, "bob")
    await pg_trace.delete_entry(bob, bobs.entry_id)
    outbox = SqlSearchOutbox(pg_storage)
    assert await outbox.pending() > 0
    index = RecordingIndex()
    worker = OutboxWorker(outbox, pg_storage, index, jitter=0)  # type: ignore[arg-type]
    assert await worker.drain() > 0
    assert set(index.documents) == {alices.entry_id}
    assert await outbox.pending() == 0


@pytest.mark.postgres
async def test_a_role_that_could_bypass_the_policies_is_refused_as_the_application_role(
    postgres_url: str,
) -> None:
    engine = create_engine(postgres_url)
    try:
        async with engine.begin() as conn:
            me = (await conn.execute(sa.text("SELECT current_user"))).scalar_one()
            with pytest.raises(AppRoleError, match=r"superuser|owner|BYPASSRLS"):
                await prepare_app_role(conn, me)
            with pytest.raises(AppRoleError, match="does not exist"):
                await prepare_app_role(conn, "no_such_role_for_trace")
    finally:
        await engine.dispose()


# --- an owner that is not a superuser: FORCE applies to it too ------------------------------


@pytest.fixture
async def owned_database(postgres_database: str) -> AsyncIterator[tuple[str, str]]:
    """A database migrated by a login role that owns it and is not a superuser.

    Yields (that role's URL, an application role's name).
    """
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", postgres_database))
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
    owner, app, name = f"trace_owner_{suffix}", f"trace_app_{suffix}", f"trace_owned_{suffix}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE ROLE "{owner}" LOGIN NOSUPERUSER NOBYPASSRLS'))
        await conn.execute(sa.text(f'CREATE ROLE "{app}" NOLOGIN'))
        await conn.execute(sa.text(f'GRANT "{app}" TO "{owner}"'))
        await conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    url = admin_url.set(username=owner, database=name).render_as_string(hide_password=False)
    try:
        yield url, app
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(sa.text(f'DROP ROLE IF EXISTS "{app}"'))
            await conn.execute(sa.text(f'DROP ROLE IF EXISTS "{owner}"'))
        await admin.dispose()


@pytest.mark.postgres
async def test_a_non_superuser_owner_migrates_and_runs_the_jobs_but_is_walled_in_like_the_app(
    owned_database: tuple[str, str], tmp_path: Any
) -> None:
    url, app = owned_database
    await migrate_async(url)
    storage = create_storage(url, app_role=app)
    await storage.migrate()  # as the owner: checks and grants the application role
    try:
        trace = Trace(
            storage=storage, blobs=FilesystemBlobStore(tmp_path / "blobs"), clock=FixedClock()
        )
        alice, alices = await _person(trace, "alice")
        bob, bobs = await _person(trace, "bob")
        owner = create_engine(url)
        try:
            async with owner.begin() as conn:
                # FORCE: the owner's own queries are walled in too ...
                assert await _accounts_in(conn, "entries") == set()
                await conn.execute(
                    sa.text("SELECT set_config('trace.account_id', :a, true)"),
                    {"a": str(bob.account_id)},
                )
                assert await _accounts_in(conn, "entries") == {bob.account_id}
            async with owner.begin() as conn:
                # ... unless it says it works on every account.
                await conn.execute(sa.text("SELECT set_config('trace.all_accounts', 'on', true)"))
                assert await _accounts_in(conn, "entries") == {
                    alice.account_id,
                    bob.account_id,
                }
        finally:
            await owner.dispose()
        await trace.delete_entry(alice, alices.entry_id)
        trace.clock.advance(days=31)  # type: ignore[attr-defined]
        assert await trace.purge_expired_trash() == 1
        assert (await trace.get_entry(bob, bobs.entry_id)).entry.content == "bob private note"
    finally:
        await storage.close()


async def _forced(url: str) -> dict[str, bool]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT relname, relrowsecurity AND relforcerowsecurity AS forced "
                    "FROM pg_class WHERE relname = ANY(:names) AND relkind = 'r'"
                ),
                {"names": list(TENANT_TABLES)},
            )
            return {r.relname: r.forced for r in rows}
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_the_migration_goes_down_and_up_again(owned_database: tuple[str, str]) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    from trace_sql.migrate import alembic_config

    url, _ = owned_database
    await migrate_async(url)
    assert await _forced(url) == dict.fromkeys(TENANT_TABLES, True)

    def down(connection: sa.Connection) -> None:
        # To one of the revisions it follows: 0400 is undone (and nothing it needs).
        config = alembic_config(connection)
        parents = ScriptDirectory.from_config(config).get_revision("0400_row_level_security")
        assert parents is not None
        assert isinstance(parents.down_revision, tuple)
        command.downgrade(config, parents.down_revision[0])

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(down)
    finally:
        await engine.dispose()
    # Tables created after 0400 (search_words, 0500_search_fields) are gone with their revision.
    before_0400 = [t for t in TENANT_TABLES if t != "search_words"]
    assert await _forced(url) == dict.fromkeys(before_0400, False)
    await migrate_async(url)
    assert await _forced(url) == dict.fromkeys(TENANT_TABLES, True)


@pytest.mark.postgres
async def test_replicas_starting_at_once_all_grant_the_application_role(
    postgres_url: str, postgres_app_role: str
) -> None:
    storages = [create_storage(postgres_url, app_role=postgres_app_role) for _ in range(6)]
    try:
        await asyncio.gather(*(s.migrate() for s in storages))
        async with storages[0].connect() as conn:
            assert (await conn.execute(sa.text("SELECT current_user"))).scalar() == (
                postgres_app_role
            )
    finally:
        for storage in storages:
            await storage.close()
