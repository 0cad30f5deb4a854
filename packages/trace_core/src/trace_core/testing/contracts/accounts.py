"""The contract every :class:`~trace_core.ports.AccountRepository` must meet.

Subclass :class:`AccountRepositoryContract` in a test module and provide a
``storage`` fixture yielding a fresh, empty :class:`~trace_core.ports.Storage`
(and an ``anyio_backend`` fixture)::

    class TestMyAccounts(AccountRepositoryContract):
        @pytest.fixture
        async def storage(self):
            yield MyStorage(...)
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from uuid import uuid4

import msgspec
import pytest

from trace_core.errors import ConflictError, NotFoundError
from trace_core.ports import Storage
from trace_core.testing.contracts._base import ContractSuite
from trace_core.testing.contracts.storage_support import T0, add_account, make_account

__all__ = ["AccountRepositoryContract"]


class AccountRepositoryContract(ContractSuite):
    """Accounts: stored whole, found by id or email (any case), emails unique."""

    async def test_an_added_account_comes_back_with_every_field(self, storage: Storage) -> None:
        account = make_account(
            "Ada@Example.org",
            name="Ada",
            password_hash="$argon2id$x",
            plan="pro",
            is_active=False,
            time_zone="Pacific/Auckland",
        )
        async with storage.unit_of_work(write=True) as uow:
            await uow.accounts.add(account)
        async with storage.unit_of_work() as uow:
            got = await uow.accounts.get(account.account_id)
        assert got == account
        assert got is not None
        assert got.created_at.utcoffset() == timedelta(0)

    async def test_an_unknown_account_is_none(self, storage: Storage) -> None:
        async with storage.unit_of_work() as uow:
            assert await uow.accounts.get(uuid4()) is None
            assert await uow.accounts.get_by_email("nobody@example.org") is None

    async def test_an_account_is_found_by_email_in_any_case(self, storage: Storage) -> None:
        account = await add_account(storage, "Grace.Hopper@Example.org")
        async with storage.unit_of_work() as uow:
            got = await uow.accounts.get_by_email("grace.hopper@EXAMPLE.ORG")
        assert got == account

    async def test_a_second_account_with_the_same_email_in_another_case_is_a_conflict(
        self, storage: Storage
    ) -> None:
        await add_account(storage, "sam@example.org")
        with pytest.raises(ConflictError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.accounts.add(make_account("SAM@example.org"))
        async with storage.unit_of_work() as uow:
            assert len(await uow.accounts.list()) == 1

    async def test_accounts_are_listed_oldest_first(self, storage: Storage) -> None:
        newer = await add_account(storage, created_at=T0 + timedelta(days=1))
        older = await add_account(storage, created_at=T0)
        async with storage.unit_of_work() as uow:
            listed = await uow.accounts.list()
        assert [a.account_id for a in listed] == [older.account_id, newer.account_id]

    async def test_update_replaces_the_stored_account(self, storage: Storage) -> None:
        account = await add_account(storage, "old@example.org")
        changed = msgspec.structs.replace(
            account,
            email="New@Example.org",
            name="Renamed",
            is_active=False,
            plan="team",
            time_zone="America/Los_Angeles",
        )
        async with storage.unit_of_work(write=True) as uow:
            await uow.accounts.update(changed)
        async with storage.unit_of_work() as uow:
            assert await uow.accounts.get(account.account_id) == changed
            assert await uow.accounts.get_by_email("new@example.org") == changed
            assert await uow.accounts.get_by_email("old@example.org") is None

    async def test_updating_an_unknown_account_is_not_found(self, storage: Storage) -> None:
        with pytest.raises(NotFoundError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.accounts.update(make_account())

    async def test_updating_to_an_email_another_account_has_is_a_conflict(
        self, storage: Storage
    ) -> None:
        await add_account(storage, "taken@example.org")
        mine = await add_account(storage, "mine@example.org")
        with pytest.raises(ConflictError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.accounts.update(msgspec.structs.replace(mine, email="TAKEN@example.org"))
        async with storage.unit_of_work() as uow:
            assert await uow.accounts.get(mine.account_id) == mine

    async def test_timestamps_in_other_zones_come_back_as_the_same_instant(
        self, storage: Storage
    ) -> None:
        local = T0.astimezone(timezone(timedelta(hours=-7, minutes=-30)))
        account = await add_account(storage, created_at=local)
        async with storage.unit_of_work() as uow:
            got = await uow.accounts.get(account.account_id)
        assert got is not None
        assert got.created_at == T0
        assert got.created_at.astimezone(UTC) == T0.astimezone(UTC)
