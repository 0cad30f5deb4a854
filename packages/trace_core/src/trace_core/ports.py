"""Ports: what Trace needs from the outside world, as narrow async Protocols.

Every repository method is scoped by ``account_id``: an adapter never returns or
changes another account's rows, whatever ids it is given. Adapters translate
their driver's errors into :mod:`trace_core.errors` at their edge.

Writes go through a :class:`UnitOfWork`: everything done inside one
``async with storage.unit_of_work(write=True)`` block commits together or not at
all.
"""

from __future__ import annotations

import builtins
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import date, datetime
from typing import Protocol, runtime_checkable
from uuid import UUID

import msgspec

from trace_core.model import (
    Account,
    Attachment,
    Entry,
    EntryFilter,
    EntryVersion,
    Principal,
    SearchHit,
    Stream,
    TagCount,
)
from trace_core.ordering import DEFAULT_SORT, EntrySort
from trace_core.search import ParsedQuery, parse_query

__all__ = [
    "AccountRepository",
    "AttachmentRepository",
    "Authenticator",
    "BlobStore",
    "Clock",
    "EntryRepository",
    "ListPosition",
    "ProgressCallback",
    "SearchIndex",
    "SearchRequest",
    "Storage",
    "StreamRepository",
    "UnitOfWork",
    "VersionRepository",
]

ProgressCallback = Callable[[int, int], None]
"""Called with (done, total) while a long operation runs."""


class ListPosition(msgspec.Struct, frozen=True, kw_only=True):
    """Keyset position in an entry order: the sort fields of the last entry of a page.

    A listing ``after`` a position returns the entries that sort strictly after it
    in the listing's order (:mod:`trace_core.ordering`). The fields beyond
    ``entry_date``, ``created_at`` and ``entry_id`` serve the other sorts (cursors
    handed out before they existed decode with them unset).
    """

    entry_date: date
    created_at: datetime
    entry_id: UUID
    updated_at: datetime | None = None
    due_date: date | None = None
    priority: int | None = None


@runtime_checkable
class Clock(Protocol):
    """The current time; a port so tests can control it."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware UTC."""
        ...

    def today(self) -> date:
        """Return today's date in the server's notion of the person's day."""
        ...


class AccountRepository(Protocol):
    """Accounts (tenants)."""

    async def add(self, account: Account) -> None:
        """Store a new account.

        Raises:
            ConflictError: an account with that email (case-insensitive) exists.

        """
        ...

    async def get(self, account_id: UUID) -> Account | None:
        """Return the account, or None."""
        ...

    async def get_by_email(self, email: str) -> Account | None:
        """Return the account with that email, compared case-insensitively."""
        ...

    async def list(self) -> builtins.list[Account]:
        """Return every account, oldest first."""
        ...

    async def update(self, account: Account) -> None:
        """Replace the stored account with ``account`` (same ``account_id``)."""
        ...


class StreamRepository(Protocol):
    """Streams, always within one account."""

    async def add(self, stream: Stream) -> None:
        """Store a new stream."""
        ...

    async def get(
        self, account_id: UUID, stream_id: UUID, *, with_counts: bool = True
    ) -> Stream | None:
        """Return the stream with its live ``entry_count`` (0 unless ``with_counts``), or None."""
        ...

    async def list(
        self, account_id: UUID, *, include_archived: bool = False, with_counts: bool = True
    ) -> builtins.list[Stream]:
        """Return the account's streams ordered by name (case-insensitive), with entry counts.

        ``entry_count`` counts entries that are not deleted (archived entries count).
        With ``with_counts=False`` it is left at 0 and nothing is counted (for
        callers that need only names and settings).
        """
        ...

    async def update(self, stream: Stream) -> None:
        """Replace the stored stream (matched by account and stream id)."""
        ...


class EntryRepository(Protocol):
    """Entries, always within one account."""

    async def add(self, entry: Entry) -> None:
        """Store a new entry."""
        ...

    async def add_many(self, entries: Sequence[Entry]) -> None:
        """Store many new entries at once (bulk import)."""
        ...

    async def get(
        self, account_id: UUID, entry_id: UUID, *, include_deleted: bool = False
    ) -> Entry | None:
        """Return the entry, or None; soft-deleted entries only with ``include_deleted``."""
        ...

    async def get_many(self, account_id: UUID, entry_ids: Sequence[UUID]) -> builtins.list[Entry]:
        """Return the live (not deleted) entries among ``entry_ids``, in any order."""
        ...

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
        """Return live entries matching ``filters``.

        Ordered by ``sort`` (:func:`trace_core.ordering.sort_key` defines each
        order; the default is entry_date, created_at, entry_id, all descending).
        ``after`` (keyset, in the same order) and ``offset`` may be combined:
        offset counts from ``after``.
        """
        ...

    async def count(self, account_id: UUID, filters: EntryFilter) -> int:
        """Count live entries matching ``filters``."""
        ...

    async def update(self, entry: Entry, *, expected_version: int) -> bool:
        """Replace the entry if its stored version is ``expected_version``, atomically.

        The check and the write are one conditional statement, so of two
        concurrent updates with the same expected version exactly one succeeds.
        Applies to deleted entries too (restore and delete go through here).

        Returns:
            True if the row was written, False if the version did not match or
            the entry does not exist in this account.

        """
        ...

    async def list_deleted(
        self, account_id: UUID, *, limit: int, offset: int = 0
    ) -> builtins.list[Entry]:
        """Return soft-deleted entries, most recently deleted first."""
        ...

    async def count_deleted(self, account_id: UUID) -> int:
        """Count soft-deleted entries."""
        ...

    async def deleted_before(
        self, cutoff: datetime, *, limit: int
    ) -> builtins.list[tuple[UUID, UUID]]:
        """Return ``(account_id, entry_id)`` of entries deleted before ``cutoff``, any account.

        Used only by the trash purge job, in a write unit of work opened with
        ``all_accounts=True`` (a storage with row-level security shows no rows
        otherwise). The rows are
        claimed by it until it ends: a concurrent unit of work (another replica
        purging) gets other rows, never these, and they cannot change meanwhile.
        """
        ...

    async def purge(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Hard-delete the entries with their versions and attachment rows."""
        ...

    async def list_tags(self, account_id: UUID) -> builtins.list[TagCount]:
        """Return each tag used by live entries with its count, most used first, then by name.

        Tags are told apart by :func:`trace_core.tags.tag_key` (case-insensitive): one
        row per key, counting the live entries that carry it, shown in its stored
        spelling (the smallest by code point should an account hold several).
        """
        ...

    async def tag_spellings(self, account_id: UUID, keys: Sequence[str]) -> builtins.dict[str, str]:
        """Return how the account's live entries spell the tags with these keys.

        Args:
            account_id: whose tags.
            keys: :func:`trace_core.tags.tag_key` values.

        Returns:
            ``{key: spelling}`` for the keys some live entry carries (any one of
            them should there be several); other keys are absent.

        """
        ...

    async def list_all(
        self, account_id: UUID, *, include_deleted: bool = True
    ) -> builtins.list[Entry]:
        """Return every entry of the account (export), oldest first."""
        ...


class VersionRepository(Protocol):
    """Entry snapshots (history)."""

    async def add(self, version: EntryVersion) -> None:
        """Store a snapshot."""
        ...

    async def add_many(self, versions: Sequence[EntryVersion]) -> None:
        """Store many snapshots at once (bulk import)."""
        ...

    async def list(self, account_id: UUID, entry_id: UUID) -> builtins.list[EntryVersion]:
        """Return the entry's snapshots, newest version first."""
        ...

    async def list_all(self, account_id: UUID) -> builtins.list[EntryVersion]:
        """Return every snapshot of the account (export)."""
        ...


class AttachmentRepository(Protocol):
    """Attachment metadata; bytes are in a :class:`BlobStore`.

    An attachment whose ``removed_at`` is set was removed from its entry: only
    ``get(..., include_removed=True)``, ``list_for_entries(..., include_removed=True)``,
    ``list_all``, ``removed_before`` and ``purge`` see it.
    """

    async def add(self, attachment: Attachment) -> None:
        """Store attachment metadata.

        Raises:
            ConflictError: an attachment with that id exists.

        """
        ...

    async def get(
        self, account_id: UUID, attachment_id: UUID, *, include_removed: bool = False
    ) -> Attachment | None:
        """Return the attachment, or None; removed ones only with ``include_removed``."""
        ...

    async def list_for_entry(self, account_id: UUID, entry_id: UUID) -> builtins.list[Attachment]:
        """Return the entry's attachments (not removed) by position."""
        ...

    async def list_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID], *, include_removed: bool = False
    ) -> builtins.list[Attachment]:
        """Return the attachments of all the given entries, by entry then position."""
        ...

    async def count_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID]
    ) -> dict[UUID, int]:
        """Return how many attachments (not removed) each of the given entries has.

        One query for a page of entries; entries without any are left out.
        """
        ...

    async def set_removed(
        self, account_id: UUID, attachment_id: UUID, removed_at: datetime | None
    ) -> bool:
        """Mark the attachment removed at ``removed_at``, or not removed with None.

        Returns:
            True if the row changed: False when there is no such attachment in
            the account, or it already was in the asked state.

        """
        ...

    async def removed_before(self, cutoff: datetime, *, limit: int) -> builtins.list[Attachment]:
        """Return attachments removed before ``cutoff``, in any account, oldest removal first.

        Used only by the trash purge job, in a unit of work opened with ``all_accounts=True``.
        """
        ...

    async def purge(self, account_id: UUID, attachment_ids: Sequence[UUID]) -> None:
        """Hard-delete the attachment rows (the caller deletes their bytes)."""
        ...

    async def list_all(self, account_id: UUID) -> builtins.list[Attachment]:
        """Return every attachment of the account, removed ones too (export)."""
        ...


class UnitOfWork(Protocol):
    """One transaction over all repositories."""

    @property
    def accounts(self) -> AccountRepository:
        """Accounts."""
        ...

    @property
    def streams(self) -> StreamRepository:
        """Streams."""
        ...

    @property
    def entries(self) -> EntryRepository:
        """Entries."""
        ...

    @property
    def versions(self) -> VersionRepository:
        """Entry snapshots."""
        ...

    @property
    def attachments(self) -> AttachmentRepository:
        """Attachment metadata."""
        ...


class Storage(Protocol):
    """Opens units of work; one per request or use case."""

    def unit_of_work(
        self, *, write: bool = False, account_id: UUID | None = None, all_accounts: bool = False
    ) -> AbstractAsyncContextManager[UnitOfWork]:
        """Open a transaction: committed when the block exits cleanly, rolled back on error.

        ``write=True`` takes the write lock up front where the database needs it
        (SQLite ``BEGIN IMMEDIATE``), so a read-then-conditional-write never
        deadlocks or fails on a stale snapshot.

        ``account_id``: the unit of work is for this account only. Use cases pass
        the principal's; a storage with a second wall between tenants (PostgreSQL
        row-level security) lets the transaction see that account's rows and no
        other's, whatever ids its repository calls name.

        ``all_accounts=True``: a background job that works across accounts
        (trash purge). ``EntryRepository.deleted_before`` and
        ``AttachmentRepository.removed_before`` need it.

        With neither, each repository call sees only the account it names.
        """
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class BlobStore(Protocol):
    """Bytes by key (attachment files).

    ``put``, ``get``, ``delete`` and ``exists`` are the whole contract; the
    streaming methods (:meth:`open_read`, :meth:`write_stream`), :meth:`presigned_url`
    and :meth:`close` have defaults in terms of them, so a store that subclasses
    this Protocol gets them for free and overrides them when it can do better
    (a store that streams from disk or the network, an object store that signs
    its own download URLs, a client with connections to release).
    """

    async def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` atomically (readers see all of it or none)."""
        ...

    async def get(self, key: str) -> bytes:
        """Return the bytes.

        Raises:
            NotFoundError: nothing is stored under ``key``.

        """
        ...

    async def delete(self, key: str) -> None:
        """Delete ``key``; deleting a missing key is not an error."""
        ...

    async def exists(self, key: str) -> bool:
        """Return whether ``key`` is stored."""
        ...

    async def open_read(self, key: str) -> AsyncGenerator[bytes, None]:
        """Open ``key`` and return its bytes as chunks, in order.

        Opening checks that the blob exists, so a missing one is reported here,
        before the first chunk (a download can still answer 404). A reader that
        stops early calls ``aclose()`` on what it got, which releases the file or
        connection. Default: :meth:`get`, as one chunk.

        Raises:
            NotFoundError: nothing is stored under ``key``.

        """
        return _one_chunk(await self.get(key))

    async def write_stream(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        """Store the concatenated ``chunks`` under ``key`` atomically; return the byte count.

        If iterating ``chunks`` raises, the error propagates, nothing new is
        stored and what was under ``key`` before stays. Default: gather the
        chunks in memory, then :meth:`put`.
        """
        data = b"".join([bytes(chunk) async for chunk in chunks])
        await self.put(key, data)
        return len(data)

    async def presigned_url(
        self, key: str, *, ttl_seconds: int, content_type: str, filename: str | None = None
    ) -> str | None:
        """Return a URL the store itself serves ``key`` at for ``ttl_seconds``, or None.

        None (the default) means the store serves no URLs: the caller streams
        the bytes itself (:meth:`open_read`). The URL is a bearer credential for
        this one blob: call this only after checking that the reader may see it
        (the facade does). ``content_type`` and ``filename`` are what the
        download should be answered with.
        """
        return None

    async def close(self) -> None:
        """Release connections or clients the store holds (default: nothing to release)."""
        return


async def _one_chunk(data: bytes) -> AsyncGenerator[bytes, None]:
    yield data


class SearchRequest(msgspec.Struct, frozen=True, kw_only=True):
    """What a search index is asked: a query, filters and a page.

    ``match`` is ``all`` (every clause required) or ``any``. ``parsed`` is the
    query as the facade parsed it, with the typo corrections it added; an
    index parses ``query`` itself when it is None (:meth:`parsed_query`).
    ``count_limit``: :meth:`SearchIndex.count` may stop counting there and
    answers at most that many.
    """

    query: str
    filters: EntryFilter = EntryFilter()
    limit: int = 20
    offset: int = 0
    match: str = "all"
    parsed: ParsedQuery | None = None
    count_limit: int | None = None

    def parsed_query(self) -> ParsedQuery:
        """Return :attr:`parsed`, or :attr:`query` parsed."""
        return self.parsed if self.parsed is not None else parse_query(self.query)


class SearchIndex(Protocol):
    """Ranked full-text search over one account's live entries."""

    async def search(self, account_id: UUID, request: SearchRequest) -> builtins.list[SearchHit]:
        """Return hits ranked best first; every hit belongs to ``account_id``.

        Raises:
            UnavailableError: the search engine cannot be reached.

        """
        ...

    async def count(self, account_id: UUID, request: SearchRequest) -> int:
        """Return how many live entries of ``account_id`` match (limit and offset ignored).

        At most ``request.count_limit`` when it is set (counting may stop there).

        Raises:
            UnavailableError: the search engine cannot be reached.

        """
        ...

    async def index(self, entries: Sequence[Entry]) -> None:
        """Add or replace these entries (deleted ones are removed)."""
        ...

    async def similar_words(
        self, account_id: UUID, words: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Look ``words`` up in the words of ``account_id``'s own entries (typo tolerance).

        Returns, for each word that no entry of the account has, the account's
        words within :func:`~trace_core.search_text.typo_distance` of it,
        nearest first, at most :data:`~trace_core.search_text.MAX_NEAR_WORDS`
        (maybe none); words the account has are left out. Never another
        account's words. The default (an engine that corrects typos itself,
        or has no vocabulary) knows nothing and returns ``{}``.

        Raises:
            UnavailableError: the search engine cannot be reached.

        """
        return {}

    async def remove(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Remove entries from the index."""
        ...

    async def rebuild(self, storage: Storage, *, progress: ProgressCallback | None = None) -> int:
        """Rebuild the whole index from storage; return the number of entries indexed."""
        ...

    # The two hooks below have bodies: an index that subclasses this Protocol and
    # needs no start-up or background work inherits them and does nothing.

    async def start(self) -> None:
        """Prepare the index for use; called once when the server starts and before a rebuild.

        Creates what the engine needs (an index and its settings, a text-search
        configuration) and switches on whatever feeds it. Idempotent; the
        default does nothing.

        Raises:
            InvalidInputError: the configuration names something the engine lacks.
            UnavailableError: the search engine cannot be reached.

        """
        return

    def background(self) -> AbstractAsyncContextManager[None]:
        """Return the work the index does while the server runs, as a context manager.

        Entered after :meth:`start` when the server starts and left when it
        stops (an index fed by an outbox drains it meanwhile); leaving lets
        work in flight finish. The default does nothing.
        """
        return nullcontext()


class Authenticator(Protocol):
    """Turns a bearer credential (API key or OAuth access token) into a Principal."""

    async def authenticate(self, bearer: str, *, resource: str | None = None) -> Principal:
        """Return who the credential belongs to and what it may do.

        ``resource`` is the URL the request was made to (RFC 8707 audience);
        a token issued for another resource is refused.

        Raises:
            AuthenticationError: missing, unknown, revoked or expired credential,
                or a token for another resource.
            PlanRequiredError: the account's plan does not include integrations.

        """
        ...
