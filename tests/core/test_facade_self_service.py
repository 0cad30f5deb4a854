"""The caller's own account (read, rename, password, export, import) and restoring a version."""

from __future__ import annotations

import uuid

import msgspec
import pytest

from trace_core.errors import (
    ConflictError,
    InsufficientScopeError,
    NotFoundError,
    VersionConflictError,
)
from trace_core.model import EntryDraft, EntryPatch, Principal, Scope
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import InMemoryBlobStore
from trace_core.transfer import ExportDocument

pytestmark = pytest.mark.anyio


async def test_restore_version_writes_a_new_version_with_the_old_fields(
    trace: Trace, alice: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="first", title="One", tags=("a",)))
    await trace.update_entry(alice, entry.entry_id, EntryPatch(content="second", tags=("b",)))
    restored = await trace.restore_version(alice, entry.entry_id, 1, expected_version=2)
    assert (restored.content, restored.title, restored.tags, restored.version) == (
        "first",
        "One",
        ("a",),
        3,
    )
    history = await trace.entry_history(alice, entry.entry_id)
    assert [v.action for v in history] == ["version_restored", "update", "create"]
    assert (await trace.get_entry_version(alice, entry.entry_id, 2)).snapshot.content == "second"


async def test_restore_version_checks_scope_tenancy_version_and_staleness(
    trace: Trace, alice: Principal, alice_read: Principal, bob: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="first"))
    await trace.update_entry(alice, entry.entry_id, EntryPatch(content="second"))
    with pytest.raises(InsufficientScopeError):
        await trace.restore_version(alice_read, entry.entry_id, 1)
    with pytest.raises(NotFoundError):
        await trace.restore_version(bob, entry.entry_id, 1)
    with pytest.raises(NotFoundError):
        await trace.get_entry_version(bob, entry.entry_id, 1)
    with pytest.raises(NotFoundError):
        await trace.restore_version(alice, entry.entry_id, 9)
    with pytest.raises(VersionConflictError) as stale:
        await trace.restore_version(alice, entry.entry_id, 1, expected_version=1)
    assert (stale.value.expected_version, stale.value.current_version) == (1, 2)


async def test_own_account_read_rename_password_need_their_scopes(
    trace: Trace, alice: Principal, alice_read: Principal
) -> None:
    assert (await trace.own_account(alice_read)).email == "alice@example.org"
    with pytest.raises(InsufficientScopeError):
        await trace.update_own_account(alice_read, name="Mallory")
    renamed = await trace.update_own_account(alice, name="  Alice B  ")
    assert renamed.name == "Alice B"
    changed = await trace.update_own_account(alice, password_hash="$argon2id$x")
    assert changed.password_hash == "$argon2id$x"
    with pytest.raises(InsufficientScopeError):
        trace.require_scope(alice_read, Scope.FULL, "create_api_key")
    trace.require_scope(alice_read, Scope.READ, "list_api_keys")


def renumbered(document: ExportDocument) -> ExportDocument:
    """The same document with fresh entry and attachment ids (ids are unique server-wide)."""
    ids = {e.entry_id: uuid.uuid4() for e in document.entries}
    return msgspec.structs.replace(
        document,
        entries=[msgspec.structs.replace(e, entry_id=ids[e.entry_id]) for e in document.entries],
        versions=[
            msgspec.structs.replace(
                v,
                entry_id=ids[v.entry_id],
                snapshot=msgspec.structs.replace(v.snapshot, entry_id=ids[v.entry_id]),
            )
            for v in document.versions
        ],
        attachments=[
            msgspec.structs.replace(a, entry_id=ids[a.entry_id], attachment_id=uuid.uuid4())
            for a in document.attachments
        ],
    )


async def test_import_is_all_or_nothing_and_needs_full_scope(
    trace: Trace, alice: Principal, alice_read: Principal, bob: Principal, blobs: InMemoryBlobStore
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="kept"))
    await trace.add_attachment(alice, entry.entry_id, png_bytes(), filename="a.png")
    document = await trace.export_own_account(alice_read)
    assert (len(document.entries), len(document.attachments)) == (1, 1)
    with pytest.raises(InsufficientScopeError):
        await trace.import_into_own_account(alice_read, renumbered(document))
    summary = await trace.import_into_own_account(bob, renumbered(document))
    assert (summary.entries, summary.attachments) == (1, 1)
    [imported] = (await trace.list_entries(bob)).items
    assert imported.content == "kept"
    # A document with one new entry and one whose id exists: nothing of it is written.
    clash = renumbered(document)
    clash = msgspec.structs.replace(clash, entries=[*clash.entries, *document.entries])
    before = dict(blobs._blobs)
    with pytest.raises(ConflictError):
        await trace.import_into_own_account(bob, clash)
    assert [e.entry_id for e in (await trace.list_entries(bob)).items] == [imported.entry_id]
    assert blobs._blobs == before
