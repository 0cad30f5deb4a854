"""restore_version: an entry brought back to an older version, as a new version."""

from __future__ import annotations

import pytest

from trace_core.errors import (
    InsufficientScopeError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
)
from trace_core.model import EntryDraft, EntryPatch, Principal, Scope
from trace_core.service import Trace

pytestmark = pytest.mark.anyio


async def test_restoring_a_version_brings_its_fields_back_as_a_new_version(
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
    assert [v.version for v in history] == [3, 2, 1]
    assert history[0].snapshot.content == "first"


async def test_restore_version_checks_scope_tenancy_version_and_staleness(
    trace: Trace, alice: Principal, bob: Principal
) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="first"))
    await trace.update_entry(alice, entry.entry_id, EntryPatch(content="second"))
    reader = Principal(account_id=alice.account_id, scopes=frozenset({Scope.READ}), actor="r")

    with pytest.raises(InsufficientScopeError):
        await trace.restore_version(reader, entry.entry_id, 1)
    with pytest.raises(NotFoundError):
        await trace.restore_version(bob, entry.entry_id, 1)
    with pytest.raises(InvalidInputError) as missing:
        await trace.restore_version(alice, entry.entry_id, 7)
    assert missing.value.field == "version"
    with pytest.raises(VersionConflictError):
        await trace.restore_version(alice, entry.entry_id, 1, expected_version=1)
    assert (await trace.get_entry(alice, entry.entry_id)).entry.content == "second"
