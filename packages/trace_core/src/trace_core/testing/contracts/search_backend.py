"""What the search contract suites share: the backend under test and an entry builder."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from trace_core.model import Account, Attachment, Entry, EntryFilter, SearchHit, Stream
from trace_core.ports import SearchIndex, SearchRequest, Storage
from trace_core.search import ParsedQuery

__all__ = ["FILLER", "T0", "SearchBackend", "make_entry"]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

FILLER = (
    "Notes from an ordinary day: walked to the station, answered letters, watered the "
    "plants, read a chapter of a novel and cooked a simple dinner with friends. "
)


class SearchBackend:
    """One adapter under test, with the storage its entries are written to.

    Args:
        storage: where entries are written (the index reads it, or is fed from it).
        index: the search index under test.
        settle: awaited after every write to make it searchable (e.g. drain an
            outbox and wait for the engine); None when writes are visible at once.
        stems: the engine matches other forms of a word ("migrating" → "migration").
        vocabulary: the index looks typos up in the account's words
            (:meth:`SearchIndex.similar_words`); False for an engine that
            corrects typos in its own search (Meilisearch).

    """

    def __init__(
        self,
        *,
        storage: Storage,
        index: SearchIndex,
        settle: Callable[[], Awaitable[None]] | None = None,
        stems: bool = True,
        vocabulary: bool = True,
    ) -> None:
        self.storage = storage
        self.index = index
        self.settle = settle
        self.stems = stems
        self.vocabulary = vocabulary

    @property
    def immediate(self) -> bool:
        """Whether an entry is searchable the moment its transaction commits."""
        return self.settle is None

    async def account(self) -> Account:
        """Create and return a fresh account."""
        account_id = uuid4()
        account = Account(
            account_id=account_id, email=f"{account_id.hex}@example.test", created_at=T0
        )
        async with self.storage.unit_of_work(write=True) as uow:
            await uow.accounts.add(account)
        return account

    async def stream(self, account: Account, name: str = "Work") -> Stream:
        """Create and return a stream in ``account``."""
        stream = Stream(
            stream_id=uuid4(),
            account_id=account.account_id,
            name=name,
            created_at=T0,
            updated_at=T0,
        )
        async with self.storage.unit_of_work(write=True) as uow:
            await uow.streams.add(stream)
        return stream

    async def _feed(self, entries: Sequence[Entry]) -> None:
        if not getattr(self.index, "indexed_by_storage", False):
            await self.index.index(entries)
        if self.settle is not None:
            await self.settle()

    async def add(self, *entries: Entry) -> list[Entry]:
        """Store new entries (one transaction) and make them searchable."""
        async with self.storage.unit_of_work(write=True) as uow:
            for entry in entries:
                await uow.entries.add(entry)
        await self._feed(entries)
        return list(entries)

    async def update(self, entry: Entry, **changes: Any) -> Entry:
        """Write a new version of ``entry`` with ``changes`` and make it searchable."""
        new = msgspec.structs.replace(
            entry, **changes, version=entry.version + 1, updated_at=entry.updated_at
        )
        async with self.storage.unit_of_work(write=True) as uow:
            assert await uow.entries.update(new, expected_version=entry.version)
        await self._feed([new])
        return new

    async def purge(self, entry: Entry) -> None:
        """Hard-delete ``entry`` as the trash purge does."""
        async with self.storage.unit_of_work(write=True) as uow:
            await uow.entries.purge(entry.account_id, [entry.entry_id])
        if not getattr(self.index, "indexed_by_storage", False):
            await self.index.remove(entry.account_id, [entry.entry_id])
        if self.settle is not None:
            await self.settle()

    async def rename_stream(self, stream: Stream, name: str) -> Stream:
        """Rename ``stream`` as the facade does (its entries are searched by the new name)."""
        renamed = msgspec.structs.replace(stream, name=name)
        async with self.storage.unit_of_work(write=True) as uow:
            await uow.streams.update(renamed)
            entries = await uow.entries.list_all(stream.account_id, include_deleted=False)
        await self._feed([e for e in entries if e.stream_id == stream.stream_id])
        return renamed

    async def attach(self, entry: Entry, filename: str) -> Attachment:
        """Add an image named ``filename`` to ``entry`` (metadata only; no bytes are needed)."""
        attachment = Attachment(
            attachment_id=uuid4(),
            account_id=entry.account_id,
            entry_id=entry.entry_id,
            mime_type="image/png",
            file_size=1,
            created_at=T0,
            blob_key=f"test/{uuid4().hex}",
            sha256="0" * 64,
            filename=filename,
        )
        async with self.storage.unit_of_work(write=True) as uow:
            await uow.attachments.add(attachment)
        await self._feed([entry])
        return attachment

    async def detach(self, entry: Entry, attachment: Attachment) -> None:
        """Remove ``attachment`` from its entry, as deleting an image does."""
        async with self.storage.unit_of_work(write=True) as uow:
            await uow.attachments.set_removed(attachment.account_id, attachment.attachment_id, T0)
        await self._feed([entry])

    def request(
        self,
        query: str,
        filters: EntryFilter | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
        match: str = "all",
    ) -> SearchRequest:
        """Return the request a search of ``query`` sends."""
        return SearchRequest(
            query=query, filters=filters or EntryFilter(), limit=limit, offset=offset, match=match
        )

    async def search_parsed(
        self, account: Account, query: ParsedQuery, *, limit: int = 20, match: str = "all"
    ) -> list[SearchHit]:
        """Search for an already parsed (e.g. typo-corrected) query, as the facade does."""
        request = SearchRequest(query=query.text, limit=limit, match=match, parsed=query)
        return await self.index.search(account.account_id, request)

    async def find(
        self, account: Account, query: ParsedQuery, *, limit: int = 20, match: str = "all"
    ) -> list[UUID]:
        """Return the ids a search for an already parsed query finds, best first."""
        hits = await self.search_parsed(account, query, limit=limit, match=match)
        return [hit.entry.entry_id for hit in hits]

    async def search(
        self,
        account: Account,
        query: str,
        filters: EntryFilter | None = None,
        *,
        limit: int = 20,
        offset: int = 0,
        match: str = "all",
    ) -> list[SearchHit]:
        """Search ``account``'s entries."""
        request = self.request(query, filters, limit=limit, offset=offset, match=match)
        return await self.index.search(account.account_id, request)

    async def ids(self, account: Account, query: str, **kwargs: Any) -> list[UUID]:
        """Return the entry ids a search finds, best first."""
        return [hit.entry.entry_id for hit in await self.search(account, query, **kwargs)]


def make_entry(
    account: Account,
    content: str,
    *,
    title: str | None = None,
    stream: Stream | None = None,
    tags: tuple[str, ...] = (),
    created_at: datetime = T0,
    **fields: Any,
) -> Entry:
    """Build a new entry of ``account`` (version 1)."""
    values: dict[str, Any] = {
        "entry_date": created_at.date(),
        "updated_at": created_at,
        **fields,
    }
    return Entry(
        entry_id=uuid4(),
        account_id=account.account_id,
        stream_id=stream.stream_id if stream else None,
        title=title,
        content=content,
        tags=tags,
        created_at=created_at,
        **values,
    )
