"""PostgreSQL search vector (migration 0510): stream names, file names, compounds, CJK grams.

Every test writes through the storage (as the facade does) and searches with
the index, on PostgreSQL under row-level security; the triggers must keep the
vector current through renames, moves and attachment changes.
"""

from __future__ import annotations

import importlib.util
import os
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import asyncpg
import msgspec
import pytest
import sqlalchemy as sa

import trace_sql
from trace_core.model import Account, Attachment, Entry, EntryFilter, Stream
from trace_core.ports import SearchRequest
from trace_core.search import HIGHLIGHT_END, HIGHLIGHT_START
from trace_core.testing.contracts.search import T0, SearchBackend, make_entry
from trace_sql.search import PostgresSearchIndex
from trace_sql.search.postgres import PG_VECTOR_FUNCTION
from trace_sql.storage import SqlStorage, open_storage

POSTGRES_URL = os.environ.get(
    "TRACE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


@pytest.fixture(params=["fast", "sqlalchemy"])
def b(request: pytest.FixtureRequest, postgres_storage: SqlStorage) -> SearchBackend:
    index = PostgresSearchIndex(postgres_storage, fast_path=request.param == "fast")
    return SearchBackend(storage=postgres_storage, index=index)


async def _contents(b: SearchBackend, me: Account, query: str) -> list[str]:
    hits = await b.search(me, query)
    request = SearchRequest(query=query, filters=EntryFilter())
    assert await b.index.count(me.account_id, request) == len(hits)
    return [hit.entry.content for hit in hits]


async def _rename(b: SearchBackend, stream: Stream, name: str) -> Stream:
    renamed = msgspec.structs.replace(stream, name=name)
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.streams.update(renamed)
    return renamed


def _attachment(entry: Entry, filename: str, position: int = 0) -> Attachment:
    return Attachment(
        attachment_id=uuid4(),
        account_id=entry.account_id,
        entry_id=entry.entry_id,
        mime_type="image/png",
        file_size=10,
        position=position,
        created_at=T0,
        blob_key=uuid4().hex,
        sha256="0" * 64,
        filename=filename,
    )


async def test_the_stream_name_is_found_below_the_title_and_above_the_content(
    b: SearchBackend,
) -> None:
    me = await b.account()
    herons = await b.stream(me, "Heron watch")
    await b.add(
        make_entry(me, "by the content: a heron", created_at=T0),
        make_entry(me, "in the stream", stream=herons, created_at=T0 + timedelta(hours=1)),
        make_entry(me, "in the title", title="Heron", created_at=T0 + timedelta(hours=2)),
    )

    assert await _contents(b, me, "heron") == [
        "in the title",
        "in the stream",
        "by the content: a heron",
    ]
    assert await _contents(b, me, '"heron watch"') == ["in the stream"]


async def test_renaming_a_stream_and_moving_an_entry_reindex_it(b: SearchBackend) -> None:
    me = await b.account()
    birds = await b.stream(me, "Birds")
    trees = await b.stream(me, "Trees")
    [entry] = await b.add(make_entry(me, "seen today", stream=birds))
    assert await _contents(b, me, "birds") == ["seen today"]

    await _rename(b, birds, "Kestrels")
    assert await _contents(b, me, "birds") == []
    assert await _contents(b, me, "kestrel") == ["seen today"]

    await b.update(entry, stream_id=trees.stream_id)
    assert await _contents(b, me, "kestrel") == []
    assert await _contents(b, me, "trees") == ["seen today"]


async def test_live_attachment_file_names_are_searchable(b: SearchBackend) -> None:
    me = await b.account()
    [entry] = await b.add(make_entry(me, "the scan"))
    other = await b.account()
    [theirs] = await b.add(make_entry(other, "their scan"))
    picture = _attachment(entry, "Quarterly_Report-2026.final.PNG")
    async with b.storage.unit_of_work(write=True) as uow:
        await uow.attachments.add(picture)
        await uow.attachments.add(_attachment(entry, "kitchen.jpg", position=1))
        await uow.attachments.add(_attachment(theirs, "quarterly.png"))

    assert await _contents(b, me, "quarterly report") == ["the scan"]
    assert await _contents(b, me, "kitchen") == ["the scan"]
    assert await _contents(b, me, "2026") == ["the scan"]

    async with b.storage.unit_of_work(write=True) as uow:
        assert await uow.attachments.set_removed(me.account_id, picture.attachment_id, T0)
    assert await _contents(b, me, "quarterly") == []
    assert await _contents(b, me, "kitchen") == ["the scan"]

    async with b.storage.unit_of_work(write=True) as uow:
        assert await uow.attachments.set_removed(me.account_id, picture.attachment_id, None)
    assert await _contents(b, me, "quarterly") == ["the scan"]

    async with b.storage.unit_of_work(write=True) as uow:
        await uow.attachments.purge(me.account_id, [picture.attachment_id])
    assert await _contents(b, me, "quarterly") == []

    await b.purge(entry)  # the cascade's attachment triggers find no entry left
    assert await _contents(b, me, "kitchen") == []
    assert await _contents(b, other, "quarterly") == ["their scan"]


async def test_cjk_text_is_found_by_any_substring(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(
        make_entry(me, "私は京都に行きました"),
        make_entry(me, "桜の花が咲いた"),
        make_entry(me, "서울에서 만나요"),
        make_entry(me, "東京 tower bridge"),
    )

    assert await _contents(b, me, "京都") == ["私は京都に行きました"]
    assert await _contents(b, me, "都に行き") == ["私は京都に行きました"]
    assert await _contents(b, me, "京都に行く") == []
    assert await _contents(b, me, "桜") == ["桜の花が咲いた"]
    assert await _contents(b, me, "咲") == ["桜の花が咲いた"]
    assert await _contents(b, me, "서울") == ["서울에서 만나요"]
    assert await _contents(b, me, "京都 OR 서울") != []
    assert await _contents(b, me, "東京 tower") == ["東京 tower bridge"]
    assert await _contents(b, me, '"東京 tower"') == ["東京 tower bridge"]
    assert await _contents(b, me, "桜 -花") == []
    assert await _contents(b, me, "花 -京都") == ["桜の花が咲いた"]


async def test_compounds_find_their_joined_and_split_forms(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(
        make_entry(me, "The Wi-Fi dropped again"),
        make_entry(me, "answer the email"),
        make_entry(me, "COVID-19 booster"),
        make_entry(me, "our e-commerce shop"),
        make_entry(me, "Café au lait"),
    )

    assert await _contents(b, me, "wifi") == ["The Wi-Fi dropped again"]
    assert await _contents(b, me, "wi-fi") == ["The Wi-Fi dropped again"]
    assert await _contents(b, me, "e-mail") == ["answer the email"]
    assert await _contents(b, me, "covid19") == ["COVID-19 booster"]
    assert await _contents(b, me, "COVID-19") == ["COVID-19 booster"]
    # Joined compounds are stemmed like words ("ecommerce" stems to "ecommerc").
    assert await _contents(b, me, "ecommerce") == ["our e-commerce shop"]
    assert await _contents(b, me, "cafe") == ["Café au lait"]


async def test_snippets_mark_cjk_substrings_compounds_and_corrections(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(make_entry(me, "私は京都に行きました"), make_entry(me, "The Wi-Fi dropped"))

    [cjk] = await b.search(me, "京都")
    assert f"{HIGHLIGHT_START}京都{HIGHLIGHT_END}" in cjk.snippet
    [compound] = await b.search(me, "wifi")
    assert f"{HIGHLIGHT_START}Wi-Fi{HIGHLIGHT_END}" in compound.snippet
    typed = parse("dropd")
    request = SearchRequest(query="dropd", parsed=typed.with_corrections({"dropd": ["dropped"]}))
    [corrected] = await b.index.search(me.account_id, request)
    assert f"{HIGHLIGHT_START}dropped{HIGHLIGHT_END}" in corrected.snippet
    assert await b.index.count(me.account_id, request) == 1


def parse(text: str):
    from trace_core.search import parse_query

    return parse_query(text)


async def test_another_language_keeps_every_field(postgres_database_url: str) -> None:
    # A database of its own: changing the language re-indexes every account.
    name = f"trace_lang_fields_{uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    storage = await open_storage(f"{POSTGRES_URL.rpartition('/')[0]}/{name}")
    try:
        simple = PostgresSearchIndex(storage, language="simple")
        assert await simple.configure() is True
        b = SearchBackend(storage=storage, index=simple)
        me = await b.account()
        herons = await b.stream(me, "Herons")
        [entry] = await b.add(make_entry(me, "Wi-Fi 京都", stream=herons))
        async with storage.unit_of_work(write=True) as uow:
            await uow.attachments.add(_attachment(entry, "nests.png"))
        assert await _contents(b, me, "herons") == ["Wi-Fi 京都"]
        assert await _contents(b, me, "heron ") == []  # no stemming in 'simple'
        assert await _contents(b, me, "wifi 京都 nests") == ["Wi-Fi 京都"]
    finally:
        await storage.close()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def test_the_migration_creates_the_function_the_index_writes() -> None:
    path = Path(trace_sql.__file__).parent / "migrations/versions/0510_postgres_search_fields.py"
    spec = importlib.util.spec_from_file_location("migration_0510", path)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert migration.PG_VECTOR_FUNCTION == PG_VECTOR_FUNCTION


async def test_rebuild_restores_extra_vectors_and_words(postgres_database_url: str) -> None:
    storage = await open_storage(postgres_database_url)  # the owner: rebuild reads every account
    try:
        index = PostgresSearchIndex(storage)
        b = SearchBackend(storage=storage, index=index)
        me = await b.account()
        [entry] = await b.add(make_entry(me, "Wi-Fi at 京都 station"))
        async with storage.connect(write=True, all_accounts=True) as conn:
            await conn.execute(
                sa.text(
                    "UPDATE entries SET search_extra = '', search_vector = NULL"
                    " WHERE entry_id = :id"
                ),
                {"id": entry.entry_id},
            )
            await conn.execute(
                sa.text("DELETE FROM search_words WHERE account_id = :id"), {"id": me.account_id}
            )
        assert await _contents(b, me, "wifi") == []

        assert await index.rebuild(storage) >= 1

        assert await _contents(b, me, "wifi 京都") == ["Wi-Fi at 京都 station"]
        assert await index.similar_words(me.account_id, ["staton"]) == {"staton": ("station",)}
    finally:
        await storage.close()


async def test_the_migration_reindexes_existing_entries_and_goes_back() -> None:
    from alembic import command

    from trace_sql.engine import create_engine
    from trace_sql.migrate import alembic_config

    name = f"trace_0510_{uuid4().hex[:8]}"
    admin = await asyncpg.connect(POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://"))
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = f"{POSTGRES_URL.rpartition('/')[0]}/{name}"
    storage = await open_storage(url)
    engine = create_engine(url)

    async def migrate(revision: str, *, down: bool = False) -> None:
        async with engine.begin() as conn:
            run = command.downgrade if down else command.upgrade
            await conn.run_sync(lambda sync: run(alembic_config(sync), revision))

    async def found(word: str) -> int:
        async with engine.connect() as conn:
            query = "SELECT count(*) FROM entries WHERE search_vector @@ to_tsquery('english', :w)"
            return int((await conn.execute(sa.text(query), {"w": word})).scalar_one())

    try:
        b = SearchBackend(storage=storage, index=PostgresSearchIndex(storage))
        me = await b.account()
        herons = await b.stream(me, "Herons")
        await b.add(make_entry(me, "Wi-Fi notes", stream=herons))
        assert (await found("heron"), await found("wifi")) == (1, 1)

        await migrate("0500_search_fields", down=True)
        assert (await found("heron"), await found("wifi")) == (0, 0)
        await b.add(make_entry(me, "more notes", stream=herons))  # the 0100 trigger indexes it

        await migrate("heads")
        assert (await found("heron"), await found("wifi")) == (2, 1)
        assert await _contents(b, me, "herons wifi") == ["Wi-Fi notes"]
    finally:
        await storage.close()
        await engine.dispose()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
