"""The contract every :class:`~trace_core.ports.EntryRepository` must meet.

Subclass :class:`EntryRepositoryContract` and provide ``storage`` (a fresh,
empty :class:`~trace_core.ports.Storage`) and ``anyio_backend`` fixtures.
Covers storage of every field, tenancy, filters, the list order, keyset and
offset paging, tags (any/all, counts), the conditional update, the trash and
purge.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID, uuid4

import anyio
import msgspec
import pytest

from trace_core.errors import ConflictError
from trace_core.model import Entry, EntryFilter
from trace_core.ports import ListPosition, Storage
from trace_core.testing.contracts._base import ContractSuite
from trace_core.testing.contracts.storage_support import (
    T0,
    add_account,
    add_entries,
    add_stream,
    later,
    make_attachment,
    make_entry,
    make_version,
)

__all__ = ["EntryRepositoryContract"]


def _ids(entries: list[Entry]) -> list[UUID]:
    return [e.entry_id for e in entries]


def _position(entry: Entry) -> ListPosition:
    return ListPosition(
        entry_date=entry.entry_date, created_at=entry.created_at, entry_id=entry.entry_id
    )


async def _list(
    storage: Storage, account_id: UUID, limit: int = 100, **filters: Any
) -> list[Entry]:
    async with storage.unit_of_work() as uow:
        return await uow.entries.list(account_id, EntryFilter(**filters), limit=limit)


async def _count(storage: Storage, account_id: UUID, **filters: Any) -> int:
    async with storage.unit_of_work() as uow:
        return await uow.entries.count(account_id, EntryFilter(**filters))


class EntryRepositoryContract(ContractSuite):
    """Entries: every field, tenancy, filters, order, paging, tags, versions, trash."""

    # --- storing and reading ----------------------------------------------------

    async def test_an_added_entry_comes_back_with_every_field(self, storage: Storage) -> None:
        account = await add_account(storage)
        stream = await add_stream(storage, account.account_id)
        entry = make_entry(
            account.account_id,
            "# Title\n\nMarkdown with *emphasis*, unicode ✓ and @mention.",
            stream_id=stream.stream_id,
            title="A day",
            entry_date=date(2025, 12, 31),
            tags=("zeta", "alpha", "Mixed Case"),
            status="done",
            type="idea",
            priority=4,
            rating=7,
            due_date=date(2026, 1, 5),
            is_pinned=True,
            is_archived=True,
            latitude=48.858844,
            longitude=-2.294351,
            place_name="Somewhere",
            city="Paris",
            country="FR",
            mentions=("mention",),
            updated_at=later(90),
            version=3,
            last_edited_by="Claude (key: laptop)",
        )
        await add_entries(storage, entry)
        async with storage.unit_of_work() as uow:
            got = await uow.entries.get(account.account_id, entry.entry_id)
        assert got == entry
        assert got is not None
        assert got.tags == ("zeta", "alpha", "Mixed Case")
        assert got.created_at.utcoffset() == timedelta(0)

    async def test_an_entry_with_defaults_only_comes_back_unchanged(self, storage: Storage) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id, "")
        await add_entries(storage, entry)
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(account.account_id, entry.entry_id) == entry

    async def test_another_accounts_entry_is_invisible_to_every_read(
        self, storage: Storage
    ) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        entry = make_entry(alice.account_id, tags=("secret",))
        await add_entries(storage, entry)
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(bob.account_id, entry.entry_id) is None
            assert await uow.entries.get_many(bob.account_id, [entry.entry_id]) == []
            assert await uow.entries.list(bob.account_id, EntryFilter(), limit=10) == []
            assert await uow.entries.count(bob.account_id, EntryFilter()) == 0
            assert await uow.entries.list_tags(bob.account_id) == []
            assert await uow.entries.list_all(bob.account_id) == []

    async def test_adding_an_entry_id_twice_is_a_conflict(self, storage: Storage) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        with pytest.raises(ConflictError):
            async with storage.unit_of_work(write=True) as uow:
                await uow.entries.add(msgspec.structs.replace(entry, content="again"))
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(account.account_id, entry.entry_id) == entry

    async def test_add_many_stores_every_entry(self, storage: Storage) -> None:
        account = await add_account(storage)
        batch = [
            make_entry(account.account_id, f"note {i}", tags=(f"t{i % 3}",), created_at=later(i))
            for i in range(250)
        ]
        async with storage.unit_of_work(write=True) as uow:
            await uow.entries.add_many(batch)
        assert await _count(storage, account.account_id) == 250
        async with storage.unit_of_work() as uow:
            assert await uow.entries.list_all(account.account_id) == batch
            tags = {t.tag: t.count for t in await uow.entries.list_tags(account.account_id)}
        assert tags == {"t0": 84, "t1": 83, "t2": 83}

    async def test_a_deleted_entry_is_returned_only_when_deleted_ones_are_asked_for(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id, deleted_at=later(5))
        await add_entries(storage, entry)
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(account.account_id, entry.entry_id) is None
            assert (
                await uow.entries.get(account.account_id, entry.entry_id, include_deleted=True)
                == entry
            )
            assert await uow.entries.get_many(account.account_id, [entry.entry_id]) == []

    async def test_get_many_returns_only_the_live_entries_asked_for(self, storage: Storage) -> None:
        account = await add_account(storage)
        a, b, c = (make_entry(account.account_id, f"n{i}") for i in range(3))
        gone = make_entry(account.account_id, deleted_at=T0)
        await add_entries(storage, a, b, c, gone)
        async with storage.unit_of_work() as uow:
            got = await uow.entries.get_many(
                account.account_id, [c.entry_id, a.entry_id, gone.entry_id, uuid4(), a.entry_id]
            )
        assert sorted(_ids(got)) == sorted([a.entry_id, c.entry_id])

    async def test_list_all_returns_every_entry_oldest_first_with_or_without_deleted(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        second = make_entry(account.account_id, created_at=later(2))
        first = make_entry(account.account_id, created_at=later(1), deleted_at=later(3))
        await add_entries(storage, second, first)
        async with storage.unit_of_work() as uow:
            everything = await uow.entries.list_all(account.account_id)
            live = await uow.entries.list_all(account.account_id, include_deleted=False)
        assert _ids(everything) == [first.entry_id, second.entry_id]
        assert _ids(live) == [second.entry_id]

    # --- order and paging -------------------------------------------------------

    async def test_entries_are_listed_by_entry_date_then_created_at_then_id_newest_first(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        day1, day2 = date(2026, 1, 1), date(2026, 1, 2)
        tie_ids = sorted([uuid4(), uuid4()])
        entries = [
            make_entry(account.account_id, entry_date=day1, created_at=later(50)),
            make_entry(account.account_id, entry_date=day2, created_at=later(1)),
            make_entry(account.account_id, entry_date=day2, created_at=later(2)),
            make_entry(
                account.account_id, entry_date=day1, created_at=later(3), entry_id=tie_ids[0]
            ),
            make_entry(
                account.account_id, entry_date=day1, created_at=later(3), entry_id=tie_ids[1]
            ),
        ]
        await add_entries(storage, *entries)
        listed = await _list(storage, account.account_id)
        expected = [entries[2], entries[1], entries[0], entries[4], entries[3]]
        assert _ids(listed) == _ids(expected)

    async def test_limit_and_offset_page_through_the_list(self, storage: Storage) -> None:
        account = await add_account(storage)
        entries = [make_entry(account.account_id, created_at=later(i)) for i in range(7)]
        await add_entries(storage, *entries)
        newest_first = list(reversed(entries))
        async with storage.unit_of_work() as uow:
            page = await uow.entries.list(account.account_id, EntryFilter(), limit=3, offset=2)
            tail = await uow.entries.list(account.account_id, EntryFilter(), limit=3, offset=6)
        assert _ids(page) == _ids(newest_first[2:5])
        assert _ids(tail) == _ids(newest_first[6:])

    async def test_keyset_after_returns_what_sorts_strictly_after_the_position(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        entries = [
            make_entry(
                account.account_id,
                entry_date=date(2026, 1, 1 + i % 3),
                created_at=later(i % 2),
            )
            for i in range(12)
        ]
        await add_entries(storage, *entries)
        ordered = await _list(storage, account.account_id)
        assert len(ordered) == 12
        seen: list[Entry] = []
        after: ListPosition | None = None
        async with storage.unit_of_work() as uow:
            while True:
                page = await uow.entries.list(
                    account.account_id, EntryFilter(), limit=5, after=after
                )
                if not page:
                    break
                seen.extend(page)
                after = _position(page[-1])
        assert _ids(seen) == _ids(ordered)

    async def test_offset_counts_from_the_keyset_position(self, storage: Storage) -> None:
        account = await add_account(storage)
        entries = [make_entry(account.account_id, created_at=later(i)) for i in range(6)]
        await add_entries(storage, *entries)
        ordered = await _list(storage, account.account_id)
        async with storage.unit_of_work() as uow:
            page = await uow.entries.list(
                account.account_id,
                EntryFilter(),
                limit=2,
                offset=1,
                after=_position(ordered[1]),
            )
        assert _ids(page) == _ids(ordered[3:5])

    async def test_the_keyset_position_need_not_be_a_stored_entry(self, storage: Storage) -> None:
        account = await add_account(storage)
        old = make_entry(account.account_id, entry_date=date(2026, 1, 1))
        new = make_entry(account.account_id, entry_date=date(2026, 1, 3))
        await add_entries(storage, old, new)
        position = ListPosition(entry_date=date(2026, 1, 2), created_at=T0, entry_id=uuid4())
        async with storage.unit_of_work() as uow:
            page = await uow.entries.list(
                account.account_id, EntryFilter(), limit=10, after=position
            )
        assert _ids(page) == [old.entry_id]

    # --- filters -------------------------------------------------------------------

    async def test_the_stream_filter_selects_one_stream_the_inbox_or_all(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        work = await add_stream(storage, account.account_id, "Work")
        home = await add_stream(storage, account.account_id, "Home")
        in_work = make_entry(account.account_id, stream_id=work.stream_id)
        at_home = make_entry(account.account_id, stream_id=home.stream_id)
        inbox = make_entry(account.account_id)
        await add_entries(storage, in_work, at_home, inbox)
        aid = account.account_id
        assert _ids(await _list(storage, aid, stream=work.stream_id)) == [in_work.entry_id]
        assert _ids(await _list(storage, aid, stream="inbox")) == [inbox.entry_id]
        assert len(await _list(storage, aid, stream="all")) == 3
        assert await _count(storage, aid, stream=home.stream_id) == 1
        assert await _count(storage, aid, stream=uuid4()) == 0

    async def test_tags_match_any_by_default_and_all_when_asked(self, storage: Storage) -> None:
        account = await add_account(storage)
        both = make_entry(account.account_id, tags=("red", "blue"))
        red = make_entry(account.account_id, tags=("red",))
        blue = make_entry(account.account_id, tags=("blue", "green"))
        plain = make_entry(account.account_id)
        await add_entries(storage, both, red, blue, plain)
        aid = account.account_id
        any_ = await _list(storage, aid, tags=("red", "blue"))
        all_ = await _list(storage, aid, tags=("red", "blue"), tags_mode="all")
        assert sorted(_ids(any_)) == sorted([both.entry_id, red.entry_id, blue.entry_id])
        assert _ids(all_) == [both.entry_id]
        assert await _count(storage, aid, tags=("red", "blue"), tags_mode="all") == 1
        assert await _count(storage, aid, tags=("green",)) == 1
        assert await _count(storage, aid, tags=("purple",)) == 0
        assert await _count(storage, aid, tags=("red", "purple"), tags_mode="all") == 0

    async def test_tags_match_exactly(self, storage: Storage) -> None:
        account = await add_account(storage)
        await add_entries(storage, make_entry(account.account_id, tags=("Work",)))
        assert await _count(storage, account.account_id, tags=("Work",)) == 1
        assert await _count(storage, account.account_id, tags=("Wor",)) == 0

    async def test_status_type_and_pinned_filter_by_equality(self, storage: Storage) -> None:
        account = await add_account(storage)
        target = make_entry(account.account_id, status="todo", type="task", is_pinned=True)
        await add_entries(
            storage,
            target,
            make_entry(account.account_id, status="done", type="task"),
            make_entry(account.account_id, status="todo", type="idea"),
        )
        aid = account.account_id
        assert await _count(storage, aid, status="todo") == 2
        assert await _count(storage, aid, type="task") == 2
        assert _ids(await _list(storage, aid, status="todo", type="task")) == [target.entry_id]
        assert _ids(await _list(storage, aid, is_pinned=True)) == [target.entry_id]
        assert await _count(storage, aid, is_pinned=False) == 2

    async def test_archived_entries_are_hidden_by_default(self, storage: Storage) -> None:
        account = await add_account(storage)
        live = make_entry(account.account_id)
        archived = make_entry(account.account_id, is_archived=True)
        await add_entries(storage, live, archived)
        aid = account.account_id
        assert _ids(await _list(storage, aid)) == [live.entry_id]
        assert _ids(await _list(storage, aid, is_archived=True)) == [archived.entry_id]
        assert await _count(storage, aid, is_archived=None) == 2

    async def test_start_and_end_dates_are_inclusive_on_entry_date(self, storage: Storage) -> None:
        account = await add_account(storage)
        days = [date(2026, 2, d) for d in (1, 2, 3, 4)]
        entries = [make_entry(account.account_id, entry_date=d) for d in days]
        await add_entries(storage, *entries)
        got = await _list(
            storage, account.account_id, start_date=date(2026, 2, 2), end_date=date(2026, 2, 3)
        )
        assert sorted(e.entry_date for e in got) == days[1:3]

    async def test_created_and_updated_bounds_include_after_and_exclude_before(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        entries = [
            make_entry(account.account_id, created_at=later(i), updated_at=later(10 + i))
            for i in range(4)
        ]
        await add_entries(storage, *entries)
        aid = account.account_id
        created = await _list(storage, aid, created_after=later(1), created_before=later(3))
        updated = await _list(storage, aid, updated_after=later(11), updated_before=later(13))
        assert sorted(_ids(created)) == sorted(_ids(entries[1:3]))
        assert sorted(_ids(updated)) == sorted(_ids(entries[1:3]))

    async def test_text_matches_title_content_or_tags_ignoring_case(self, storage: Storage) -> None:
        account = await add_account(storage)
        by_title = make_entry(account.account_id, "nothing", title="Quarterly PLANNING")
        by_content = make_entry(account.account_id, "we did some planning today")
        by_tag = make_entry(account.account_id, "nothing", tags=("planning-2026",))
        other = make_entry(account.account_id, "unrelated", title="plan")
        await add_entries(storage, by_title, by_content, by_tag, other)
        got = await _list(storage, account.account_id, text="Planning")
        assert sorted(_ids(got)) == sorted(
            [by_title.entry_id, by_content.entry_id, by_tag.entry_id]
        )
        assert await _count(storage, account.account_id, text="planning") == 3

    async def test_text_ignores_case_in_every_script(self, storage: Storage) -> None:
        account = await add_account(storage)
        german = make_entry(account.account_id, "Notizen ÜBER den Fluss")
        greek = make_entry(account.account_id, "ΣΗΜΕΙΏΣΕΙΣ", title="Été")
        await add_entries(storage, german, greek)
        aid = account.account_id
        assert _ids(await _list(storage, aid, text="über")) == [german.entry_id]
        assert _ids(await _list(storage, aid, text="σημ")) == [greek.entry_id]
        assert _ids(await _list(storage, aid, text="ÉTÉ")) == [greek.entry_id]

    async def test_text_treats_wildcard_characters_literally(self, storage: Storage) -> None:
        account = await add_account(storage)
        percent = make_entry(account.account_id, "growth of 100% this year")
        digits = make_entry(account.account_id, "growth of 1000 this year")
        underscore = make_entry(account.account_id, "file_name.txt")
        letters = make_entry(account.account_id, "fileXname.txt")
        slashes = make_entry(account.account_id, "see a/b and c\\d")
        await add_entries(storage, percent, digits, underscore, letters, slashes)
        aid = account.account_id
        assert _ids(await _list(storage, aid, text="100%")) == [percent.entry_id]
        assert _ids(await _list(storage, aid, text="file_name")) == [underscore.entry_id]
        assert _ids(await _list(storage, aid, text="a/b")) == [slashes.entry_id]
        assert _ids(await _list(storage, aid, text="c\\d")) == [slashes.entry_id]

    async def test_filters_combine(self, storage: Storage) -> None:
        account = await add_account(storage)
        stream = await add_stream(storage, account.account_id)
        hit = make_entry(
            account.account_id,
            "budget review",
            stream_id=stream.stream_id,
            tags=("money",),
            status="todo",
            entry_date=date(2026, 3, 10),
        )
        await add_entries(
            storage,
            hit,
            make_entry(account.account_id, "budget review", tags=("money",), status="todo"),
            make_entry(
                account.account_id,
                "budget review",
                stream_id=stream.stream_id,
                tags=("money",),
                status="done",
            ),
        )
        got = await _list(
            storage,
            account.account_id,
            stream=stream.stream_id,
            tags=("money",),
            status="todo",
            text="BUDGET",
            start_date=date(2026, 3, 1),
        )
        assert _ids(got) == [hit.entry_id]

    # --- tags ---------------------------------------------------------------------

    async def test_list_tags_counts_live_entries_most_used_first_then_by_name(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        await add_entries(
            storage,
            make_entry(account.account_id, tags=("b", "a")),
            make_entry(account.account_id, tags=("b", "c")),
            make_entry(account.account_id, tags=("c", "b"), is_archived=True),
            make_entry(account.account_id, tags=("a", "z"), deleted_at=T0),
            make_entry(account.account_id),
        )
        async with storage.unit_of_work() as uow:
            tags = [(t.tag, t.count) for t in await uow.entries.list_tags(account.account_id)]
        assert tags == [("b", 3), ("c", 2), ("a", 1)]

    async def test_list_tags_breaks_ties_by_code_point_whatever_the_collation(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        await add_entries(storage, make_entry(account.account_id, tags=("b", "A", "é", "Z", "_x")))
        async with storage.unit_of_work() as uow:
            tags = [t.tag for t in await uow.entries.list_tags(account.account_id)]
        assert tags == ["A", "Z", "_x", "b", "é"]

    async def test_list_tags_counts_spellings_of_one_tag_as_one_row(self, storage: Storage) -> None:
        account = await add_account(storage)
        await add_entries(
            storage,
            make_entry(account.account_id, tags=("Work",)),
            make_entry(account.account_id, tags=("work", "idea")),
            make_entry(account.account_id, tags=("WORK", "Work")),
        )
        async with storage.unit_of_work() as uow:
            tags = [(t.tag, t.count) for t in await uow.entries.list_tags(account.account_id)]
        assert tags == [("WORK", 3), ("idea", 1)]

    async def test_tag_spellings_finds_the_stored_spelling_by_key_in_the_account_only(
        self, storage: Storage
    ) -> None:
        account, other = await add_account(storage), await add_account(storage)
        trashed = make_entry(account.account_id, tags=("Gone",), deleted_at=later(1))
        await add_entries(
            storage,
            make_entry(account.account_id, tags=("Work", "Straße")),
            make_entry(other.account_id, tags=("Idea",)),
            trashed,
        )
        async with storage.unit_of_work() as uow:
            found = await uow.entries.tag_spellings(
                account.account_id, ["work", "strasse", "straße", "idea", "gone"]
            )
            none = await uow.entries.tag_spellings(account.account_id, [])
        assert found == {"work": "Work", "strasse": "Straße"}
        assert none == {}

    # --- conditional update ---------------------------------------------------------

    async def test_update_writes_when_the_stored_version_is_the_expected_one(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id, tags=("old",))
        await add_entries(storage, entry)
        changed = msgspec.structs.replace(
            entry, content="new text", tags=("new",), version=2, updated_at=later(1)
        )
        async with storage.unit_of_work(write=True) as uow:
            assert await uow.entries.update(changed, expected_version=1) is True
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(account.account_id, entry.entry_id) == changed
            tags = [t.tag for t in await uow.entries.list_tags(account.account_id)]
        assert tags == ["new"]
        assert await _count(storage, account.account_id, tags=("old",)) == 0
        assert await _count(storage, account.account_id, tags=("new",)) == 1

    async def test_update_with_a_stale_version_changes_nothing(self, storage: Storage) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id, version=3)
        await add_entries(storage, entry)
        stale = msgspec.structs.replace(entry, content="lost update", version=3)
        async with storage.unit_of_work(write=True) as uow:
            assert await uow.entries.update(stale, expected_version=2) is False
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(account.account_id, entry.entry_id) == entry

    async def test_update_of_another_accounts_or_an_unknown_entry_changes_nothing(
        self, storage: Storage
    ) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        entry = make_entry(alice.account_id)
        await add_entries(storage, entry)
        hijack = msgspec.structs.replace(entry, account_id=bob.account_id, version=2)
        async with storage.unit_of_work(write=True) as uow:
            assert await uow.entries.update(hijack, expected_version=1) is False
            unknown = make_entry(alice.account_id, version=2)
            assert await uow.entries.update(unknown, expected_version=1) is False
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(alice.account_id, entry.entry_id) == entry
            assert await uow.entries.get(bob.account_id, entry.entry_id) is None

    async def test_of_two_concurrent_updates_with_the_same_expected_version_one_wins(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        entry = make_entry(account.account_id)
        await add_entries(storage, entry)
        results: dict[str, bool] = {}

        async def write(name: str) -> None:
            async with storage.unit_of_work(write=True) as uow:
                new = msgspec.structs.replace(entry, content=name, version=2)
                results[name] = await uow.entries.update(new, expected_version=1)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                for name in ("first", "second", "third"):
                    tg.start_soon(write, name)
        winners = [name for name, won in results.items() if won]
        assert len(winners) == 1
        async with storage.unit_of_work() as uow:
            stored = await uow.entries.get(account.account_id, entry.entry_id)
        assert stored is not None
        assert (stored.content, stored.version) == (winners[0], 2)

    # --- trash ------------------------------------------------------------------------

    async def test_a_soft_deleted_entry_leaves_lists_counts_and_tags_and_restore_brings_it_back(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        stream = await add_stream(storage, account.account_id)
        entry = make_entry(account.account_id, stream_id=stream.stream_id, tags=("x",))
        await add_entries(storage, entry)
        deleted = msgspec.structs.replace(entry, deleted_at=later(1), version=2)
        async with storage.unit_of_work(write=True) as uow:
            assert await uow.entries.update(deleted, expected_version=1)
        aid = account.account_id
        assert await _list(storage, aid) == []
        assert await _count(storage, aid, tags=("x",)) == 0
        async with storage.unit_of_work() as uow:
            assert await uow.entries.list_tags(aid) == []
            assert await uow.entries.list_deleted(aid, limit=10) == [deleted]
            assert await uow.entries.count_deleted(aid) == 1
            got_stream = await uow.streams.get(aid, stream.stream_id)
            assert got_stream is not None
            assert got_stream.entry_count == 0
        restored = msgspec.structs.replace(deleted, deleted_at=None, version=3)
        async with storage.unit_of_work(write=True) as uow:
            assert await uow.entries.update(restored, expected_version=2)
        assert await _list(storage, aid) == [restored]
        assert await _count(storage, aid, tags=("x",)) == 1
        async with storage.unit_of_work() as uow:
            assert await uow.entries.count_deleted(aid) == 0

    async def test_the_trash_lists_the_most_recently_deleted_first_and_pages(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        trash = [make_entry(account.account_id, deleted_at=later(i)) for i in range(5)]
        await add_entries(storage, *trash, make_entry(account.account_id))
        aid = account.account_id
        async with storage.unit_of_work() as uow:
            first = await uow.entries.list_deleted(aid, limit=2)
            rest = await uow.entries.list_deleted(aid, limit=10, offset=2)
            assert await uow.entries.count_deleted(aid) == 5
        assert _ids(first + rest) == _ids(list(reversed(trash)))

    async def test_the_trash_is_per_account(self, storage: Storage) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        await add_entries(storage, make_entry(alice.account_id, deleted_at=T0))
        async with storage.unit_of_work() as uow:
            assert await uow.entries.list_deleted(bob.account_id, limit=10) == []
            assert await uow.entries.count_deleted(bob.account_id) == 0

    async def test_deleted_before_finds_expired_entries_of_every_account_oldest_first(
        self, storage: Storage
    ) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        old_bob = make_entry(bob.account_id, deleted_at=later(1))
        old_alice = make_entry(alice.account_id, deleted_at=later(2))
        at_cutoff = make_entry(alice.account_id, deleted_at=later(3))
        await add_entries(storage, old_alice, old_bob, at_cutoff, make_entry(alice.account_id))
        async with storage.unit_of_work(all_accounts=True) as uow:
            expired = await uow.entries.deleted_before(later(3), limit=10)
            limited = await uow.entries.deleted_before(later(3), limit=1)
        assert expired == [
            (bob.account_id, old_bob.entry_id),
            (alice.account_id, old_alice.entry_id),
        ]
        assert limited == expired[:1]

    async def test_purge_removes_entries_with_their_versions_and_attachments(
        self, storage: Storage
    ) -> None:
        account = await add_account(storage)
        doomed = make_entry(account.account_id, tags=("t",), deleted_at=later(1))
        kept = make_entry(account.account_id, tags=("t",))
        await add_entries(storage, doomed, kept)
        async with storage.unit_of_work(write=True) as uow:
            for entry in (doomed, kept):
                await uow.versions.add(make_version(entry))
                await uow.attachments.add(make_attachment(entry))
        aid = account.account_id
        async with storage.unit_of_work(write=True) as uow:
            await uow.entries.purge(aid, [doomed.entry_id])
        async with storage.unit_of_work() as uow:
            assert await uow.entries.get(aid, doomed.entry_id, include_deleted=True) is None
            assert await uow.versions.list(aid, doomed.entry_id) == []
            assert await uow.attachments.list_for_entry(aid, doomed.entry_id) == []
            assert await uow.entries.count_deleted(aid) == 0
            assert await uow.entries.get(aid, kept.entry_id) == kept
            assert len(await uow.versions.list(aid, kept.entry_id)) == 1
            assert len(await uow.attachments.list_for_entry(aid, kept.entry_id)) == 1
            assert [(t.tag, t.count) for t in await uow.entries.list_tags(aid)] == [("t", 1)]

    async def test_purge_with_another_accounts_ids_removes_nothing(self, storage: Storage) -> None:
        alice = await add_account(storage)
        bob = await add_account(storage)
        entry = make_entry(alice.account_id, deleted_at=T0)
        await add_entries(storage, entry)
        async with storage.unit_of_work(write=True) as uow:
            await uow.versions.add(make_version(entry))
            await uow.entries.purge(bob.account_id, [entry.entry_id])
        async with storage.unit_of_work() as uow:
            assert (
                await uow.entries.get(alice.account_id, entry.entry_id, include_deleted=True)
                == entry
            )
            assert len(await uow.versions.list(alice.account_id, entry.entry_id)) == 1
