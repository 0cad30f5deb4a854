"""``MeilisearchIndex``: Trace's search port on one Meilisearch index.

Every account's entries share one index; every search carries an
``account_id = "…"`` filter built here from the caller's account, never from
anything the caller typed, so Meilisearch itself enforces tenancy.

The query is the facade's parsed query (:meth:`SearchRequest.parsed_query`)
rendered in Meilisearch's syntax by :mod:`trace_meili._query`: phrases quoted,
exclusions as ``-word`` / ``-"a phrase"``, ``OR`` as a federated search of the
variants. Meilisearch does itself what the SQL indexes need
:func:`~trace_core.search_text.search_extra` and a vocabulary for: typos
(``typoTolerance``), compounds (a query word is also tried split in two,
``wifi`` → ``wi fi``, and neighbouring query words joined, ``e mail`` →
``email``) and Chinese, Japanese and Korean (its tokenizer, charabia, cuts them
into words, in documents and queries alike; a run is found by the words it is
cut into, not by any two characters of it).
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
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
)
from trace_meili._client import MeiliClient
from trace_meili._documents import (
    day,
    document_entry,
    documents_with,
    entry_document,
    read_documents,
    timestamp,
)
from trace_meili._query import variants

__all__ = [
    "INDEX_SETTINGS",
    "FallbackSearchIndex",
    "MeilisearchIndex",
    "build_filter",
    "entry_document",
]

INDEX_SETTINGS: dict[str, Any] = {
    # Order is rank: a match in the title beats one in the tags, the stream's
    # name or a file name, which beats one in the content.
    "searchableAttributes": ["title", "tags", "stream_name", "attachment_names", "content"],
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
    # As typo_distance: one typo from 4 letters, two from 8 (Meilisearch: 5 and 9).
    "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8}},
}
"""Applied by :meth:`MeilisearchIndex.configure` at start."""

HIGHLIGHTED = ["title", "tags", "stream_name", "attachment_names", "content"]
"""The searched fields Meilisearch marks matches in (a snippet comes from one of them)."""

CROP_WORDS = 32
"""Snippet length in words (about 200 characters)."""


def _quote(value: str) -> str:
    # Meilisearch filter strings are double-quoted with backslash escapes; a
    # JSON string literal is exactly that.
    return json.dumps(value, ensure_ascii=False)


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
        clauses.append(f"entry_day >= {day(filters.start_date)}")
    if filters.end_date is not None:
        clauses.append(f"entry_day <= {day(filters.end_date)}")
    bounds = (
        ("created_ts", ">=", filters.created_after),
        ("created_ts", "<", filters.created_before),
        ("updated_ts", ">=", filters.updated_after),
        ("updated_ts", "<", filters.updated_before),
    )
    for field, op, value in bounds:
        if value is not None:
            clauses.append(f"{field} {op} {timestamp(value)!r}")
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
            "attributesToHighlight": HIGHLIGHTED,
            "attributesToCrop": ["content"],
            "cropLength": CROP_WORDS,
            "cropMarker": "…",
            "highlightPreTag": HIGHLIGHT_START,
            "highlightPostTag": HIGHLIGHT_END,
            "showRankingScore": True,
            # Ties (same relevance) in the list order, so pages never overlap.
            "sort": ["entry_day:desc", "created_ts:desc"],
        }

    async def _ask(self, queries: list[str], params: dict[str, Any]) -> dict[str, Any]:
        """Run one search, or a federated search of several variants (limit and offset shared)."""
        if len(queries) == 1:
            return await self._client.search(queries[0], params)
        page = {"limit": params.pop("limit"), "offset": params.pop("offset")}
        return await self._client.federated_search([{**params, "q": q} for q in queries], page)

    async def search(self, account_id: UUID, request: SearchRequest) -> list[SearchHit]:
        """Return ranked hits of ``account_id`` only.

        Raises:
            InvalidInputError: the query is empty.
            UnavailableError: Meilisearch is down ("search temporarily unavailable").

        """
        query = request.parsed_query()
        queries = variants(query)
        if not queries or request.limit <= 0:
            return []
        answer = await self._ask(queries, self.search_params(account_id, request))
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
        queries = variants(request.parsed_query())
        if not queries:
            return 0
        params = self.search_params(account_id, msgspec.structs.replace(request, offset=0))
        params.update(limit=0, attributesToHighlight=[], attributesToCrop=[])
        answer = await self._ask(queries, params)
        found = int(answer.get("estimatedTotalHits", answer.get("totalHits", 0)))
        return found if request.count_limit is None else min(found, request.count_limit)

    async def index(self, entries: Sequence[Entry]) -> None:
        """Upsert live entries and delete the others.

        With the storage, each document carries its stream's name and its file
        names, read now; without, those are left empty (the outbox worker reads
        them itself and calls :meth:`index_documents`).
        """
        live = [e for e in entries if e.deleted_at is None]
        gone = [str(e.entry_id) for e in entries if e.deleted_at is not None]
        if live and self._storage is not None:
            async with self._storage.unit_of_work() as uow:
                documents = await read_documents(uow, live)
        else:
            documents = [entry_document(e) for e in live]
        await self.index_documents(documents)
        if gone:
            await self._delete_ids(gone)

    async def index_documents(self, documents: Sequence[dict[str, Any]]) -> None:
        """Add or replace documents made by :func:`~trace_meili._documents.read_documents`."""
        if documents:
            await self._client.add_documents(documents)

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
        totals: list[list[dict[str, Any]]] = []
        for account in accounts:
            async with storage.unit_of_work(account_id=account.account_id) as uow:
                entries = await uow.entries.list_all(account.account_id, include_deleted=False)
                streams = await uow.streams.list(
                    account.account_id, include_archived=True, with_counts=False
                )
                attachments = await uow.attachments.list_all(account.account_id)
            totals.append(documents_with(entries, streams, attachments))
        everything = sum(len(documents) for documents in totals)
        done = 0
        for account, documents in zip(accounts, totals, strict=True):
            # Documents of this account not re-sent are stale: delete them first.
            await self._client.delete_by_filter(f"account_id = {_quote(str(account.account_id))}")
            for start in range(0, len(documents), batch):
                chunk = documents[start : start + batch]
                await self._client.add_documents(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, everything)
        if progress is not None and not everything:
            progress(0, 0)
        return everything


_JOINED_MARKS = re.compile(
    f"{re.escape(HIGHLIGHT_END)}([-.'\u2019_/\u2010\u2011]){re.escape(HIGHLIGHT_START)}"
)


def _joined(text: str) -> str:
    """Mark a compound Meilisearch matched in parts as one (``**Wi**-**Fi**`` → ``**Wi-Fi**``)."""
    return _JOINED_MARKS.sub(r"\1", text)


def _snippet(document: dict[str, Any], entry: Entry, terms: Sequence[str], prefix: bool) -> str:
    formatted = document.get("_formatted") or {}
    for field in ("content", "title"):
        text = formatted.get(field)
        if isinstance(text, str) and HIGHLIGHT_START in text:
            return _joined(text)
    for field in ("tags", "attachment_names"):
        values = formatted.get(field)
        if isinstance(values, list) and any(HIGHLIGHT_START in str(v) for v in values):
            return " ".join(str(v) for v in values)
    name = formatted.get("stream_name")
    if isinstance(name, str) and HIGHLIGHT_START in name:
        return name
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
