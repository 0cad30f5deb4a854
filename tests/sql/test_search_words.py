"""``entries.search_extra`` and ``search_words`` (migration 0500): written with every entry.

On SQLite and PostgreSQL (the latter under row-level security, as the
application role): the repository writes an entry's compounds and CJK grams
beside it and adds its words to its account's vocabulary; ``similar_words``
suggests the account's own words only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from trace_core.model import Account
from trace_core.search_text import search_extra, vocabulary
from trace_core.testing.contracts.search import SearchBackend, make_entry
from trace_sql import create_storage
from trace_sql.engine import create_engine, sqlite_url
from trace_sql.migrate import alembic_config, migrate_async
from trace_sql.search import PostgresSearchIndex, SqliteSearchIndex
from trace_sql.storage import SqlStorage
from trace_sql.storage._rows import entry_search_extra, entry_words, row_words
from trace_sql.tables import entries, search_words

pytestmark = pytest.mark.anyio


def _backend(storage: SqlStorage) -> SearchBackend:
    index = (
        PostgresSearchIndex(storage)
        if storage.dialect_name == "postgresql"
        else SqliteSearchIndex(storage)
    )
    return SearchBackend(storage=storage, index=index)


async def _words(storage: SqlStorage, account: Account | UUID) -> set[str]:
    account_id = account if isinstance(account, UUID) else account.account_id
    async with storage.connect(account_id=account_id) as conn:
        rows = await conn.execute(
            sa.select(search_words.c.word).where(search_words.c.account_id == account_id)
        )
        return set(rows.scalars())


async def _extra(storage: SqlStorage, account: Account | UUID, entry_id: UUID) -> str:
    account_id = account if isinstance(account, UUID) else account.account_id
    async with storage.connect(account_id=account_id) as conn:
        found = await conn.execute(
            sa.select(entries.c.search_extra).where(
                entries.c.account_id == account_id, entries.c.entry_id == entry_id
            )
        )
        return str(found.scalar_one())


async def test_an_entry_is_stored_with_its_compounds_and_cjk_grams(sql_storage: SqlStorage) -> None:
    b = _backend(sql_storage)
    me = await b.account()
    [entry] = await b.add(make_entry(me, "京都に行く", title="Wi-Fi setup", tags=("e-mail",)))
    assert await _extra(sql_storage, me, entry.entry_id) == search_extra(
        "Wi-Fi setup", "京都に行く", "e-mail"
    )
    assert "wifi" in (await _extra(sql_storage, me, entry.entry_id)).split()
    updated = await b.update(entry, title="plain title", content="COVID-19 notes", tags=())
    assert (await _extra(sql_storage, me, updated.entry_id)).split() == ["covid19"]


async def test_the_vocabulary_grows_with_adds_bulk_adds_and_updates(
    sql_storage: SqlStorage,
) -> None:
    b = _backend(sql_storage)
    me = await b.account()
    [first] = await b.add(make_entry(me, "the heron stood", title="Pond", tags=("birding",)))
    assert await _words(sql_storage, me) == vocabulary(["Pond", "the heron stood", "birding"])
    many = [make_entry(me, f"kingfisher number {i} Wi-Fi") for i in range(30)]
    async with sql_storage.unit_of_work(write=True) as uow:
        await uow.entries.add_many(many)
    await b.update(first, content="a bittern boomed")
    words = await _words(sql_storage, me)
    assert {"heron", "kingfisher", "number", "wifi", "bittern", "boomed", "birding"} <= words
    # Words stay (insert-only) until a rebuild recomputes them.
    assert "stood" in words


async def test_similar_words_suggest_near_words_of_the_account_only(
    sql_storage: SqlStorage,
) -> None:
    b = _backend(sql_storage)
    me, other = await b.account(), await b.account()
    await b.add(make_entry(me, "the kingfisher dived near the bridge"))
    await b.add(make_entry(other, "kingfishes and bridges and brigde and heroic"))
    found = await b.index.similar_words(
        me.account_id, ["kingfishr", "brdge", "bridge", "heroc", "xylophone", "ab", "橋"]
    )
    assert found["kingfishr"] == ("kingfisher",)
    assert found["brdge"] == ("bridge",)
    # The other account's "heroic" (and "kingfishes", "brigde") are never offered to me.
    assert found["heroc"] == ()
    assert found["xylophone"] == ()
    # Known words, short words and CJK are left out.
    assert set(found) == {"kingfishr", "brdge", "heroc", "xylophone"}
    theirs = await b.index.similar_words(other.account_id, ["heroc", "bridges", "bridge"])
    assert theirs == {"heroc": ("heroic",), "bridge": ("bridges", "brigde")}


async def test_similar_words_ranks_the_nearest_first(sql_storage: SqlStorage) -> None:
    b = _backend(sql_storage)
    me = await b.account()
    await b.add(make_entry(me, "database databases datebase databank"))
    found = await b.index.similar_words(me.account_id, ["databse"])
    assert found["databse"][0] == "database"
    assert set(found["databse"]) <= {"database", "databases", "datebase", "databank"}


async def test_bulk_import_adds_each_word_once_per_batch(sql_storage: SqlStorage) -> None:
    b = _backend(sql_storage)
    me, other = await b.account(), await b.account()
    batch = [make_entry(me, "repeat repeat words") for _ in range(5)]
    batch += [make_entry(other, "repeat elsewhere") for _ in range(5)]
    async with sql_storage.unit_of_work(write=True) as uow:
        await uow.entries.add_many(batch)
    assert await _words(sql_storage, me) == {"repeat", "words"}
    assert await _words(sql_storage, other) == {"repeat", "elsewhere"}


def _to(connection: sa.Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)


async def test_the_migration_backfills_extra_and_words_from_live_entries(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "before-0500.db")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to, "0400_row_level_security")
            me = "a" * 31 + "1"
            await conn.exec_driver_sql(
                "INSERT INTO accounts (account_id, email, email_normalized, name, plan, "
                "is_active, created_at, time_zone) VALUES "
                f"('{me}', 'me@x.test', 'me@x.test', 'Me', 'free', 1, "
                "'2026-01-01 00:00:00.000000', 'UTC')"
            )
            for i, (title, content, deleted) in enumerate(
                [("Wi-Fi", "東京タワー", None), ("Gone", "vanished words", "2026-01-02")]
            ):
                await conn.exec_driver_sql(
                    "INSERT INTO entries (entry_id, account_id, title, content, entry_date, "
                    "tags, priority, is_pinned, is_archived, mentions, created_at, updated_at, "
                    "version, deleted_at) VALUES (?, ?, ?, ?, '2026-01-01', '[\"e-mail\"]', 0, "
                    "0, 0, '[]', '2026-01-01 00:00:00.000000', '2026-01-01 00:00:00.000000', "
                    "1, ?)",
                    (f"{i:032x}", me, title, content, deleted),
                )
    finally:
        await engine.dispose()
    await migrate_async(url)
    storage = create_storage(url)
    try:
        account = UUID(me)
        assert (await _extra(storage, account, UUID(int=0))).split() == search_extra(
            "Wi-Fi", "東京タワー", "e-mail"
        ).split()
        words = await _words(storage, account)
        assert words == vocabulary(["Wi-Fi", "東京タワー", "e-mail"])
        assert "vanished" not in words  # trashed entries are not in the vocabulary
        assert "wifi" in words
    finally:
        await storage.close()


@pytest.fixture
async def owned_postgres(postgres_database: str) -> AsyncIterator[str]:
    """An empty database owned by a login role that is not a superuser (bound by FORCE RLS)."""
    admin_url = make_url(os.environ.get("TRACE_TEST_POSTGRES_URL", postgres_database))
    suffix = f"{os.getpid()}_{uuid.uuid4().hex[:8]}"
    owner, name = f"trace_words_owner_{suffix}", f"trace_words_{suffix}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(sa.text(f'CREATE ROLE "{owner}" LOGIN NOSUPERUSER NOBYPASSRLS'))
        await conn.execute(sa.text(f'CREATE DATABASE "{name}" OWNER "{owner}"'))
    try:
        yield admin_url.set(username=owner, database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            await conn.execute(sa.text(f'DROP ROLE IF EXISTS "{owner}"'))
        await admin.dispose()


@pytest.mark.postgres
async def test_the_postgres_migration_backfills_under_row_level_security(
    owned_postgres: str,
) -> None:
    engine = create_engine(owned_postgres)
    me, other = uuid.uuid4(), uuid.uuid4()
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_to, "0400_row_level_security")
            await conn.execute(sa.text("SELECT set_config('trace.all_accounts', 'on', true)"))
            for account in (me, other):
                await conn.execute(
                    sa.text(
                        "INSERT INTO accounts (account_id, email, email_normalized, name, plan, "
                        "is_active, created_at, time_zone) VALUES "
                        "(:id, :email, :email, 'x', 'free', true, now(), 'UTC')"
                    ),
                    {"id": account, "email": f"{account.hex}@x.test"},
                )
            for account, content in ((me, "Wi-Fi heron"), (other, "bittern")):
                await conn.execute(
                    sa.text(
                        "INSERT INTO entries (entry_id, account_id, content, entry_date, tags, "
                        "priority, is_pinned, is_archived, mentions, created_at, updated_at, "
                        "version) VALUES (:id, :account, :content, '2026-01-01', "
                        "'[\"e-mail\"]', 0, false, false, '[]', now(), now(), 1)"
                    ),
                    {"id": uuid.uuid4(), "account": account, "content": content},
                )
    finally:
        await engine.dispose()
    await migrate_async(owned_postgres)
    storage = create_storage(owned_postgres)
    try:
        assert await _words(storage, me) == vocabulary(["Wi-Fi heron", "e-mail"])
        assert await _words(storage, other) == vocabulary(["bittern", "e-mail"])
        async with storage.connect(account_id=me) as conn:
            extra = await conn.execute(sa.select(entries.c.search_extra))
            # Row-level security: only my entry is visible, with its joined compounds.
            assert [e.split() for e in extra.scalars()] == [["wifi", "email"]]
    finally:
        await storage.close()


_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 -._'/\u00e9\u0301京都に桜\u2019\n\t,!Ωß")), max_size=60
) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(title=st.none() | _TEXT, content=_TEXT, tags=st.lists(_TEXT, max_size=3))
def test_the_repositorys_fast_vocabulary_is_the_cores(
    title: str | None, content: str, tags: list[str]
) -> None:
    extra = search_extra(title, content, " ".join(tags))
    assert row_words(title, content, tags, extra) == vocabulary([title, content, " ".join(tags)])


async def test_similar_words_agree_on_both_sqlite_paths(tmp_path: Path) -> None:
    storage = create_storage(sqlite_url(tmp_path / "paths.db"))
    try:
        await storage.migrate()
        b = _backend(storage)
        me, other = await b.account(), await b.account()
        await b.add(make_entry(me, "kingfisher bridge database databases brigde"))
        await b.add(make_entry(other, "kingfishes heroic"))
        words = ["kingfishr", "brdge", "bridge", "heroc", "databse", "zz", "京都"]
        fast = await SqliteSearchIndex(storage).similar_words(me.account_id, words)
        slow = await SqliteSearchIndex(storage, fast_path=False).similar_words(me.account_id, words)
        assert fast == slow
        assert fast["kingfishr"] == ("kingfisher",)
        assert fast["heroc"] == ()
        assert fast["databse"][0] == "database"
    finally:
        await storage.close()


@settings(max_examples=400, deadline=None)
@given(title=st.none() | _TEXT, content=_TEXT, tags=st.lists(_TEXT, max_size=3))
def test_the_repositorys_fast_search_extra_is_the_cores(
    title: str | None, content: str, tags: list[str]
) -> None:
    assert entry_search_extra(title, content, " ".join(tags)) == search_extra(
        title, content, " ".join(tags)
    )


_ACCOUNTS = (uuid.UUID(int=1), uuid.UUID(int=2))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_ACCOUNTS),
            st.none() | _TEXT,
            _TEXT,
            st.lists(_TEXT, max_size=3),
            st.booleans(),
        ),
        max_size=6,
    )
)
def test_a_batchs_words_are_the_cores_vocabulary_of_its_live_entries(
    batch: list[tuple[UUID, str | None, str, list[str], bool]],
) -> None:
    # entry_words cuts an account's ASCII texts at once: the same words as the
    # core's vocabulary of each live entry, each (account, word) once.
    rows = [
        {
            "account_id": account_id,
            "title": title,
            "content": content,
            "tags": tags,
            "deleted_at": "2026-01-01" if deleted else None,
            "search_extra": entry_search_extra(title, content, " ".join(tags)),
        }
        for account_id, title, content, tags, deleted in batch
    ]
    expected = [
        {"account_id": account_id, "word": word}
        for account_id in dict.fromkeys(r[0] for r in batch if not r[4])
        for word in sorted(
            set().union(
                *(
                    vocabulary([title, content, " ".join(tags)])
                    for a, title, content, tags, deleted in batch
                    if a == account_id and not deleted
                )
            )
        )
    ]
    assert entry_words(rows) == expected


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abZ09-._'/ ,!\n-..")), max_size=80))
def test_the_repositorys_ascii_compounds_are_the_cores(text: str) -> None:
    # ASCII text with many joiners: the look-behind, possessive compound
    # expression finds the core's compounds (runs of joiners, joiners at a
    # word's edge, chains of several).
    assert entry_search_extra(text) == search_extra(text)


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("aZ9 -<=\u0338\u0301e\u00e9\u0130\u2014\u2019京に한\U0001f600Ωß")
        ),
        max_size=60,
    )
    | st.text(max_size=40)
)
def test_the_repositorys_words_of_mixed_text_are_the_cores(text: str) -> None:
    # Non-ASCII text: only its non-ASCII stretches are tokenized one character at
    # a time; NFC may fold an ASCII character into a non-ASCII one ("<" and a
    # combining slash make "≮", a separator), a letter may lower-case longer.
    assert row_words(None, text, [], search_extra(text)) == vocabulary([text])
