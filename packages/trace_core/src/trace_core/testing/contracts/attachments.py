"""The contract every :class:`~trace_core.ports.AttachmentRepository` must meet.

Subclass :class:`AttachmentRepositoryContract` and provide ``storage`` (a
fresh, empty :class:`~trace_core.ports.Storage`) and ``anyio_backend`` fixtures.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from trace_core.errors import ConflictError
from trace_core.ports import Storage
from trace_core.testing.contracts._base import ContractSuite
from trace_core.testing.contracts.storage_support import (
    add_account,
    add_entries,
    later,
    make_attachment,
    make_entry,
)

__all__ = ["AttachmentRepositoryContract"]


class AttachmentRepositoryContract(ContractSuite):
    """Attachment metadata: stored whole, ordered by position, scoped by account."""

    async def test_an_added_attachment_comes_back_with_every_field(self, storage: Storage) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        attachment = make_attachment(
            entry,
            mime_type="image/webp",
            file_size=5 * 1024 * 1024 + 1,
            width=4032,
            height=3024,
            position=2,
            captured_at=later(-60),
            filename="IMG_0001.webp",
            sha256="ab" * 32,
        )
        async with storage.unit_of_work(write=True) as uow:
            await uow.attachments.add(attachment)
        async with storage.unit_of_work() as uow:
            assert await uow.attachments.get(account.account_id, attachment.attachment_id) == (
                attachment
            )
            assert await uow.attachments.get(account.account_id, uuid4()) is None

    async def test_another_accounts_attachment_is_invisible(self, storage: Storage) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        entry = make_entry(alice.account_id)
        await add_entries(storage, entry)
        attachment = make_attachment(entry)
        async with storage.unit_of_work(write=True) as uow:
            await uow.attachments.add(attachment)
        async with storage.unit_of_work() as uow:
            assert await uow.attachments.get(bob.account_id, attachment.attachment_id) is None
            assert await uow.attachments.list_for_entry(bob.account_id, entry.entry_id) == []
            assert await uow.attachments.list_for_entries(bob.account_id, [entry.entry_id]) == []
            assert await uow.attachments.list_all(bob.account_id) == []

    async def test_adding_an_attachment_id_twice_is_a_conflict(self, storage: Storage) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        attachment = make_attachment(entry)
        async with storage.unit_of_work(write=True) as uow:
            await uow.attachments.add(attachment)
        with pytest.raises(ConflictError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.attachments.add(attachment)

    async def test_attachments_are_listed_by_entry_in_the_order_asked_then_by_position(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        one, two = make_entry(account.account_id), make_entry(account.account_id)
        await add_entries(storage, one, two)
        one_b = make_attachment(one, position=1)
        one_a = make_attachment(one, position=0, created_at=later(5))
        two_a = make_attachment(two, position=0)
        async with storage.unit_of_work(write=True) as uow:
            for attachment in (one_b, two_a, one_a):
                await uow.attachments.add(attachment)
        aid = account.account_id
        async with storage.unit_of_work() as uow:
            assert await uow.attachments.list_for_entry(aid, one.entry_id) == [one_a, one_b]
            assert await uow.attachments.list_for_entries(aid, [two.entry_id, one.entry_id]) == [
                two_a,
                one_a,
                one_b,
            ]
            listed = await uow.attachments.list_all(aid)
        assert sorted(a.attachment_id for a in listed) == sorted(
            a.attachment_id for a in (one_a, one_b, two_a)
        )
        assert listed[-1] == one_a
