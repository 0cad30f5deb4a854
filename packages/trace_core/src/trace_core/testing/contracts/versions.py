"""The contract every :class:`~trace_core.ports.VersionRepository` must meet.

Subclass :class:`VersionRepositoryContract` and provide ``storage`` (a fresh,
empty :class:`~trace_core.ports.Storage`) and ``anyio_backend`` fixtures.
"""

from __future__ import annotations

from uuid import uuid4

import msgspec
import pytest

from trace_core.errors import ConflictError
from trace_core.model import AttachmentRef
from trace_core.ports import Storage
from trace_core.testing.contracts._base import ContractSuite
from trace_core.testing.contracts.storage_support import (
    add_account,
    add_entries,
    add_stream,
    later,
    make_entry,
    make_version,
)

__all__ = ["VersionRepositoryContract"]


class VersionRepositoryContract(ContractSuite):
    """Snapshots: stored exactly, listed newest first, one per version, per account."""

    async def test_snapshots_come_back_exactly_newest_version_first(self, storage: Storage) -> None:
        account = await add_account(storage)
        stream = await add_stream(storage, account.account_id)
        v1 = make_entry(
            account.account_id,
            "first draft",
            stream_id=stream.stream_id,
            tags=("a", "b"),
            rating=6,
            latitude=1.5,
        )
        v2 = msgspec.structs.replace(
            v1, content="second draft", tags=("b",), version=2, updated_at=later(5)
        )
        await add_entries(storage, v1)
        versions = [
            make_version(v1, action="create"),
            make_version(v2, action="update"),
        ]
        async with storage.unit_of_work(write=True) as uow:
            for version in versions:
                await uow.versions.add(version)
        async with storage.unit_of_work() as uow:
            listed = await uow.versions.list(account.account_id, v1.entry_id)
        assert listed == list(reversed(versions))
        assert listed[0].snapshot == v2
        assert listed[1].snapshot == v1

    async def test_another_account_sees_no_snapshots(self, storage: Storage) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        entry = make_entry(alice.account_id)
        await add_entries(storage, entry)
        async with storage.unit_of_work(write=True) as uow:
            await uow.versions.add(make_version(entry))
        async with storage.unit_of_work() as uow:
            assert await uow.versions.list(bob.account_id, entry.entry_id) == []
            assert await uow.versions.list_all(bob.account_id) == []

    async def test_storing_the_same_version_twice_is_a_conflict(self, storage: Storage) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        async with storage.unit_of_work(write=True) as uow:
            await uow.versions.add(make_version(entry))
        with pytest.raises(ConflictError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.versions.add(make_version(entry, action="update"))
        async with storage.unit_of_work() as uow:
            assert len(await uow.versions.list(account.account_id, entry.entry_id)) == 1

    async def test_add_many_and_list_all_return_every_snapshot_oldest_write_first(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        first = make_entry(account.account_id, created_at=later(1))
        second = make_entry(account.account_id, created_at=later(2))
        await add_entries(storage, second, first)
        snapshots = [
            make_version(first, action="import"),
            make_version(second, action="import"),
            make_version(
                msgspec.structs.replace(first, version=2, updated_at=later(3)), action="update"
            ),
        ]
        async with storage.unit_of_work(write=True) as uow:
            await uow.versions.add_many(list(reversed(snapshots)))
        async with storage.unit_of_work() as uow:
            assert await uow.versions.list_all(account.account_id) == snapshots

    async def test_the_image_an_attachment_action_concerns_comes_back(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        ref = AttachmentRef(attachment_id=uuid4(), mime_type="image/png", filename="a b.png")
        added = msgspec.structs.replace(
            make_version(
                msgspec.structs.replace(entry, version=2, updated_at=later(1)),
                action="attachment_added",
            ),
            attachment=ref,
        )
        async with storage.unit_of_work(write=True) as uow:
            await uow.versions.add_many([make_version(entry), added])
        async with storage.unit_of_work() as uow:
            listed = await uow.versions.list(account.account_id, entry.entry_id)
            every = await uow.versions.list_all(account.account_id)
        assert listed[0] == added
        assert listed[0].attachment == ref
        assert listed[1].attachment is None
        assert every[-1] == added
