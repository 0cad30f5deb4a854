"""In-memory adapters for every storage port: for tests, demos and embedding.

A unit of work works on a copy of the data and swaps it in on commit, so an
exception inside the block leaves nothing behind. One lock serialises writers,
as SQLite's write lock does.
"""

from __future__ import annotations

import builtins
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from uuid import UUID

import anyio
import msgspec

from trace_core.errors import ConflictError, NotFoundError
from trace_core.model import Account, Attachment, Entry, EntryFilter, EntryVersion, Stream, TagCount
from trace_core.ordering import DEFAULT_SORT, EntrySort, descending, position_key, sort_key
from trace_core.ports import BlobStore, ListPosition
from trace_core.tags import tag_key

__all__ = [
    "FixedClock",
    "InMemoryBlobStore",
    "InMemoryStorage",
    "entry_matches",
    "entry_sort_key",
]


def entry_sort_key(entry: Entry) -> tuple[date, datetime, UUID]:
    """Return the list order key; sort with ``reverse=True`` for newest first."""
    return (entry.entry_date, entry.created_at, entry.entry_id)


def _after(entry: Entry, position: ListPosition, sort: EntrySort = DEFAULT_SORT) -> bool:
    key, at = sort_key(entry, sort), position_key(position, sort)
    return key < at if descending(sort) else key > at


def entry_matches(entry: Entry, f: EntryFilter) -> bool:
    """Whether a live entry passes every filter (the reference semantics of EntryFilter)."""
    if f.stream == "inbox":
        if entry.stream_id is not None:
            return False
    elif isinstance(f.stream, UUID) and entry.stream_id != f.stream:
        return False
    if f.tags:
        have = set(entry.tags)
        if f.tags_mode == "all" and not set(f.tags) <= have:
            return False
        if f.tags_mode == "any" and not have.intersection(f.tags):
            return False
    checks = (
        (f.status is not None and entry.status != f.status),
        (f.type is not None and entry.type != f.type),
        (f.is_archived is not None and entry.is_archived != f.is_archived),
        (f.is_pinned is not None and entry.is_pinned != f.is_pinned),
        (f.start_date is not None and entry.entry_date < f.start_date),
        (f.end_date is not None and entry.entry_date > f.end_date),
        (f.created_after is not None and entry.created_at < f.created_after),
        (f.created_before is not None and entry.created_at >= f.created_before),
        (f.updated_after is not None and entry.updated_at < f.updated_after),
        (f.updated_before is not None and entry.updated_at >= f.updated_before),
        (f.due_before is not None and (entry.due_date is None or entry.due_date >= f.due_before)),
    )
    if any(checks):
        return False
    if f.text:
        needle = f.text.casefold()
        haystack = "\n".join((entry.title or "", entry.content, *entry.tags)).casefold()
        if needle not in haystack:
            return False
    return True


class _Data:
    def __init__(self) -> None:
        self.accounts: dict[UUID, Account] = {}
        self.streams: dict[UUID, Stream] = {}
        self.entries: dict[UUID, Entry] = {}
        self.versions: dict[tuple[UUID, int], EntryVersion] = {}
        self.attachments: dict[UUID, Attachment] = {}


class _Accounts:
    def __init__(self, data: _Data) -> None:
        self._d = data

    async def add(self, account: Account) -> None:
        if await self.get_by_email(account.email) is not None:
            raise ConflictError(f"an account with email {account.email} exists", field="email")
        self._d.accounts[account.account_id] = account

    async def get(self, account_id: UUID) -> Account | None:
        return self._d.accounts.get(account_id)

    async def get_by_email(self, email: str) -> Account | None:
        wanted = email.casefold()
        return next((a for a in self._d.accounts.values() if a.email.casefold() == wanted), None)

    async def list(self) -> builtins.list[Account]:
        return sorted(self._d.accounts.values(), key=lambda a: (a.created_at, a.email))

    async def update(self, account: Account) -> None:
        if account.account_id not in self._d.accounts:
            raise NotFoundError("account", account.account_id)
        holder = await self.get_by_email(account.email)
        if holder is not None and holder.account_id != account.account_id:
            raise ConflictError(f"an account with email {account.email} exists", field="email")
        self._d.accounts[account.account_id] = account


class _Streams:
    def __init__(self, data: _Data) -> None:
        self._d = data

    def _counted(self, stream: Stream) -> Stream:
        count = sum(
            1
            for e in self._d.entries.values()
            if e.stream_id == stream.stream_id
            and e.account_id == stream.account_id
            and e.deleted_at is None
        )
        return _with_count(stream, count)

    async def add(self, stream: Stream) -> None:
        self._d.streams[stream.stream_id] = _with_count(stream, 0)

    async def get(
        self, account_id: UUID, stream_id: UUID, *, with_counts: bool = True
    ) -> Stream | None:
        stream = self._d.streams.get(stream_id)
        if stream is None or stream.account_id != account_id:
            return None
        return self._counted(stream) if with_counts else stream

    async def list(
        self, account_id: UUID, *, include_archived: bool = False, with_counts: bool = True
    ) -> builtins.list[Stream]:
        streams = [
            self._counted(s) if with_counts else s
            for s in self._d.streams.values()
            if s.account_id == account_id and (include_archived or not s.is_archived)
        ]
        return sorted(streams, key=lambda s: (s.name.casefold(), s.stream_id))

    async def update(self, stream: Stream) -> None:
        old = self._d.streams.get(stream.stream_id)
        if old is None or old.account_id != stream.account_id:
            raise NotFoundError("stream", stream.stream_id)
        self._d.streams[stream.stream_id] = _with_count(stream, 0)


def _with_count(stream: Stream, count: int) -> Stream:
    return msgspec.structs.replace(stream, entry_count=count)


class _Entries:
    def __init__(self, data: _Data) -> None:
        self._d = data

    def _mine(self, account_id: UUID) -> builtins.list[Entry]:
        return [e for e in self._d.entries.values() if e.account_id == account_id]

    async def add(self, entry: Entry) -> None:
        if entry.entry_id in self._d.entries:
            raise ConflictError(f"entry {entry.entry_id} exists", field="entry_id")
        self._d.entries[entry.entry_id] = entry

    async def add_many(self, entries: Sequence[Entry]) -> None:
        for entry in entries:
            await self.add(entry)

    async def get(
        self, account_id: UUID, entry_id: UUID, *, include_deleted: bool = False
    ) -> Entry | None:
        entry = self._d.entries.get(entry_id)
        if entry is None or entry.account_id != account_id:
            return None
        if entry.deleted_at is not None and not include_deleted:
            return None
        return entry

    async def get_many(self, account_id: UUID, entry_ids: Sequence[UUID]) -> builtins.list[Entry]:
        found = [await self.get(account_id, i) for i in dict.fromkeys(entry_ids)]
        return [e for e in found if e is not None]

    def _filtered(
        self, account_id: UUID, filters: EntryFilter, sort: EntrySort = DEFAULT_SORT
    ) -> builtins.list[Entry]:
        return sorted(
            (
                e
                for e in self._mine(account_id)
                if e.deleted_at is None and entry_matches(e, filters)
            ),
            key=lambda e: sort_key(e, sort),
            reverse=descending(sort),
        )

    async def list(
        self,
        account_id: UUID,
        filters: EntryFilter,
        *,
        limit: int,
        offset: int = 0,
        after: ListPosition | None = None,
        sort: EntrySort = DEFAULT_SORT,
    ) -> builtins.list[Entry]:
        rows = self._filtered(account_id, filters, sort)
        if after is not None:
            rows = [e for e in rows if _after(e, after, sort)]
        return rows[offset : offset + limit]

    async def count(self, account_id: UUID, filters: EntryFilter) -> int:
        return len(self._filtered(account_id, filters))

    async def update(self, entry: Entry, *, expected_version: int) -> bool:
        current = self._d.entries.get(entry.entry_id)
        if (
            current is None
            or current.account_id != entry.account_id
            or current.version != expected_version
        ):
            return False
        self._d.entries[entry.entry_id] = entry
        return True

    def _deleted(self, account_id: UUID) -> builtins.list[Entry]:
        rows = [e for e in self._mine(account_id) if e.deleted_at is not None]
        return sorted(rows, key=lambda e: (e.deleted_at, e.entry_id), reverse=True)

    async def list_deleted(
        self, account_id: UUID, *, limit: int, offset: int = 0
    ) -> builtins.list[Entry]:
        return self._deleted(account_id)[offset : offset + limit]

    async def count_deleted(self, account_id: UUID) -> int:
        return len(self._deleted(account_id))

    async def deleted_before(
        self, cutoff: datetime, *, limit: int
    ) -> builtins.list[tuple[UUID, UUID]]:
        rows = sorted(
            (e for e in self._d.entries.values() if e.deleted_at and e.deleted_at < cutoff),
            key=lambda e: (e.deleted_at, e.entry_id),
        )
        return [(e.account_id, e.entry_id) for e in rows[:limit]]

    async def purge(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        ids = {i for i in entry_ids if (e := self._d.entries.get(i)) and e.account_id == account_id}
        for entry_id in ids:
            del self._d.entries[entry_id]
        for version_key in [k for k, v in self._d.versions.items() if v.entry_id in ids]:
            del self._d.versions[version_key]
        for attachment_id in [k for k, a in self._d.attachments.items() if a.entry_id in ids]:
            del self._d.attachments[attachment_id]

    async def list_tags(self, account_id: UUID) -> builtins.list[TagCount]:
        counts: Counter[str] = Counter()
        spellings: dict[str, str] = {}
        for e in self._mine(account_id):
            if e.deleted_at is not None:
                continue
            keys = {tag_key(tag): tag for tag in e.tags}
            counts.update(keys.keys())
            for key in keys:
                spelled = [t for t in e.tags if tag_key(t) == key]
                spellings[key] = min([spellings.get(key, spelled[0]), *spelled])
        rows = [(spellings[key], n) for key, n in counts.items()]
        return [TagCount(tag=t, count=c) for t, c in sorted(rows, key=lambda i: (-i[1], i[0]))]

    async def tag_spellings(self, account_id: UUID, keys: Sequence[str]) -> builtins.dict[str, str]:
        wanted = set(keys)
        found: dict[str, str] = {}
        for e in self._mine(account_id):
            if e.deleted_at is not None:
                continue
            for tag in e.tags:
                key = tag_key(tag)
                if key in wanted:
                    found[key] = min(found.get(key, tag), tag)
        return found

    async def list_all(
        self, account_id: UUID, *, include_deleted: bool = True
    ) -> builtins.list[Entry]:
        rows = [e for e in self._mine(account_id) if include_deleted or e.deleted_at is None]
        return sorted(rows, key=lambda e: (e.created_at, e.entry_id))


class _Versions:
    def __init__(self, data: _Data) -> None:
        self._d = data

    async def add(self, version: EntryVersion) -> None:
        key = (version.entry_id, version.version)
        if key in self._d.versions:
            raise ConflictError(
                f"version {version.version} of entry {version.entry_id} exists", field="version"
            )
        self._d.versions[key] = version

    async def add_many(self, versions: Sequence[EntryVersion]) -> None:
        for version in versions:
            await self.add(version)

    async def list(self, account_id: UUID, entry_id: UUID) -> builtins.list[EntryVersion]:
        rows = [
            v
            for v in self._d.versions.values()
            if v.entry_id == entry_id and v.account_id == account_id
        ]
        return sorted(rows, key=lambda v: v.version, reverse=True)

    async def list_all(self, account_id: UUID) -> builtins.list[EntryVersion]:
        rows = [v for v in self._d.versions.values() if v.account_id == account_id]
        return sorted(rows, key=lambda v: (v.written_at, v.entry_id, v.version))


class _Attachments:
    def __init__(self, data: _Data) -> None:
        self._d = data

    async def add(self, attachment: Attachment) -> None:
        if attachment.attachment_id in self._d.attachments:
            raise ConflictError(f"attachment {attachment.attachment_id} exists")
        self._d.attachments[attachment.attachment_id] = attachment

    async def get(
        self, account_id: UUID, attachment_id: UUID, *, include_removed: bool = False
    ) -> Attachment | None:
        att = self._d.attachments.get(attachment_id)
        if att is None or att.account_id != account_id:
            return None
        return att if include_removed or att.removed_at is None else None

    async def list_for_entry(self, account_id: UUID, entry_id: UUID) -> builtins.list[Attachment]:
        return await self.list_for_entries(account_id, [entry_id])

    async def list_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID], *, include_removed: bool = False
    ) -> builtins.list[Attachment]:
        order = {entry_id: i for i, entry_id in enumerate(dict.fromkeys(entry_ids))}
        rows = [
            a
            for a in self._d.attachments.values()
            if a.account_id == account_id
            and a.entry_id in order
            and (include_removed or a.removed_at is None)
        ]
        return sorted(rows, key=lambda a: (order[a.entry_id], a.position, a.attachment_id))

    async def count_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID]
    ) -> dict[UUID, int]:
        wanted = set(entry_ids)
        return dict(
            Counter(
                a.entry_id
                for a in self._d.attachments.values()
                if a.account_id == account_id and a.entry_id in wanted and a.removed_at is None
            )
        )

    async def set_removed(
        self, account_id: UUID, attachment_id: UUID, removed_at: datetime | None
    ) -> bool:
        att = self._d.attachments.get(attachment_id)
        if att is None or att.account_id != account_id:
            return False
        if (att.removed_at is None) == (removed_at is None):
            return False
        self._d.attachments[attachment_id] = msgspec.structs.replace(att, removed_at=removed_at)
        return True

    async def removed_before(self, cutoff: datetime, *, limit: int) -> builtins.list[Attachment]:
        rows = sorted(
            (
                a
                for a in self._d.attachments.values()
                if a.removed_at is not None and a.removed_at < cutoff
            ),
            key=lambda a: (a.removed_at, a.attachment_id),
        )
        return rows[:limit]

    async def purge(self, account_id: UUID, attachment_ids: Sequence[UUID]) -> None:
        for attachment_id in attachment_ids:
            att = self._d.attachments.get(attachment_id)
            if att is not None and att.account_id == account_id:
                del self._d.attachments[attachment_id]

    async def list_all(self, account_id: UUID) -> builtins.list[Attachment]:
        rows = [a for a in self._d.attachments.values() if a.account_id == account_id]
        return sorted(rows, key=lambda a: (a.created_at, a.attachment_id))


class _UnitOfWork:
    def __init__(self, data: _Data) -> None:
        self.data = data
        self.accounts = _Accounts(data)
        self.streams = _Streams(data)
        self.entries = _Entries(data)
        self.versions = _Versions(data)
        self.attachments = _Attachments(data)


def _copy(data: _Data) -> _Data:
    # Entities are frozen, so copying the dicts is enough for isolation.
    new = _Data()
    new.accounts = dict(data.accounts)
    new.streams = dict(data.streams)
    new.entries = dict(data.entries)
    new.versions = dict(data.versions)
    new.attachments = dict(data.attachments)
    return new


class InMemoryStorage:
    """``Storage`` in process memory. Writers are serialised; readers see committed data."""

    def __init__(self) -> None:
        self._data = _Data()
        self._write_lock = anyio.Lock()

    @asynccontextmanager
    async def _open(self, write: bool) -> AsyncIterator[_UnitOfWork]:
        if not write:
            # Readers get a snapshot too: a reader must never see a half-done write.
            yield _UnitOfWork(_copy(self._data))
            return
        async with self._write_lock:
            uow = _UnitOfWork(_copy(self._data))
            yield uow
            self._data = uow.data

    def unit_of_work(
        self, *, write: bool = False, account_id: UUID | None = None, all_accounts: bool = False
    ) -> _Handle:
        """Open a transaction (see ``Storage.unit_of_work``).

        ``account_id`` and ``all_accounts`` are accepted and not needed: every
        repository method here filters by the account it is given, and nothing
        else can query the data.
        """
        del account_id, all_accounts
        return _Handle(self, write)

    async def close(self) -> None:
        """Nothing to release."""


class _Handle:
    """Async context manager returned by ``InMemoryStorage.unit_of_work``."""

    def __init__(self, storage: InMemoryStorage, write: bool) -> None:
        self._cm = storage._open(write)

    async def __aenter__(self) -> _UnitOfWork:
        return await self._cm.__aenter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        return await self._cm.__aexit__(exc_type, exc, traceback)


class InMemoryBlobStore(BlobStore):
    """``BlobStore`` in process memory; streaming, URLs and closing are the port's defaults."""

    def __init__(self) -> None:
        self._blobs: dict[str, bytes] = {}

    async def put(self, key: str, data: bytes) -> None:
        """Store bytes."""
        self._blobs[key] = bytes(data)

    async def get(self, key: str) -> bytes:
        """Return bytes or raise NotFoundError."""
        try:
            return self._blobs[key]
        except KeyError:
            raise NotFoundError("blob", key) from None

    async def delete(self, key: str) -> None:
        """Delete; missing keys are fine."""
        self._blobs.pop(key, None)

    async def exists(self, key: str) -> bool:
        """Whether the key is stored."""
        return key in self._blobs

    def keys(self) -> builtins.list[str]:
        """Every stored key (for tests)."""
        return sorted(self._blobs)


class FixedClock:
    """A clock that stands still until told to move (for tests)."""

    def __init__(self, now: datetime | None = None) -> None:
        self._now = now or datetime(2026, 1, 15, 9, 30, tzinfo=UTC)

    def now(self) -> datetime:
        """Return the frozen time."""
        return self._now

    def today(self) -> date:
        """Return the frozen date."""
        return self._now.date()

    def advance(self, **delta: float) -> None:
        """Move the clock forward by ``timedelta(**delta)``."""
        self._now += timedelta(**delta)

    def set(self, now: datetime) -> None:
        """Jump to ``now``."""
        self._now = now
