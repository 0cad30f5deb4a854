"""The contract every :class:`~trace_core.ports.StreamRepository` must meet.

Subclass :class:`StreamRepositoryContract` and provide ``storage`` (a fresh,
empty :class:`~trace_core.ports.Storage`) and ``anyio_backend`` fixtures.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import msgspec
import pytest

from trace_core.errors import NotFoundError
from trace_core.model import EntrySettings
from trace_core.ports import Storage
from trace_core.testing.contracts._base import ContractSuite
from trace_core.testing.contracts.storage_support import (
    T0,
    add_account,
    add_entries,
    add_stream,
    make_entry,
    make_stream,
)

__all__ = ["StreamRepositoryContract"]

RICH_SETTINGS = EntrySettings(
    use_rating=True,
    use_status=True,
    use_priority=True,
    use_location=True,
    use_photos=True,
    use_duedates=True,
    use_type=True,
    types=("meeting", "idea"),
    statuses=("todo", "doing", "done"),
    default_status="todo",
    rating_type="numeric",
    content_template="## Notes\n",
    title_template="Meeting {date}",
)


class StreamRepositoryContract(ContractSuite):
    """Streams: stored whole with settings, listed by name, counted, scoped by account."""

    async def test_an_added_stream_comes_back_with_every_field_and_settings(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        stream = make_stream(
            account.account_id,
            "Work",
            description="Everything about work",
            color="#336699",
            icon="briefcase",
            is_private=True,
            entry_settings=RICH_SETTINGS,
            updated_at=T0 + timedelta(hours=1),
        )
        async with storage.unit_of_work(write=True) as uow:
            await uow.streams.add(stream)
        async with storage.unit_of_work() as uow:
            got = await uow.streams.get(account.account_id, stream.stream_id)
        assert got == stream
        assert got is not None
        assert got.entry_settings == RICH_SETTINGS

    async def test_another_accounts_stream_is_none(self, storage: Storage) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        stream = await add_stream(storage, alice.account_id)
        async with storage.unit_of_work() as uow:
            assert await uow.streams.get(bob.account_id, stream.stream_id) is None
            assert await uow.streams.list(bob.account_id, include_archived=True) == []

    async def test_streams_are_listed_by_name_ignoring_case(self, storage: Storage) -> None:
        account = await add_account(storage)
        for name in ("beta", "Émile", "Alpha", "gamma", "Delta", "_inbox"):
            await add_stream(storage, account.account_id, name)
        async with storage.unit_of_work() as uow:
            names = [s.name for s in await uow.streams.list(account.account_id)]
        # str.casefold() then code point order, whatever the database's collation.
        assert names == ["_inbox", "Alpha", "beta", "Delta", "gamma", "Émile"]

    async def test_archived_streams_are_listed_only_when_asked(self, storage: Storage) -> None:
        account = await add_account(storage)
        await add_stream(storage, account.account_id, "Open")
        await add_stream(storage, account.account_id, "Old", is_archived=True)
        async with storage.unit_of_work() as uow:
            default = [s.name for s in await uow.streams.list(account.account_id)]
            everything = [
                s.name for s in await uow.streams.list(account.account_id, include_archived=True)
            ]
        assert default == ["Open"]
        assert everything == ["Old", "Open"]

    async def test_entry_count_counts_live_entries_of_that_stream_only(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        work = await add_stream(storage, account.account_id, "Work")
        home = await add_stream(storage, account.account_id, "Home")
        await add_entries(
            storage,
            make_entry(account.account_id, stream_id=work.stream_id),
            make_entry(account.account_id, stream_id=work.stream_id, is_archived=True),
            make_entry(account.account_id, stream_id=work.stream_id, deleted_at=T0),
            make_entry(account.account_id, stream_id=home.stream_id),
            make_entry(account.account_id),
        )
        async with storage.unit_of_work() as uow:
            got = await uow.streams.get(account.account_id, work.stream_id)
            counts = {s.name: s.entry_count for s in await uow.streams.list(account.account_id)}
        assert got is not None
        assert got.entry_count == 2
        assert counts == {"Home": 1, "Work": 2}

    async def test_listing_without_counts_returns_the_same_streams_with_zero_counts(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        work = await add_stream(storage, account.account_id, "Work")
        await add_entries(storage, make_entry(account.account_id, stream_id=work.stream_id))
        async with storage.unit_of_work() as uow:
            counted = await uow.streams.list(account.account_id)
            uncounted = await uow.streams.list(account.account_id, with_counts=False)
        assert [s.stream_id for s in uncounted] == [s.stream_id for s in counted]
        assert [s.name for s in uncounted] == ["Work"]
        assert [s.entry_count for s in counted] == [1]
        assert [s.entry_count for s in uncounted] == [0]
        async with storage.unit_of_work() as uow:
            got = await uow.streams.get(account.account_id, work.stream_id, with_counts=False)
        assert got is not None
        assert (got.name, got.entry_count) == ("Work", 0)

    async def test_update_replaces_the_stored_stream(self, storage: Storage) -> None:
        account = await add_account(storage)
        stream = await add_stream(storage, account.account_id, "Draft")
        changed = msgspec.structs.replace(
            stream,
            name="Final",
            description=None,
            color="#000000",
            is_archived=True,
            entry_settings=RICH_SETTINGS,
            updated_at=T0 + timedelta(days=2),
        )
        async with storage.unit_of_work(write=True) as uow:
            await uow.streams.update(changed)
        async with storage.unit_of_work() as uow:
            assert await uow.streams.get(account.account_id, stream.stream_id) == changed

    async def test_updating_another_accounts_stream_is_not_found_and_changes_nothing(
        self, storage: Storage
    ) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        stream = await add_stream(storage, alice.account_id, "Private")
        hijack = msgspec.structs.replace(stream, account_id=bob.account_id, name="Mine now")
        with pytest.raises(NotFoundError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.streams.update(hijack)
        async with storage.unit_of_work() as uow:
            assert await uow.streams.get(alice.account_id, stream.stream_id) == stream
            assert await uow.streams.get(bob.account_id, stream.stream_id) is None

    async def test_updating_an_unknown_stream_is_not_found(self, storage: Storage) -> None:
        account = await add_account(storage)
        with pytest.raises(NotFoundError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.streams.update(make_stream(account.account_id, stream_id=uuid4()))
