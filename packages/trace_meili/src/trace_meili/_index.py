"""``MeilisearchIndex``: Trace's search port on one Meilisearch index.

Every account's entries share one index; every search carries an
``account_id = "…"`` filter built here from the caller's account, never from
anything the caller typed, so Meilisearch itself enforces tenancy.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, time
from typing import Any
from uuid import UUID

import anyio
import msgspec

from trace_core.errors import InvalidInputError, UnavailableError
from trace_core.model import Entry, EntryFilter, SearchHit
from trace_core.ports import ProgressCallback, SearchIndex, SearchRequest, Storage
from trace_core.search import (
    HIGHLIGHT_END,
    HIGHLIGHT_START,
    SearchOutbox,
    highlight_snippet,
    parse_query,
)
from trace_meili._client import MeiliClient

__all__ = [
    "INDEX_SETTINGS",
    "FallbackSearchIndex",
    "MeilisearchIndex",
    "build_filter",
    "entry_document",
]

INDEX_SETTINGS: dict[str, Any] = {
    # Order is rank: a match in the title beats one in the tags beats the content.
    "searchableAttributes": ["title", "tags", "content"],
    "filterableAttributes": [
        "id",
        "account_id",
        "stream",
        "tags",
        "status",
        "type",
        "is_archived",
        "is_pinned",
        "entry_day",
        "created_ts",
        "updated_ts",
    ],
    "sortableAttributes": ["entry_day", "created_ts"],
    "rankingRules": ["words", "typo", "proximity", "attribute", "sort", "exactness"],
    "typoTolerance": {"enabled": True},
}
"""Applied by :meth:`MeilisearchIndex.configure` at start."""

CROP_WORDS = 32
"""Snippet length in words (about 200 characters)."""


def _ts(value: datetime) -> float:
    return value.timestamp()


def _day(value: date) -> int:
    return value.toordinal()


def entry_document(entry: Entry) -> dict[str, Any]:
    """Return the Meilisearch document of a live entry: the entry plus filter fields."""
    document: dict[str, Any] = msgspec.to_builtins(entry)
    document.update(
        id=str(entry.entry_id),
        stream=str(entry.stream_id) if entry.stream_id else "inbox",
        entry_day=_day(entry.entry_date),
        created_ts=_ts(entry.created_at),
        updated_ts=_ts(entry.updated_at),
    )
    return document


_ENTRY_FIELDS = frozenset(Entry.__struct_fields__)


def document_entry(document: dict[str, Any]) -> Entry:
    """Return the entry stored in a document."""
    return msgspec.convert(
        {k: v for k, v in document.items() if k in _ENTRY_FIELDS}, Entry, strict=False
    )


def _quote(value: str) -> str:
    # Meilisearch filter strings are double-quoted with backslash escapes; a
    # JSON string literal is exactly that.
    return json.dumps(value, ensure_ascii=False)


def _epoch_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def build_filter(account_id: UUID, filters: EntryFilter) -> str:
    """Return the Meilisearch filter expression for an account and Trace filters.

    The account clause always comes first and is ANDed with the rest; every
    value is a quoted string or a number, so no filter value can change the
    expression's structure.
    """
    clauses = [f"account_id = {_quote(str(account_id))}"]
    if filters.stream == "inbox":
        clauses.append('stream = "inbox"')
    elif isinstance(filters.stream, UUID):
        clauses.append(f"stream = {_quote(str(filters.stream))}")
    if filters.tags:
        tags = list(dict.fromkeys(filters.tags))
        if filters.tags_mode == "all":
            clauses.extend(f"tags = {_quote(tag)}" for tag in tags)
        else:
            clauses.append(f"tags IN [{', '.join(_quote(tag) for tag in tags)}]")
    if filters.status is not None:
        clauses.append(f"status = {_quote(filters.status)}")
    if filters.type is not None:
        clauses.append(f"type = {_quote(filters.type)}")
    if filters.is_archived is not None:
        clauses.append(f"is_archived = {str(filters.is_archived).lower()}")
    if filters.is_pinned is not None:
        clauses.append(f"is_pinned = {str(filters.is_pinned).lower()}")
    if filters.start_date is not None:
        clauses.append(f"entry_day >= {_day(filters.start_date)}")
    if filters.end_date is not None:
        clauses.append(f"entry_day <= {_day(filters.end_date)}")
    bounds = (
        ("created_ts", ">=", filters.created_after),
        ("created_ts", "<", filters.created_before),
        ("updated_ts", ">=", filters.updated_after),
        ("updated_ts", "<", filters.updated_before),
    )
    for field, op, value in bounds:
        if value is not None:
            clauses.append(f"{field} {op} {_ts(value)!r}")
    return " AND ".join(clauses)


class MeilisearchIndex(SearchIndex):
    """Search on Meilisearch: typo-tolerant, highlighted, filtered server-side.

    Fed by the search outbox (``indexed_by_storage``): the facade never calls
    :meth:`index` after a write; the :class:`~trace_meili.OutboxWorker` does.
    Given the outbox, the index owns its feed: :meth:`start` switches the
    outbox on and applies the index settings, :meth:`background` runs the
    worker while the server is up.

    Args:
        client: a :class:`~trace_meili.MeiliClient` for the index.
        outbox: where the storage records changed entries (None: not fed here).
        storage: read by the worker for each entry's current state (needed with ``outbox``).

    """

    indexed_by_storage = True
    """Writes reach the index through the outbox, not through the facade."""

    def __init__(
        self,
        client: MeiliClient,
        *,
        outbox: SearchOutbox | None = None,
        storage: Storage | None = None,
    ) -> None:
        if outbox is not None and storage is None:
            raise ValueError("an outbox-fed index needs the storage its worker reads")
        self._client = client
        self._outbox = outbox
        self._storage = storage

    async def start(self) -> None:
        """Switch the outbox on (every write from now on is recorded) and configure the index."""
        if self._outbox is not None:
            await self._outbox.enable()
        await self.configure()

    @asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        """Drain the outbox into the index until the context is left (nothing without one)."""
        if self._outbox is None or self._storage is None:
            yield
            return
        from trace_meili._worker import OutboxWorker

        worker = OutboxWorker(self._outbox, self._storage, self)
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(worker.run, stop)
            try:
                yield
            finally:
                stop.set()

    async def configure(self) -> None:
        """Create the index and apply :data:`INDEX_SETTINGS` (call at start)."""
        await self._client.update_settings(INDEX_SETTINGS)

    def search_params(self, account_id: UUID, request: SearchRequest) -> dict[str, Any]:
        """Return the Meilisearch search parameters for a request (public for tests)."""
        if request.offset < 0:
            raise InvalidInputError("offset", "must not be negative")
        filters = msgspec.structs.replace(request.filters, text=None)
        return {
            "filter": build_filter(account_id, filters),
            "limit": request.limit,
            "offset": request.offset,
            # "last" drops words from the end until something matches: "any word".
            "matchingStrategy": "all" if request.match == "all" else "last",
            "attributesToHighlight": ["title", "tags", "content"],
            "attributesToCrop": ["content"],
            "cropLength": CROP_WORDS,
            "cropMarker": "…",
            "highlightPreTag": HIGHLIGHT_START,
            "highlightPostTag": HIGHLIGHT_END,
            "showRankingScore": True,
            # Ties (same relevance) in the list order, so pages never overlap.
            "sort": ["entry_day:desc", "created_ts:desc"],
        }

    async def search(self, account_id: UUID, request: SearchRequest) -> list[SearchHit]:
        """Return ranked hits of ``account_id`` only.

        Raises:
            InvalidInputError: the query is empty.
            UnavailableError: Meilisearch is down ("search temporarily unavailable").

        """
        query = parse_query(request.query)
        if query.is_empty or request.limit <= 0:
            return []
        params = self.search_params(account_id, request)
        answer = await self._client.search(" ".join(query.terms), params)
        hits: list[SearchHit] = []
        for document in answer.get("hits", []):
            entry = document_entry(document)
            if entry.account_id != account_id:  # defence in depth: never leak
                continue
            hits.append(
                SearchHit(
                    entry=entry,
                    score=float(document.get("_rankingScore", 0.0)),
                    snippet=_snippet(document, entry, query.terms, query.prefix_last),
                )
            )
        return hits

    async def count(self, account_id: UUID, request: SearchRequest) -> int:
        """Return Meilisearch's estimate of the matching entries of ``account_id``.

        Raises:
            UnavailableError: Meilisearch is down.

        """
        query = parse_query(request.query)
        if query.is_empty:
            return 0
        params = self.search_params(account_id, msgspec.structs.replace(request, offset=0))
        params.update(limit=0, attributesToHighlight=[], attributesToCrop=[])
        answer = await self._client.search(" ".join(query.terms), params)
        return int(answer.get("estimatedTotalHits", answer.get("totalHits", 0)))

    async def index(self, entries: Sequence[Entry]) -> None:
        """Upsert live entries and delete the others."""
        live = [entry_document(e) for e in entries if e.deleted_at is None]
        gone = [str(e.entry_id) for e in entries if e.deleted_at is not None]
        if live:
            await self._client.add_documents(live)
        if gone:
            await self._delete_ids(gone)

    async def _delete_ids(self, ids: Sequence[str]) -> None:
        await self._client.delete_by_filter(f"id IN [{', '.join(_quote(i) for i in ids)}]")

    async def remove(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Delete these entries of ``account_id`` from the index."""
        if not entry_ids:
            return
        ids = ", ".join(_quote(str(i)) for i in entry_ids)
        await self._client.delete_by_filter(
            f"account_id = {_quote(str(account_id))} AND id IN [{ids}]"
        )

    async def rebuild(
        self, storage: Storage, *, progress: ProgressCallback | None = None, batch: int = 1000
    ) -> int:
        """Re-send every live entry of every account; drop documents of vanished entries."""
        async with storage.unit_of_work() as uow:
            accounts = await uow.accounts.list()
        totals: list[list[Entry]] = []
        for account in accounts:
            async with storage.unit_of_work(account_id=account.account_id) as uow:
                totals.append(await uow.entries.list_all(account.account_id, include_deleted=False))
        everything = [e for entries in totals for e in entries]
        done = 0
        for account, entries in zip(accounts, totals, strict=True):
            # Documents of this account not re-sent are stale: delete them first.
            await self._client.delete_by_filter(f"account_id = {_quote(str(account.account_id))}")
            for start in range(0, len(entries), batch):
                chunk = entries[start : start + batch]
                await self._client.add_documents([entry_document(e) for e in chunk])
                done += len(chunk)
                if progress is not None:
                    progress(done, len(everything))
        if progress is not None and not everything:
            progress(0, 0)
        return len(everything)


def _snippet(document: dict[str, Any], entry: Entry, terms: Sequence[str], prefix: bool) -> str:
    formatted = document.get("_formatted") or {}
    for field in ("content", "title"):
        text = formatted.get(field)
        if isinstance(text, str) and HIGHLIGHT_START in text:
            return text
    tags = formatted.get("tags")
    if isinstance(tags, list) and any(HIGHLIGHT_START in str(t) for t in tags):
        return " ".join(str(t) for t in tags)
    # A typo-tolerant match Meilisearch did not mark: mark what we can ourselves.
    return highlight_snippet(entry.content, terms, prefix_last=prefix)


class FallbackSearchIndex(SearchIndex):
    """Search ``primary``; when it is unavailable, answer from ``fallback`` instead.

    Writes go to each index as its own ``indexed_by_storage`` flag requires:
    :meth:`index` is forwarded to whichever is not fed by storage.

    Args:
        primary: the index to use while it is up (e.g. Meilisearch).
        fallback: the index to use when it is down (e.g. the SQL index).

    """

    def __init__(self, primary: SearchIndex, fallback: SearchIndex) -> None:
        self.primary = primary
        self.fallback = fallback

    @property
    def indexed_by_storage(self) -> bool:
        """True when storage feeds both indexes (the facade then never calls index())."""
        return all(getattr(t, "indexed_by_storage", False) for t in (self.primary, self.fallback))

    async def search(self, account_id: UUID, request: SearchRequest) -> list[SearchHit]:
        """Search the primary, or the fallback if the primary is unavailable."""
        try:
            return await self.primary.search(account_id, request)
        except UnavailableError:
            return await self.fallback.search(account_id, request)

    async def count(self, account_id: UUID, request: SearchRequest) -> int:
        """Count on the primary, or on the fallback if the primary is unavailable."""
        try:
            return await self.primary.count(account_id, request)
        except UnavailableError:
            return await self.fallback.count(account_id, request)

    async def index(self, entries: Sequence[Entry]) -> None:
        """Forward to the indexes that are not fed by storage."""
        for target in (self.primary, self.fallback):
            if not getattr(target, "indexed_by_storage", False):
                await target.index(entries)

    async def remove(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Remove from both."""
        await self.fallback.remove(account_id, entry_ids)
        await self.primary.remove(account_id, entry_ids)

    async def rebuild(self, storage: Storage, *, progress: ProgressCallback | None = None) -> int:
        """Rebuild both; return the primary's count."""
        await self.fallback.rebuild(storage)
        return await self.primary.rebuild(storage, progress=progress)

    async def start(self) -> None:
        """Start both indexes."""
        await self.primary.start()
        await self.fallback.start()

    @asynccontextmanager
    async def background(self) -> AsyncIterator[None]:
        """Run both indexes' background work."""
        async with self.primary.background(), self.fallback.background():
            yield
