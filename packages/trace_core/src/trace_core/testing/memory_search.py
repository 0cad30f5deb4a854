"""A simple reference :class:`~trace_core.ports.SearchIndex` kept in memory.

It ranks with a small BM25-like score (title above tags above content), stems
crudely, matches the last word as a prefix and highlights snippets with the
shared helpers of :mod:`trace_core.search`. It is the executable definition of
what the search contract suite expects, and the index the in-memory Trace uses.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from uuid import UUID

import msgspec

from trace_core.model import Entry, EntryFilter, SearchHit
from trace_core.ports import ProgressCallback, SearchIndex, SearchRequest, Storage
from trace_core.search import entry_snippet, parse_query, term_hits
from trace_core.testing.memory import entry_matches

__all__ = ["InMemorySearchIndex", "entry_matches_filter"]

TITLE_WEIGHT = 10.0
TAGS_WEIGHT = 5.0
CONTENT_WEIGHT = 1.0


def entry_matches_filter(entry: Entry, filters: EntryFilter) -> bool:
    """Return whether a live entry passes every filter of ``filters`` (``text`` aside).

    The same semantics as listing (:func:`trace_core.testing.memory.entry_matches`):
    tags compare exactly (the facade normalizes them); date ranges are inclusive on
    ``entry_date`` and half-open ``[after, before)`` on created/updated timestamps.
    """
    if entry.deleted_at is not None:
        return False
    if filters.text is not None:
        filters = msgspec.structs.replace(filters, text=None)
    return entry_matches(entry, filters)


class InMemorySearchIndex(SearchIndex):
    """Ranked search over entries held in a dict; the facade feeds it after each write."""

    indexed_by_storage = False
    """The facade must call :meth:`index` after writes (nothing in storage feeds it)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[UUID, UUID], Entry] = {}

    async def search(self, account_id: UUID, request: SearchRequest) -> list[SearchHit]:
        """Return hits ranked best first, only from ``account_id``."""
        query = parse_query(request.query)
        if query.is_empty or request.limit <= 0:
            return []
        terms, prefix = query.terms, query.prefix_last
        candidates = [
            e
            for (acct, _), e in self._entries.items()
            if acct == account_id and entry_matches_filter(e, request.filters)
        ]
        scored: list[tuple[float, Entry, list[int], list[int], list[int]]] = []
        doc_freq = [0] * len(terms)
        for entry in candidates:
            in_title = term_hits(entry.title or "", terms, prefix_last=prefix)
            in_tags = term_hits(" ".join(entry.tags), terms, prefix_last=prefix)
            in_content = term_hits(entry.content, terms, prefix_last=prefix)
            present = [t + g + c > 0 for t, g, c in zip(in_title, in_tags, in_content, strict=True)]
            for i, hit in enumerate(present):
                doc_freq[i] += hit
            if (request.match == "any" and any(present)) or all(present):
                scored.append((0.0, entry, in_title, in_tags, in_content))
        total = max(len(candidates), 1)
        idf = [math.log(1 + (total - df + 0.5) / (df + 0.5)) for df in doc_freq]
        ranked: list[tuple[float, Entry]] = []
        for _, entry, in_title, in_tags, in_content in scored:
            # Saturating term frequency (BM25's k1) with a length penalty on content.
            length_norm = 1 + len(entry.content) / 2000
            score = 0.0
            for i in range(len(terms)):
                tf = (
                    TITLE_WEIGHT * in_title[i]
                    + TAGS_WEIGHT * in_tags[i]
                    + CONTENT_WEIGHT * in_content[i] / length_norm
                )
                score += idf[i] * tf / (tf + 1.2)
            ranked.append((score, entry))
        ranked.sort(
            key=lambda pair: (
                -pair[0],
                -pair[1].entry_date.toordinal(),
                -pair[1].created_at.timestamp(),
                str(pair[1].entry_id),
            )
        )
        page = ranked[request.offset : request.offset + request.limit]
        return [
            SearchHit(
                entry=entry,
                score=round(score, 6),
                snippet=entry_snippet(entry.title, entry.content, entry.tags, query),
            )
            for score, entry in page
        ]

    async def count(self, account_id: UUID, request: SearchRequest) -> int:
        """Return how many live entries of ``account_id`` match."""
        everything = msgspec.structs.replace(request, limit=len(self._entries) + 1, offset=0)
        return len(await self.search(account_id, everything))

    async def index(self, entries: Sequence[Entry]) -> None:
        """Add or replace these entries; deleted ones are removed."""
        for entry in entries:
            key = (entry.account_id, entry.entry_id)
            if entry.deleted_at is None:
                self._entries[key] = entry
            else:
                self._entries.pop(key, None)

    async def remove(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Remove entries of ``account_id`` from the index."""
        for entry_id in entry_ids:
            self._entries.pop((account_id, entry_id), None)

    async def rebuild(self, storage: Storage, *, progress: ProgressCallback | None = None) -> int:
        """Re-read every live entry of every account from ``storage``."""
        async with storage.unit_of_work() as uow:
            accounts = await uow.accounts.list()
            per_account = [
                await uow.entries.list_all(a.account_id, include_deleted=False) for a in accounts
            ]
        everything = [e for entries in per_account for e in entries]
        self._entries.clear()
        for done, entry in enumerate(everything, start=1):
            self._entries[(entry.account_id, entry.entry_id)] = entry
            if progress is not None:
                progress(done, len(everything))
        return len(everything)
