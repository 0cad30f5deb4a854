"""Export → import into a fresh database → export again gives the same document."""

from __future__ import annotations

import base64
import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import msgspec
import pytest
import sqlalchemy as sa

from trace_core.errors import ConflictError, InvalidInputError
from trace_core.model import EntryDraft, EntryPatch, EntrySettings, NewStream, Principal
from trace_core.ports import Storage
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.transfer import (
    AccountRecord,
    ExportDocument,
    decode_document,
    encode_document,
    export_account,
    import_account,
    record_field_drift,
)
from trace_sql import create_storage, sqlite_url
from trace_sql.engine import create_engine

pytestmark = pytest.mark.anyio

FreshStorage = Callable[[], AbstractAsyncContextManager[Storage]]


# The fixture lives here, not in a conftest.py: modules that do ``from conftest
# import …`` see whichever conftest was imported last.
async def _empty_postgres(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            names = (
                await conn.execute(
                    sa.text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            tables = ", ".join(f'"{n}"' for n in names)
            await conn.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.fixture
def fresh_storage(
    storage_backend: str,
    storage_url: str | None,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    anyio_backend: Any,
) -> FreshStorage:
    """Open a second, empty, migrated database on the same backend as ``storage``.

    Postgres has one database per session, so "fresh" there means emptied after
    the source was read (the caller closes the source storage first).
    """

    @asynccontextmanager
    async def open_fresh() -> AsyncIterator[Storage]:
        if storage_backend == "memory":
            yield InMemoryStorage()
            return
        if storage_backend == "sqlite":
            template: Path = request.getfixturevalue("sqlite_template")
            path = tmp_path / "fresh.db"
            shutil.copyfile(template, path)
            url = sqlite_url(path)
        else:
            assert storage_url is not None
            await _empty_postgres(storage_url)
            url = storage_url
        sql = create_storage(url)
        try:
            yield sql
        finally:
            await sql.close()

    return open_fresh


async def _populate(trace: Trace, clock: FixedClock) -> Principal:
    """An account with every kind of data: settings, versions, trash, archive, attachments."""
    account = await trace.create_account("ada@example.org", name="Ada")
    ada = trace.principal_for(account, actor="test-key", via="api_key")
    await trace.set_time_zone(ada, "Europe/Lisbon")
    clock.advance(minutes=1)
    tasks = await trace.create_stream(
        ada,
        NewStream(
            name="Tasks",
            color="#3b82f6",
            icon="check",
            entry_settings=EntrySettings(
                use_status=True,
                use_rating=True,
                use_priority=True,
                use_type=True,
                use_duedates=True,
                statuses=("todo", "done"),
                types=("bug", "idea"),
                default_status="todo",
                rating_type="stars",
            ),
        ),
    )
    clock.advance(minutes=1)
    old = await trace.create_stream(ada, NewStream(name="Old", description="archived"))
    await trace.archive_stream(ada, old.stream_id)
    entries = []
    for i in range(12):
        clock.advance(seconds=37)
        entries.append(
            await trace.create_entry(
                ada,
                EntryDraft(
                    content=f"# Note {i}\n\nSome *Markdown* with @mention{i % 3} and ünïcödé.",
                    title=f"Note {i}" if i % 2 else None,
                    stream_id=tasks.stream_id if i % 3 else None,
                    tags=(f"t{i % 4}", "shared"),
                    entry_date=date(2026, 1, 1 + i),
                    status="done" if i % 3 == 1 else None,
                    rating=3.5 if i % 3 == 2 else None,
                    priority=i % 5 if i % 3 else None,
                    type="idea" if i % 3 == 2 else None,
                    due_date=date(2026, 3, 1) if i % 3 == 1 else None,
                    is_pinned=i == 4,
                ),
            )
        )
    clock.advance(minutes=5)
    await trace.update_entry(ada, entries[1].entry_id, EntryPatch(content="edited", tags=("x",)))
    clock.advance(minutes=5)
    await trace.update_entry(ada, entries[1].entry_id, EntryPatch(is_archived=True))
    await trace.delete_entry(ada, entries[2].entry_id)
    clock.advance(minutes=1)
    await trace.add_attachment(ada, entries[0].entry_id, png_bytes(4, 3), filename="a.png")
    await trace.add_attachment(ada, entries[0].entry_id, png_bytes(2, 2, seed=7))
    removed = await trace.add_attachment(ada, entries[4].entry_id, png_bytes(9, 9, seed=2))
    # A removed image is still in the export (with its bytes), as trashed entries are.
    await trace.delete_attachment(ada, removed.attachment.attachment_id)
    return ada


_SOMEONE = AccountRecord(email="someone@example.org", created_at=datetime(2026, 1, 1, tzinfo=UTC))


def _body(document: ExportDocument) -> ExportDocument:
    """The document without who and when it was exported (a new account differs there)."""
    return msgspec.structs.replace(document, account=_SOMEONE, exported_at=_SOMEONE.created_at)


async def test_export_import_export_gives_the_same_document(
    storage: Storage, fresh_storage: FreshStorage
) -> None:
    clock = FixedClock()
    source = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=clock)
    ada = await _populate(source, clock)
    account = await source.get_account(ada.account_id)
    first = await export_account(storage, source.blobs, account, exported_at=clock.now())
    encoded = encode_document(first)
    await storage.close()

    assert len(first.streams) == 2
    assert len(first.entries) == 12
    assert sum(1 for e in first.entries if e.deleted_at is not None) == 1
    # 12 creations, 3 other writes, 3 images added and 1 removed.
    assert len(first.versions) == 12 + 3 + 3 + 1
    assert len(first.attachments) == 3
    assert sum(1 for a in first.attachments if a.removed_at is not None) == 1
    assert sum(1 for v in first.versions if v.attachment is not None) == 4

    async with fresh_storage() as target_storage:
        target = Trace(storage=target_storage, blobs=InMemoryBlobStore(), clock=clock)
        new_account = await target.create_account("ada@example.org")
        seen: list[tuple[int, int]] = []
        summary = await import_account(
            target_storage,
            target.blobs,
            new_account.account_id,
            decode_document(encoded),
            batch_size=5,
            progress=lambda done, total: seen.append((done, total)),
        )
        assert (summary.entries, summary.versions, summary.attachments) == (12, 19, 3)
        assert seen == [(0, 12), (5, 12), (10, 12), (12, 12)]
        assert first.account.time_zone == "Europe/Lisbon"
        new_account = await target.get_account(new_account.account_id)
        assert new_account.time_zone == "Europe/Lisbon"

        second = await export_account(
            target_storage, target.blobs, new_account, exported_at=clock.now()
        )
        for part in ("streams", "entries", "versions", "attachments"):
            assert msgspec.to_builtins(getattr(second, part)) == msgspec.to_builtins(
                getattr(first, part)
            ), part
        assert _body(second) == _body(first)
        assert encode_document(_body(second)) == encode_document(_body(first))

        # The imported data works through the facade like the original.
        owner = target.principal_for(new_account, actor="cli")
        trash = await target.list_trash(owner)
        assert [e.entry_id for e in trash.items] == [first.entries[2].entry_id]
        history = await target.entry_history(owner, first.entries[1].entry_id)
        assert [v.version for v in history] == [3, 2, 1]
        streams = await target.list_streams(owner)
        assert [(s.name, s.entry_count) for s in streams] == [("Tasks", 7)]
        attachment_id = first.attachments[0].attachment_id
        _, data = await target.read_attachment(owner, attachment_id)
        assert data == png_bytes(4, 3)


async def test_import_into_a_database_that_holds_the_data_is_a_conflict(storage: Storage) -> None:
    clock = FixedClock()
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=clock)
    ada = await _populate(trace, clock)
    account = await trace.get_account(ada.account_id)
    document = await export_account(storage, trace.blobs, account, exported_at=clock.now())
    with pytest.raises(ConflictError):
        await import_account(storage, trace.blobs, ada.account_id, document)


async def test_an_import_with_an_unknown_time_zone_is_refused_before_writing(
    storage: Storage,
) -> None:
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=FixedClock())
    account = await trace.create_account("ada@example.org")
    document = ExportDocument(
        exported_at=_SOMEONE.created_at,
        account=msgspec.structs.replace(_SOMEONE, time_zone="Atlantis/Capital"),
        streams=[],
        entries=[],
        versions=[],
        attachments=[],
    )

    with pytest.raises(InvalidInputError) as caught:
        await import_account(storage, trace.blobs, account.account_id, document)

    assert caught.value.field == "account.time_zone"
    assert (await trace.get_account(account.account_id)).time_zone == "UTC"


def test_export_records_cover_every_model_field() -> None:
    assert record_field_drift() == {}


def test_attachment_bytes_are_base64_in_json() -> None:
    doc = {
        "format": "trace-export",
        "version": 1,
        "exported_at": "2026-01-01T00:00:00Z",
        "account": {"email": "a@example.org", "created_at": "2026-01-01T00:00:00Z"},
    }
    document = decode_document(json.dumps(doc))
    assert document.entries == []
    entry_id = str(uuid4())
    doc["entries"] = [
        {
            "entry_id": entry_id,
            "content": "x",
            "entry_date": "2026-01-01",
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
    ]
    doc["attachments"] = [
        {
            "attachment_id": str(uuid4()),
            "entry_id": entry_id,
            "mime_type": "image/png",
            "file_size": 3,
            "created_at": "2026-01-01T00:00:00Z",
            "sha256": "0" * 64,
            "data": base64.b64encode(b"abc").decode(),
        }
    ]
    assert decode_document(json.dumps(doc)).attachments[0].data == b"abc"


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("not json", "document"),
        ("[1, 2]", "document"),
        ('{"format": "something-else", "version": 1}', "format"),
        ('{"format": "trace-export", "version": 2}', "version"),
        (
            '{"format": "trace-export", "version": 1, "exported_at": "2026-01-01T00:00:00Z",'
            ' "account": {"email": "a@b.c", "created_at": "2026-01-01T00:00:00Z"},'
            ' "entries": [{"entry_id": "nope"}]}',
            "document",
        ),
    ],
)
def test_a_bad_document_is_refused_naming_what_is_wrong(text: str, field: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        decode_document(text)
    assert info.value.field == field


async def test_a_document_with_dangling_references_is_refused_before_writing(
    storage: Storage,
) -> None:
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=FixedClock())
    account = await trace.create_account("ada@example.org")
    document = decode_document(
        json.dumps(
            {
                "format": "trace-export",
                "version": 1,
                "exported_at": "2026-01-01T00:00:00Z",
                "account": {"email": "a@example.org", "created_at": "2026-01-01T00:00:00Z"},
                "entries": [
                    {
                        "entry_id": str(uuid4()),
                        "stream_id": str(uuid4()),
                        "content": "x",
                        "entry_date": "2026-01-01",
                        "created_at": "2026-01-01T00:00:00Z",
                        "updated_at": "2026-01-01T00:00:00Z",
                    }
                ],
            }
        )
    )
    with pytest.raises(InvalidInputError) as info:
        await import_account(storage, trace.blobs, account.account_id, document)
    assert info.value.field == "entries"
    owner = trace.principal_for(account, actor="cli")
    assert (await trace.list_entries(owner)).total == 0


async def test_an_export_holding_nul_characters_imports_on_every_backend(
    storage: Storage,
) -> None:
    # SQLite stored NUL before the facade refused it; such an export must still
    # import into PostgreSQL, which cannot store NUL: import drops them.
    stream_id, entry_id = uuid4(), uuid4()
    at = "2026-01-01T00:00:00Z"
    entry = {
        "entry_id": str(entry_id),
        "stream_id": str(stream_id),
        "title": "ti\u0000tle",
        "content": "be\u0000fore\n\tafter",
        "entry_date": "2026-01-01",
        "tags": ["a\u0000", "a", "\u0000", "b"],
        "status": "op\u0000en",
        "last_edited_by": "key\u0000",
        "created_at": at,
        "updated_at": at,
    }
    document = decode_document(
        json.dumps(
            {
                "format": "trace-export",
                "version": 1,
                "exported_at": at,
                "account": {"email": "a@example.org", "created_at": at},
                "streams": [
                    {
                        "stream_id": str(stream_id),
                        "name": "Jour\u0000nal",
                        "description": "d\u0000",
                        "entry_settings": {"statuses": ["op\u0000en"]},
                        "created_at": at,
                        "updated_at": at,
                    }
                ],
                "entries": [entry],
                "versions": [
                    {
                        "entry_id": str(entry_id),
                        "version": 1,
                        "action": "create",
                        "written_by": "key\u0000",
                        "written_at": at,
                        "snapshot": entry,
                    }
                ],
            }
        )
    )
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=FixedClock())
    account = await trace.create_account("ada@example.org")

    await import_account(storage, trace.blobs, account.account_id, document)

    owner = trace.principal_for(account, actor="cli")
    stored = (await trace.get_entry(owner, entry_id)).entry
    assert (stored.title, stored.content, stored.tags, stored.status) == (
        "title",
        "before\n\tafter",
        ("a", "b"),
        "open",
    )
    stream = await trace.get_stream(owner, stream_id)
    assert (stream.name, stream.description, stream.entry_settings.statuses) == (
        "Journal",
        "d",
        ("open",),
    )
    [version] = await trace.entry_history(owner, entry_id)
    assert (version.written_by, version.snapshot.content) == ("key", "before\n\tafter")
    again = encode_document(
        await export_account(storage, trace.blobs, account, exported_at=datetime.now(UTC))
    )
    assert b"\\u0000" not in again
