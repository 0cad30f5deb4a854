"""What only the SQL adapters do: schema and migrations, types, drivers, errors."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from trace_core.errors import ConflictError, InvalidInputError, UnavailableError
from trace_core.model import EntryFilter
from trace_core.testing.contracts.storage_support import (
    T0,
    add_account,
    add_entries,
    add_stream,
    make_account,
    make_entry,
)
from trace_sql import (
    SqlStorage,
    create_storage,
    migrate,
    migrate_async,
    normalize_url,
    open_storage,
)
from trace_sql import sqlite_url as sqlite_file_url
from trace_sql.migrate import current_revisions, head_revisions
from trace_sql.tables import entries, metadata

pytestmark = pytest.mark.anyio

CORE_TABLES = {"accounts", "streams", "entries", "entry_tags", "entry_versions", "attachments"}


async def test_a_migrated_database_is_at_every_head_and_migrating_again_changes_nothing(
    sql_url: str,
) -> None:
    assert await current_revisions(sql_url) == head_revisions()
    await migrate_async(sql_url)
    assert await current_revisions(sql_url) == head_revisions()


async def test_the_core_migration_builds_exactly_the_core_tables(
    sql_storage: SqlStorage,
) -> None:
    def diff(connection: sa.Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            d
            for d in compare_metadata(context, metadata)
            if _table_of(d) in CORE_TABLES
            # Expression indexes (DESC, partial) are not compared reliably, and
            # other modules' migrations may add columns (e.g. a search vector)
            # that live only in the database: what the tables declare must exist.
            and not (isinstance(d, tuple) and d[0] in ("add_index", "remove_index"))
            and not (isinstance(d, tuple) and d[0] == "remove_column")
        ]

    async with sql_storage.engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


def _table_of(change: object) -> str | None:
    item = change[0] if isinstance(change, list) else change
    assert isinstance(item, tuple)
    for part in item[1:]:
        if isinstance(part, sa.Table):
            return part.name
        if isinstance(part, str) and part in CORE_TABLES:
            return part
        table = getattr(part, "table", None)
        if isinstance(table, sa.Table):
            return table.name
    return None


async def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(
    sqlite_url: str,
) -> None:
    storage = create_storage(sqlite_url)
    try:
        async with storage.engine.connect() as conn:
            pragmas = {
                name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout")
            }
    finally:
        await storage.close()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["foreign_keys"] == 1
    assert pragmas["busy_timeout"] >= 5000


async def test_timestamps_come_back_as_utc_to_the_microsecond_whatever_zone_they_were_written_in(
    sql_storage: SqlStorage,
) -> None:
    account = await add_account(sql_storage)
    written = datetime(2026, 7, 1, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=14)))
    entry = make_entry(account.account_id, created_at=written, deleted_at=written)
    await add_entries(sql_storage, entry)
    async with sql_storage.unit_of_work() as uow:
        got = await uow.entries.get(account.account_id, entry.entry_id, include_deleted=True)
    assert got is not None
    assert got.created_at == written
    assert got.created_at.tzinfo is UTC
    assert got.created_at == datetime(2026, 7, 1, 9, 59, 59, 999999, tzinfo=UTC)
    assert got.deleted_at == written


async def test_time_filters_compare_instants_not_wall_clock_text(
    sql_storage: SqlStorage,
) -> None:
    account = await add_account(sql_storage)
    entry = make_entry(account.account_id, created_at=T0)
    await add_entries(sql_storage, entry)
    just_before_elsewhere = (T0 - timedelta(microseconds=1)).astimezone(
        timezone(timedelta(hours=-5))
    )
    async with sql_storage.unit_of_work() as uow:
        found = await uow.entries.count(
            account.account_id, EntryFilter(created_after=just_before_elsewhere)
        )
        missed = await uow.entries.count(
            account.account_id,
            EntryFilter(created_after=just_before_elsewhere + timedelta(microseconds=2)),
        )
    assert (found, missed) == (1, 0)


async def test_a_naive_datetime_is_refused(sql_storage: SqlStorage) -> None:
    account = await add_account(sql_storage)
    entry = make_entry(account.account_id, created_at=datetime(2026, 1, 1, 12, 0))
    with pytest.raises(sa.exc.StatementError, match="naive datetime"):
        await add_entries(sql_storage, entry)


async def test_an_entry_cannot_point_at_another_accounts_stream_even_below_the_facade(
    sql_storage: SqlStorage,
) -> None:
    alice = await add_account(sql_storage)
    bob = await add_account(sql_storage)
    bobs_stream = await add_stream(sql_storage, bob.account_id)
    with pytest.raises(ConflictError):
        await add_entries(
            sql_storage, make_entry(alice.account_id, stream_id=bobs_stream.stream_id)
        )
    mine = make_entry(alice.account_id)
    await add_entries(sql_storage, mine)
    moved = msgspec.structs.replace(mine, stream_id=bobs_stream.stream_id, version=2)
    with pytest.raises(ConflictError):
        async with sql_storage.unit_of_work(write=True) as uow:
            await uow.entries.update(moved, expected_version=1)


async def test_the_tag_mirror_holds_one_row_per_distinct_tag_of_live_entries(
    sql_storage: SqlStorage,
) -> None:
    account = await add_account(sql_storage)
    live = make_entry(account.account_id, tags=("a", "b", "a"))
    gone = make_entry(account.account_id, tags=("a",), deleted_at=T0)
    await add_entries(sql_storage, live, gone)
    async with sql_storage.connect(all_accounts=True) as conn:
        rows = (await conn.execute(sa.text("SELECT entry_id, tag FROM entry_tags"))).all()
    assert sorted(tag for _, tag in rows) == ["a", "b"]
    async with sql_storage.unit_of_work() as uow:
        assert [(t.tag, t.count) for t in await uow.entries.list_tags(account.account_id)] == [
            ("a", 1),
            ("b", 1),
        ]


async def test_the_list_query_uses_the_list_index_on_sqlite(sqlite_url: str) -> None:
    storage = create_storage(sqlite_url)
    try:
        account = await add_account(storage)
        query = (
            sa.select(entries.c.entry_id)
            .where(entries.c.account_id == account.account_id, entries.c.deleted_at.is_(None))
            .order_by(
                entries.c.entry_date.desc(), entries.c.created_at.desc(), entries.c.entry_id.desc()
            )
            .limit(50)
        )
        async with storage.engine.connect() as conn:
            compiled = query.compile(conn.sync_engine)
            # SQLite stores UUIDs as 32 hex digits.
            params = (account.account_id.hex, 50, 0)
            plan = (await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)).all()
    finally:
        await storage.close()
    details = " ".join(str(row[-1]) for row in plan)
    assert "ix_entries_list" in details
    assert "TEMP B-TREE" not in details


@pytest.mark.parametrize(
    ("given", "driver"),
    [
        ("sqlite:///data/trace.db", "sqlite+aiosqlite"),
        ("sqlite+aiosqlite:///data/trace.db", "sqlite+aiosqlite"),
        ("postgresql://u@h/db", "postgresql+asyncpg"),
        ("postgres://u@h/db", "postgresql+asyncpg"),
        ("postgresql+psycopg://u@h/db", "postgresql+asyncpg"),
    ],
)
def test_database_urls_get_the_async_driver(given: str, driver: str) -> None:
    assert normalize_url(given).drivername == driver


@pytest.mark.parametrize("bad", ["mysql://u@h/db", "not a url"])
def test_an_unsupported_database_url_is_invalid_input_naming_the_setting(bad: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        normalize_url(bad)
    assert info.value.field == "database_url"


@pytest.mark.postgres
async def test_a_bulk_import_on_postgres_leaves_fresh_planner_statistics(
    postgres_url: str,
) -> None:
    storage = create_storage(postgres_url)
    try:
        account = await add_account(storage)
        async with storage.unit_of_work(write=True) as uow:
            await uow.entries.add_many(
                [make_entry(account.account_id, tags=("t",)) for _ in range(1000)]
            )
        async with storage.engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.text("SELECT reltuples FROM pg_class WHERE relname = 'entries'")
                )
            ).scalar_one()
    finally:
        await storage.close()
    assert rows == 1000


async def test_a_value_the_database_cannot_hold_is_invalid_input_not_a_crash(
    sql_storage: SqlStorage,
) -> None:
    account = await add_account(sql_storage)
    entry = make_entry(account.account_id, "before\x00after", tags=("nul\x00tag",))
    if sql_storage.dialect_name == "sqlite":
        await add_entries(sql_storage, entry)  # SQLite stores NUL characters as they are
        async with sql_storage.unit_of_work() as uow:
            assert await uow.entries.get(account.account_id, entry.entry_id) == entry
        return
    with pytest.raises(InvalidInputError):
        await add_entries(sql_storage, entry)


def test_migrate_upgrades_a_new_sqlite_file_from_synchronous_code(tmp_path: Path) -> None:
    url = sqlite_file_url(tmp_path / "new" / "trace.db")
    migrate(url)
    migrate(url)
    assert asyncio.run(current_revisions(url)) == head_revisions()


async def test_open_storage_migrates_before_it_returns(tmp_path: Path) -> None:
    storage = await open_storage(sqlite_file_url(tmp_path / "trace.db"))
    try:
        account = await add_account(storage)
        async with storage.unit_of_work() as uow:
            assert await uow.accounts.get(account.account_id) == account
    finally:
        await storage.close()


async def test_an_unreachable_database_is_unavailable_not_a_driver_error() -> None:
    storage = create_storage("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere")
    try:
        with pytest.raises(UnavailableError):
            async with storage.unit_of_work() as uow:
                await uow.accounts.list()
    finally:
        await storage.close()


async def test_an_os_error_raised_inside_a_unit_of_work_passes_through_unchanged(
    sql_storage: SqlStorage,
) -> None:
    account = make_account()

    async def add_then_fail_to_write_a_file() -> None:
        async with sql_storage.unit_of_work(write=True) as uow:
            await uow.accounts.add(account)
            raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left") as info:
        await add_then_fail_to_write_a_file()
    assert type(info.value) is OSError
    assert info.value.errno == 28
    async with sql_storage.unit_of_work() as uow:
        assert await uow.accounts.get(account.account_id) is None
