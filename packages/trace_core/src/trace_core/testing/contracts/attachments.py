"""The contract every :class:`~trace_core.ports.AttachmentRepository` must meet.

Subclass :class:`AttachmentRepositoryContract` and provide ``storage`` (a
fresh, empty :class:`~trace_core.ports.Storage`) and ``anyio_backend`` fixtures.
"""

from __future__ import annotations

from uuid import uuid4

import msgspec
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
    """Attachment metadata: stored whole, ordered by position, scoped by account, removable."""

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

    async def test_a_removed_attachment_is_hidden_but_kept_for_the_purge_and_export(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        kept, removed = make_attachment(entry, position=0), make_attachment(entry, position=1)
        async with storage.unit_of_work(write=True) as uow:
            await uow.attachments.add(kept)
            await uow.attachments.add(removed)
            assert await uow.attachments.set_removed(
                account.account_id, removed.attachment_id, later(10)
            )
        aid = account.account_id
        gone = msgspec.structs.replace(removed, removed_at=later(10))
        async with storage.unit_of_work() as uow:
            assert await uow.attachments.get(aid, removed.attachment_id) is None
            assert (
                await uow.attachments.get(aid, removed.attachment_id, include_removed=True) == gone
            )
            assert await uow.attachments.list_for_entry(aid, entry.entry_id) == [kept]
            assert await uow.attachments.list_for_entries(aid, [entry.entry_id]) == [kept]
            assert await uow.attachments.list_for_entries(
                aid, [entry.entry_id], include_removed=True
            ) == [kept, gone]
            assert await uow.attachments.count_for_entries(aid, [entry.entry_id]) == {
                entry.entry_id: 1
            }
            assert sorted(a.attachment_id for a in await uow.attachments.list_all(aid)) == sorted(
                [kept.attachment_id, removed.attachment_id]
            )

    async def test_set_removed_changes_only_the_other_state_and_only_in_the_account(
        self, storage: Storage
    ) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        entry = make_entry(alice.account_id)
        await add_entries(storage, entry)
        attachment = make_attachment(entry)
        aid, att = alice.account_id, attachment.attachment_id
        async with storage.unit_of_work(write=True) as uow:
            await uow.attachments.add(attachment)
            assert not await uow.attachments.set_removed(aid, att, None)
            assert not await uow.attachments.set_removed(bob.account_id, att, later(1))
            assert not await uow.attachments.set_removed(aid, uuid4(), later(1))
            assert await uow.attachments.set_removed(aid, att, later(1))
            assert not await uow.attachments.set_removed(aid, att, later(2))
        async with storage.unit_of_work() as uow:
            found = await uow.attachments.get(aid, att, include_removed=True)
            assert found is not None
            assert found.removed_at == later(1)
        async with storage.unit_of_work(write=True) as uow:
            assert await uow.attachments.set_removed(aid, att, None)
        async with storage.unit_of_work() as uow:
            assert await uow.attachments.get(aid, att) == attachment

    async def test_images_are_counted_per_entry_in_one_call_within_the_account(
        self, storage: Storage
    ) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        one, two, bare = (make_entry(alice.account_id) for _ in range(3))
        await add_entries(storage, one, two, bare)
        async with storage.unit_of_work(write=True) as uow:
            for position in range(3):
                await uow.attachments.add(make_attachment(one, position=position))
            await uow.attachments.add(make_attachment(two))
        # More ids than one IN list of some backends takes (a page never has so many).
        ids = [one.entry_id, *(uuid4() for _ in range(1_200)), two.entry_id, bare.entry_id]
        async with storage.unit_of_work() as uow:
            assert await uow.attachments.count_for_entries(alice.account_id, ids) == {
                one.entry_id: 3,
                two.entry_id: 1,
            }
            assert await uow.attachments.count_for_entries(bob.account_id, ids) == {}
            assert await uow.attachments.count_for_entries(alice.account_id, []) == {}

    async def test_removed_before_finds_old_removals_in_every_account_and_purge_deletes_them(
        self, storage: Storage
    ) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        a_entry, b_entry = make_entry(alice.account_id), make_entry(bob.account_id)
        await add_entries(storage, a_entry, b_entry)
        old_a = make_attachment(a_entry, position=0)
        old_b = make_attachment(b_entry)
        recent = make_attachment(a_entry, position=1)
        live = make_attachment(a_entry, position=2)
        async with storage.unit_of_work(write=True) as uow:
            for attachment, when in ((old_a, 2), (old_b, 1), (recent, 30), (live, None)):
                await uow.attachments.add(attachment)
                if when is not None:
                    await uow.attachments.set_removed(
                        attachment.account_id, attachment.attachment_id, later(when)
                    )
        async with storage.unit_of_work(all_accounts=True) as uow:
            due = await uow.attachments.removed_before(later(10), limit=10)
            assert [a.attachment_id for a in due] == [old_b.attachment_id, old_a.attachment_id]
            assert len(await uow.attachments.removed_before(later(10), limit=1)) == 1
        async with storage.unit_of_work(write=True) as uow:
            # Scoped by account: bob's id given for alice is left alone.
            await uow.attachments.purge(
                alice.account_id, [old_a.attachment_id, old_b.attachment_id]
            )
        async with storage.unit_of_work(all_accounts=True) as uow:
            due = await uow.attachments.removed_before(later(10), limit=10)
            assert [a.attachment_id for a in due] == [old_b.attachment_id]
            left = await uow.attachments.list_all(alice.account_id)
            assert sorted(a.attachment_id for a in left) == sorted(
                [recent.attachment_id, live.attachment_id]
            )
