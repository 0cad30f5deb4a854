"""Behaviour particular to the SQL search adapters: windows, prefixes, triggers, language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest
import sqlalchemy as sa
from alembic import command

from trace_core.errors import InvalidInputError
from trace_core.model import Account, EntryFilter
from trace_core.ports import SearchRequest
from trace_core.search import HIGHLIGHT_START, parse_query
from trace_core.testing.contracts.search import T0, SearchBackend, make_entry
from trace_sql import create_storage
from trace_sql.engine import create_engine, sqlite_url
from trace_sql.migrate import alembic_config, migrate_async
from trace_sql.search import (
    FTS_SHARDS,
    PostgresSearchIndex,
    SqliteSearchIndex,
    account_match,
    fts5_match,
    fts_table,
)
from trace_sql.storage import SqlStorage, open_storage

pytestmark = pytest.mark.anyio


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(sqlite_url(tmp_path / "sql-specific.db"))
    try:
        yield storage
    finally:
        await storage.close()


def _words(text: str) -> str:
    """The FTS5 MATCH text the adapter sends for ``text`` (in the text columns)."""
    return fts5_match(parse_query(text + " "))


async def _doc_id(storage: SqlStorage, entry_id) -> int | None:
    async with storage.connect() as conn:
        return (
            await conn.execute(
                sa.text("SELECT doc_id FROM entry_search_docs WHERE entry_id = :id"),
                {"id": entry_id.hex},
            )
        ).scalar_one_or_none()


async def test_bm25_ranks_only_the_newest_matches_beyond_the_window(storage: SqlStorage) -> None:
    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage, rank_window=3))
    me = await b.account()
    # The oldest entry has the word in its title, but four newer ones match too.
    oldest = make_entry(me, "notes", title="Heron", created_at=T0)
    newer = [
        make_entry(me, f"a heron at the pond {i}", created_at=T0 + timedelta(hours=i + 1))
        for i in range(4)
    ]
    await b.add(oldest, *newer)

    found = await b.ids(me, "heron ", limit=3)

    assert set(found) == {e.entry_id for e in newer[-3:]}
    # Asking for more than the window widens it: every match is ranked again.
    assert (await b.ids(me, "heron ", limit=10))[0] == oldest.entry_id


async def test_a_common_last_word_is_not_expanded_as_a_prefix(storage: SqlStorage) -> None:
    strict = SearchBackend(storage=storage, index=SqliteSearchIndex(storage, prefix_limit=2))
    me = await strict.account()
    plans = [make_entry(me, "the plan"), make_entry(me, "another plan")]
    planet = make_entry(me, "a planet")
    await strict.add(*plans, planet)

    assert set(await strict.ids(me, "plan")) == {e.entry_id for e in plans}
    # Still being typed (rare as a whole word): it is a prefix.
    assert await strict.ids(me, "plane") == [planet.entry_id]
    lenient = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    assert planet.entry_id in await lenient.ids(me, "plan")


async def test_pinning_keeps_the_index_row_and_an_edit_replaces_it(storage: SqlStorage) -> None:
    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await b.account()
    # A second, newer row: a re-indexed entry then gets a new, higher doc id.
    entry, _ = await b.add(make_entry(me, "kestrel"), make_entry(me, "other"))
    before = await _doc_id(storage, entry.entry_id)

    pinned = await b.update(entry, is_pinned=True)
    assert await _doc_id(storage, entry.entry_id) == before

    await b.update(pinned, content="kestrel and merlin")
    assert await _doc_id(storage, entry.entry_id) != before
    assert await b.ids(me, "merlin") == [entry.entry_id]


async def test_moving_an_entry_moves_it_between_stream_filters(storage: SqlStorage) -> None:
    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await b.account()
    home, work = await b.stream(me, "Home"), await b.stream(me, "Work")
    [entry] = await b.add(make_entry(me, "osprey", stream=home))

    await b.update(entry, stream_id=work.stream_id)

    assert await b.ids(me, "osprey", filters=EntryFilter(stream=home.stream_id)) == []
    assert await b.ids(me, "osprey", filters=EntryFilter(stream=work.stream_id)) == [entry.entry_id]
    assert await b.ids(me, "osprey", filters=EntryFilter(stream="inbox")) == []


async def test_rebuild_restores_a_lost_index(storage: SqlStorage) -> None:
    index = SqliteSearchIndex(storage)
    b = SearchBackend(storage=storage, index=index)
    me = await b.account()
    [entry] = await b.add(make_entry(me, "plover"))
    async with storage.connect(write=True) as conn:
        await conn.execute(sa.text(f"DELETE FROM {fts_table(me.account_id.hex)}"))
        await conn.execute(sa.text("DELETE FROM entry_search_docs"))
    assert await b.ids(me, "plover") == []

    assert await index.rebuild(storage) == 1
    assert await b.ids(me, "plover") == [entry.entry_id]


async def _fts_rowids(storage: SqlStorage, account: Account, match: str) -> set[int]:
    """Rows of ``account``'s FTS5 table matching ``match``."""
    fts = fts_table(account.account_id.hex)
    async with storage.connect() as conn:
        rows = await conn.execute(
            sa.text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :m"), {"m": match}
        )
        return {row[0] for row in rows}


async def _account_in_table(storage: SqlStorage, digit: str) -> Account:
    """A new account whose id ends in ``digit``: it goes to FTS5 table ``entry_fts_<digit>``."""
    account_id = UUID(uuid4().hex[:-1] + digit)
    account = Account(account_id=account_id, email=f"{account_id.hex}@example.test", created_at=T0)
    async with storage.unit_of_work(write=True) as uow:
        await uow.accounts.add(account)
    return account


async def _retoken(storage: SqlStorage, owner: Account, doc: int, token_of: Account) -> None:
    """Tamper with an index row: give it ``token_of``'s account token."""
    async with storage.connect(write=True) as conn:
        await conn.execute(
            sa.text(
                f"UPDATE {fts_table(owner.account_id.hex)} SET account = :token WHERE rowid = :doc"
            ),
            {"token": f"a{token_of.account_id.hex}0", "doc": doc},
        )


async def test_fts5_itself_keeps_to_the_account(storage: SqlStorage) -> None:
    index = SqliteSearchIndex(storage)
    b = SearchBackend(storage=storage, index=index)
    # Two accounts in the same FTS5 table: the engine must tell them apart.
    me, other = await _account_in_table(storage, "7"), await _account_in_table(storage, "7")
    [mine] = await b.add(make_entry(me, "a wren in the hedge"))
    [theirs] = await b.add(make_entry(other, "a wren on the roof"))
    await b.update(mine, content="a wren in the garden hedge")  # re-indexed by the trigger
    mine_doc, theirs_doc = (
        await _doc_id(storage, mine.entry_id),
        await _doc_id(storage, theirs.entry_id),
    )

    # The account token the triggers index is what the engine matches on.
    mine_match = account_match(me.account_id.hex, _words("wren"))
    theirs_match = account_match(other.account_id.hex, _words("wren"))
    assert await _fts_rowids(storage, me, mine_match) == {mine_doc}
    assert await _fts_rowids(storage, other, theirs_match) == {theirs_doc}
    # The words are matched in the text columns only, never in the token.
    token_as_word = account_match(me.account_id.hex, _words(f"a{me.account_id.hex}0"))
    assert await _fts_rowids(storage, me, token_as_word) == set()

    # The search relies on the engine's restriction: an entry whose index row
    # carries another account's token is not found, though its docs row is ours.
    await _retoken(storage, me, mine_doc, other)
    assert await b.ids(me, "wren") == []
    assert await b.index.count(me.account_id, _request("wren")) == 0
    # ... and the docs row still guards isolation: the other account does not get it either.
    assert await b.ids(other, "wren") == [theirs.entry_id]

    assert await index.rebuild(storage) == 2
    assert await b.ids(me, "wren") == [mine.entry_id]
    assert await b.ids(other, "wren") == [theirs.entry_id]


async def test_an_account_alone_in_its_table_is_searched_without_its_token(
    storage: SqlStorage,
) -> None:
    # Alone in its table, the account's token would only cost bm25 a walk over the
    # account's whole posting list: the search leaves it out (the docs table's
    # account check still applies). Once another account shares the table, the
    # token is back (a new index: the answer is remembered for a minute).
    me, stranger = await _account_in_table(storage, "c"), await _account_in_table(storage, "d")
    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    [mine] = await b.add(make_entry(me, "a wren in the hedge"))
    await _retoken(storage, me, await _doc_id(storage, mine.entry_id), stranger)

    assert await b.ids(me, "wren") == [mine.entry_id]  # found: no token was matched
    assert await b.ids(stranger, "wren") == []

    await _account_in_table(storage, "c")
    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    assert await b.ids(me, "wren") == []  # the token is matched again


def _request(query: str) -> SearchRequest:
    return SearchRequest(query=query, filters=EntryFilter(), limit=20, offset=0)


async def test_whether_a_last_word_is_complete_depends_on_the_own_account_only(
    storage: SqlStorage,
) -> None:
    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage, prefix_limit=2))
    me, other = await b.account(), await b.account()
    # "plan" is a common whole word in the other account, not in mine.
    await b.add(make_entry(other, "the plan"), make_entry(other, "another plan"))
    [planet] = await b.add(make_entry(me, "a planet"))

    # Still a prefix for me: another account's words do not change what I find.
    assert await b.ids(me, "plan") == [planet.entry_id]
    assert await b.index.count(me.account_id, _request("plan")) == 1


def _upgrade_to(connection: sa.Connection, revision: str) -> None:
    """Upgrade to an old search revision, with the accounts table as this code writes it.

    The entries table and ``search_words`` get what this code writes too
    (``0500_search_fields``); :func:`_migrate_old` takes them away before migrating.
    """
    command.upgrade(alembic_config(connection), revision)
    command.upgrade(alembic_config(connection), "0200_account_time_zone")
    connection.exec_driver_sql(
        "ALTER TABLE entries ADD COLUMN search_extra TEXT NOT NULL DEFAULT ''"
    )
    connection.exec_driver_sql(
        "CREATE TABLE search_words (account_id CHAR(32), word TEXT, "
        "PRIMARY KEY (account_id, word)) WITHOUT ROWID"
    )


async def _migrate_old(url: str) -> None:
    """Drop what :func:`_upgrade_to` added for this code, then migrate to the heads."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.exec_driver_sql("DROP TABLE search_words")
            await conn.exec_driver_sql("ALTER TABLE entries DROP COLUMN search_extra")
    finally:
        await engine.dispose()
    await migrate_async(url)


async def test_upgrading_a_search_index_without_accounts_indexes_every_entry_by_account(
    tmp_path: Path,
) -> None:
    url = sqlite_url(tmp_path / "old-search.db")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0100_search")
    finally:
        await engine.dispose()
    storage = create_storage(url)
    try:
        b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
        me, other = await b.account(), await b.account()
        [mine] = await b.add(make_entry(me, "a curlew at dusk"))
        [theirs] = await b.add(make_entry(other, "curlew calls"))
    finally:
        await storage.close()

    await _migrate_old(url)

    storage = await open_storage(url)
    try:
        b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
        assert await b.ids(me, "curlew") == [mine.entry_id]
        assert await b.ids(other, "curlew") == [theirs.entry_id]
        # The triggers write the token for new entries too.
        [later] = await b.add(make_entry(me, "two curlews"))
        assert set(await b.ids(me, "curlew")) == {mine.entry_id, later.entry_id}
        curlew = account_match(me.account_id.hex, _words("curlew"))
        assert await _fts_rowids(storage, me, curlew) == {
            await _doc_id(storage, mine.entry_id),
            await _doc_id(storage, later.entry_id),
        }
    finally:
        await storage.close()


async def _account_in(b: SearchBackend, digit: str) -> Account:
    """A new account whose id ends in ``digit``: indexed in ``entry_fts_<digit>``."""
    account_id = UUID(hex=uuid4().hex[:-1] + digit)
    account = Account(account_id=account_id, email=f"{account_id.hex}@example.test", created_at=T0)
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.accounts.add(account)
    return account


async def _rows_per_table(storage: SqlStorage) -> dict[str, int]:
    """How many index rows each FTS5 table holds (empty tables left out)."""
    counts: dict[str, int] = {}
    async with storage.connect() as conn:
        for digit in FTS_SHARDS:
            sql = f"SELECT count(*) FROM entry_fts_{digit}"
            if count := (await conn.execute(sa.text(sql))).scalar_one():
                counts[digit] = count
    return counts


async def test_an_account_is_indexed_in_the_table_of_its_last_id_digit_only(
    storage: SqlStorage,
) -> None:
    index = SqliteSearchIndex(storage)
    b = SearchBackend(storage=storage, index=index)
    me, other = await _account_in(b, "3"), await _account_in(b, "c")
    mine = await b.add(make_entry(me, "a heron"), make_entry(me, "two herons"))
    [theirs] = await b.add(make_entry(other, "a heron too"))
    assert fts_table(me.account_id.hex) == "entry_fts_3"
    assert await _rows_per_table(storage) == {"3": 2, "c": 1}

    edited = await b.update(mine[0], content="a grey heron")  # re-indexed in its table
    assert await _rows_per_table(storage) == {"3": 2, "c": 1}
    await b.update(edited, deleted_at=T0)  # trashed: out of the index
    assert await _rows_per_table(storage) == {"3": 1, "c": 1}
    await b.purge(theirs)
    assert await _rows_per_table(storage) == {"3": 1}

    [again] = await b.add(make_entry(other, "a heron again"))
    assert await index.rebuild(storage) == 2
    assert await _rows_per_table(storage) == {"3": 1, "c": 1}
    assert await b.ids(me, "heron") == [mine[1].entry_id]
    assert await b.ids(other, "heron") == [again.entry_id]


async def test_bm25_counts_documents_in_the_accounts_own_table_only(storage: SqlStorage) -> None:
    b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
    me = await _account_in(b, "3")
    await b.add(
        make_entry(me, "a heron by the pond"),
        make_entry(me, "notes on the weather"),
        make_entry(me, "a shopping list"),
        make_entry(me, "call the plumber"),
    )
    [before] = await b.search(me, "heron")

    # Another account in another table writes the word everywhere: the IDF of
    # "heron" (and so my score) is computed without its documents.
    elsewhere = await _account_in(b, "c")
    await b.add(*(make_entry(elsewhere, f"heron number {i}") for i in range(10)))
    [after] = await b.search(me, "heron")
    assert after.score == before.score

    # The same documents in my table do count (one table for all would do this).
    neighbour = await _account_in(b, "3")
    await b.add(*(make_entry(neighbour, f"heron number {i}") for i in range(10)))
    [shared] = await b.search(me, "heron")
    assert shared.score != before.score
    assert await b.ids(neighbour, "pond") == []


async def test_sharding_an_index_and_back_keeps_every_entry_searchable(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "one-table.db")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0101_search_accounts")
    finally:
        await engine.dispose()
    storage = create_storage(url)
    try:
        b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
        me, other = await _account_in(b, "5"), await _account_in(b, "e")
        [mine] = await b.add(make_entry(me, "a dipper in the stream"))
        [theirs] = await b.add(make_entry(other, "dipper nest"))
    finally:
        await storage.close()

    await _migrate_old(url)

    storage = await open_storage(url)
    try:
        b = SearchBackend(storage=storage, index=SqliteSearchIndex(storage))
        assert await _rows_per_table(storage) == {"5": 1, "e": 1}
        assert await b.ids(me, "dipper") == [mine.entry_id]
        assert await b.ids(other, "dipper") == [theirs.entry_id]
        async with storage.connect() as conn:
            names = set((await conn.execute(sa.text("SELECT name FROM sqlite_master"))).scalars())
        assert "entry_fts" not in names
        assert {f"entries_search_insert_{d}" for d in FTS_SHARDS} <= names
        await b.add(make_entry(me, "dippers again"))  # indexed by the new triggers
    finally:
        await storage.close()

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(
                lambda c: command.downgrade(alembic_config(c), "0101_search_accounts")
            )
            names = set((await conn.execute(sa.text("SELECT name FROM sqlite_master"))).scalars())
            assert "entry_fts" in names
            sharded = {f"entry_fts_{d}" for d in FTS_SHARDS} | {
                f"entries_search_insert_{d}" for d in FTS_SHARDS
            }
            assert not names & sharded
            found = await conn.execute(
                sa.text("SELECT rowid FROM entry_fts WHERE entry_fts MATCH :m"),
                # The columns of 0101 (no stream, files, extra).
                {"m": f'{{account}} : "a{me.account_id.hex}0" AND {{title content}} : "dipper"'},
            )
            assert len(found.all()) == 2  # both of mine, not theirs
    finally:
        await engine.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.fixture
async def pg_storage(postgres_database_url: str) -> AsyncIterator[SqlStorage]:
    storage = await open_storage(postgres_database_url)
    try:
        yield storage
    finally:
        await storage.close()


@pytest.mark.postgres
async def test_ts_headline_snippets_mark_the_terms(pg_storage: SqlStorage) -> None:
    index = PostgresSearchIndex(pg_storage, snippets="ts_headline")
    b = SearchBackend(storage=pg_storage, index=index)
    me = await b.account()
    await b.add(make_entry(me, "The grebe nested by the reeds this spring."))

    [hit] = await b.search(me, "grebe")

    assert f"{HIGHLIGHT_START}grebe" in hit.snippet.lower()


@pytest.mark.postgres
async def test_an_unknown_text_search_language_is_refused_with_the_choices(
    pg_storage: SqlStorage,
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await PostgresSearchIndex(pg_storage, language="klingon").configure()
    assert caught.value.field == "search.language"
    assert "english" in (caught.value.allowed or [])
    with pytest.raises(InvalidInputError):
        PostgresSearchIndex(pg_storage, language="english'; DROP TABLE entries; --")


@pytest.mark.postgres
async def test_changing_the_language_reindexes_with_its_stemming(
    postgres_database_url: str,  # skips (or fails on CI) when PostgreSQL is unreachable
) -> None:
    import os
    import uuid

    import asyncpg

    postgres_url = os.environ.get(
        "TRACE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    name = f"trace_lang_{uuid.uuid4().hex[:8]}"
    admin_url = postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_url.rpartition("/")
    storage = await open_storage(f"{base}/{name}")
    try:
        english = SearchBackend(storage=storage, index=PostgresSearchIndex(storage))
        me = await english.account()
        [entry] = await english.add(make_entry(me, "The migration finished."))
        assert await english.ids(me, "migrating ") == [entry.entry_id]

        simple = PostgresSearchIndex(storage, language="simple")
        assert await simple.configure() is True
        assert await simple.configure() is False  # already in effect
        b = SearchBackend(storage=storage, index=simple)
        assert await b.ids(me, "migrating ") == []
        assert await b.ids(me, "migration ") == [entry.entry_id]
    finally:
        await storage.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
