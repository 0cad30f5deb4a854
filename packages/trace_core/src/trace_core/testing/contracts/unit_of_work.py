"""The contract every :class:`~trace_core.ports.Storage` / ``UnitOfWork`` must meet.

Subclass :class:`UnitOfWorkContract` and provide ``storage`` (a fresh, empty
:class:`~trace_core.ports.Storage`) and ``anyio_backend`` fixtures.
"""

from __future__ import annotations

import anyio
import pytest

from trace_core.errors import ConflictError
from trace_core.ports import Storage
from trace_core.testing.contracts._base import ContractSuite
from trace_core.testing.contracts.storage_support import (
    add_account,
    make_account,
    make_attachment,
    make_entry,
    make_stream,
    make_version,
)

__all__ = ["UnitOfWorkContract"]


class _BoomError(Exception):
    pass


class UnitOfWorkContract(ContractSuite):
    """A unit of work commits all of its writes on a clean exit, and none on an error."""

    async def test_writes_are_visible_after_a_clean_exit(self, storage: Storage) -> None:
        account = make_account()
        async with storage.unit_of_work(write=True) as uow:
            await uow.accounts.add(account)
        async with storage.unit_of_work() as uow:
            assert await uow.accounts.get(account.account_id) == account

    async def test_a_unit_of_work_for_an_account_writes_and_reads_everything_of_it(
        self, storage: Storage
    ) -> None:
        # What the facade opens for every use case: account_id= the principal's.
        account = await add_account(storage)
        aid = account.account_id
        stream = make_stream(aid)
        entry = make_entry(aid, stream_id=stream.stream_id, tags=("t",))
        attachment = make_attachment(entry)
        async with storage.unit_of_work(write=True, account_id=aid) as uow:
            await uow.streams.add(stream)
            await uow.entries.add(entry)
            await uow.versions.add(make_version(entry))
            await uow.attachments.add(attachment)
        async with storage.unit_of_work(account_id=aid) as uow:
            assert await uow.accounts.get(aid) == account
            assert [s.stream_id for s in await uow.streams.list(aid)] == [stream.stream_id]
            assert await uow.entries.get(aid, entry.entry_id) == entry
            assert len(await uow.versions.list(aid, entry.entry_id)) == 1
            assert await uow.attachments.list_for_entry(aid, entry.entry_id) == [attachment]
            assert [t.tag for t in await uow.entries.list_tags(aid)] == ["t"]

    async def test_an_all_accounts_unit_of_work_sees_every_account(self, storage: Storage) -> None:
        # What background jobs open (the trash purge): no account, every account.
        alice, bob = await add_account(storage), await add_account(storage)
        entries = [make_entry(a.account_id) for a in (alice, bob)]
        async with storage.unit_of_work(write=True, all_accounts=True) as uow:
            await uow.entries.add_many(entries)
        async with storage.unit_of_work(all_accounts=True) as uow:
            for entry in entries:
                assert await uow.entries.get(entry.account_id, entry.entry_id) == entry

    async def test_an_exception_inside_the_block_rolls_every_write_back(
        self, storage: Storage
    ) -> None:
        account = make_account()
        stream = make_stream(account.account_id)
        entry = make_entry(account.account_id, stream_id=stream.stream_id, tags=("t",))

        async def write_everything_then_fail() -> None:
            async with storage.unit_of_work(write=True) as uow:
                await uow.accounts.add(account)
                await uow.streams.add(stream)
                await uow.entries.add(entry)
                await uow.versions.add(make_version(entry))
                await uow.attachments.add(make_attachment(entry))
                raise _BoomError

        with pytest.raises(_BoomError):
            await write_everything_then_fail()
        aid = account.account_id
        async with storage.unit_of_work() as uow:
            assert await uow.accounts.get(aid) is None
            assert await uow.streams.get(aid, stream.stream_id) is None
            assert await uow.entries.get(aid, entry.entry_id, include_deleted=True) is None
            assert await uow.entries.list_tags(aid) == []
            assert await uow.versions.list_all(aid) == []
            assert await uow.attachments.list_all(aid) == []

    async def test_a_failed_write_rolls_back_the_earlier_writes_of_its_block(
        self, storage: Storage
    ) -> None:
        existing = await add_account(storage, "taken@example.org")
        newcomer = make_account()

        async def add_newcomer_then_a_duplicate() -> None:
            async with storage.unit_of_work(write=True) as uow:
                await uow.accounts.add(newcomer)
                await uow.accounts.add(make_account("taken@example.org"))

        with pytest.raises(ConflictError):
            await add_newcomer_then_a_duplicate()
        async with storage.unit_of_work() as uow:
            assert await uow.accounts.get(newcomer.account_id) is None
            assert await uow.accounts.list() == [existing]

    async def test_a_reader_does_not_see_writes_that_are_not_committed(
        self, storage: Storage
    ) -> None:
        account = make_account()
        async with storage.unit_of_work(write=True) as writer:
            await writer.accounts.add(account)
            async with storage.unit_of_work() as reader:
                assert await reader.accounts.get(account.account_id) is None
        async with storage.unit_of_work() as reader:
            assert await reader.accounts.get(account.account_id) == account

    async def test_concurrent_writers_all_commit(self, storage: Storage) -> None:
        accounts = [make_account() for _ in range(5)]

        async def write(index: int) -> None:
            async with storage.unit_of_work(write=True) as uow:
                await uow.accounts.add(accounts[index])

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for index in range(len(accounts)):
                    tg.start_soon(write, index)
        async with storage.unit_of_work() as uow:
            stored = {a.account_id for a in await uow.accounts.list()}
        assert stored == {a.account_id for a in accounts}
