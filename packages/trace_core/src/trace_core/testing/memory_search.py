"""A simple reference :class:`~trace_core.ports.SearchIndex` kept in memory.

It ranks with a small BM25-like score (title above tags, the stream's name
and the images' file names, above content), stems crudely, matches the last
word as a prefix, phrases in order, CJK words as substrings and compounds by
their joined form (:func:`~trace_core.search_text.search_extra`), and
highlights snippets with the shared helpers of :mod:`trace_core.search`. It
is the executable definition of what the search contract suite expects, and
the index the in-memory Trace uses.

Given the ``storage`` its entries are written to, it reads the current stream
names and file names at search time (so a rename or a new image is searched
at once); without one, those two fields are empty.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from uuid import UUID

import msgspec

from trace_core.model import Entry, EntryFilter, SearchHit
from trace_core.ports import ProgressCallback, SearchIndex, SearchRequest, Storage
from trace_core.search import Alternative, ParsedQuery, entry_snippet, fold, stem
from trace_core.search_text import is_cjk, near_words, search_extra, tokenize, vocabulary
from trace_core.testing.memory import entry_matches

__all__ = ["InMemorySearchIndex", "entry_matches_filter"]

TITLE_WEIGHT = 10.0
TAGS_WEIGHT = 5.0
NAMES_WEIGHT = 3.0
"""The stream's name and the images' file names: below the title and tags."""
CONTENT_WEIGHT = 1.0


class _Field(msgspec.Struct, frozen=True):
    weight: float
    text: str
    """Lower-cased, accents folded (CJK words are matched in it as substrings)."""
    words: tuple[str, ...]
    stems: tuple[str, ...]

    @classmethod
    def of(cls, weight: float, text: str) -> _Field:
        words = tuple(fold(w) for w in tokenize(text))
        return cls(weight, fold(text), words, tuple(stem(w) for w in words))

    def hits(self, alternative: Alternative, prefix: bool) -> int:
        """Return how often ``alternative`` (a word or a phrase) occurs in this field."""
        if len(alternative) == 1:
            word = fold(alternative[0])
            if is_cjk(word):
                return self.text.count(word)
            if prefix:
                return sum(1 for w in self.words if w.startswith(stem(word)))
            target = stem(word)
            return sum(1 for s in self.stems if s == target)
        targets = tuple(stem(fold(w)) for w in alternative)
        n = len(targets)
        return sum(1 for i in range(len(self.stems) - n + 1) if self.stems[i : i + n] == targets)


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


def _stream_name(streams: dict[UUID, str], entry: Entry) -> str:
    return streams.get(entry.stream_id, "") if entry.stream_id is not None else ""


class InMemorySearchIndex(SearchIndex):
    """Ranked search over entries held in a dict; the facade feeds it after each write."""

    indexed_by_storage = False
    """The facade must call :meth:`index` after writes (nothing in storage feeds it)."""

    def __init__(self, storage: Storage | None = None) -> None:
        self._storage = storage
        self._entries: dict[tuple[UUID, UUID], Entry] = {}
        self._fields: dict[tuple[UUID, UUID], tuple[_Field, ...]] = {}
        self._words: dict[tuple[UUID, UUID], set[str]] = {}

    async def _names(self, account_id: UUID) -> tuple[dict[UUID, str], dict[UUID, str]]:
        """Return the account's stream names and each entry's file names (joined)."""
        if self._storage is None:
            return {}, {}
        async with self._storage.unit_of_work(account_id=account_id) as uow:
            streams = await uow.streams.list(account_id, include_archived=True)
            ids = [e for (acct, e) in self._entries if acct == account_id]
            attachments = await uow.attachments.list_for_entries(account_id, ids)
        files: dict[UUID, list[str]] = {}
        for attachment in attachments:
            if attachment.filename and attachment.removed_at is None:
                files.setdefault(attachment.entry_id, []).append(attachment.filename)
        return (
            {s.stream_id: s.name for s in streams},
            {entry_id: " ".join(names) for entry_id, names in files.items()},
        )

    async def search(self, account_id: UUID, request: SearchRequest) -> list[SearchHit]:
        """Return hits ranked best first, only from ``account_id``."""
        query = request.parsed_query()
        if query.is_empty or request.limit <= 0:
            return []
        ranked = await self._ranked(account_id, request, query)
        page = ranked[request.offset : request.offset + request.limit]
        return [
            SearchHit(
                entry=entry,
                score=round(score, 6),
                snippet=entry_snippet(entry.title, entry.content, entry.tags, query),
            )
            for score, entry in page
        ]

    async def _ranked(
        self, account_id: UUID, request: SearchRequest, query: ParsedQuery
    ) -> list[tuple[float, Entry]]:
        streams, files = await self._names(account_id)
        clauses = query.all_clauses
        prefix = query.prefix_word
        candidates = [
            e
            for (acct, _), e in self._entries.items()
            if acct == account_id and entry_matches_filter(e, request.filters)
        ]
        matched: list[tuple[Entry, list[tuple[float, float]]]] = []
        doc_freq = [0] * len(clauses)
        for entry in candidates:
            fields = (
                *self._fields[(account_id, entry.entry_id)],
                _Field.of(NAMES_WEIGHT, _stream_name(streams, entry)),
                _Field.of(NAMES_WEIGHT, files.get(entry.entry_id, "")),
            )
            if any(f.hits(alt, False) for alt in query.excluded for f in fields):
                continue
            per_clause: list[tuple[float, float]] = []
            for clause in clauses:
                weighted, length = 0.0, 1.0
                for f in fields:
                    n = sum(f.hits(alt, prefix is not None and alt == (prefix,)) for alt in clause)
                    if f.weight == CONTENT_WEIGHT:
                        length = 1 + len(f.words) / 300
                        weighted += f.weight * n / length
                    else:
                        weighted += f.weight * n
                per_clause.append((weighted, length))
            present = [w > 0 for w, _ in per_clause]
            for i, hit in enumerate(present):
                doc_freq[i] += hit
            if any(present) if request.match == "any" else all(present):
                matched.append((entry, per_clause))
        total = max(len(candidates), 1)
        idf = [math.log(1 + (total - df + 0.5) / (df + 0.5)) for df in doc_freq]
        ranked: list[tuple[float, Entry]] = []
        for entry, per_clause in matched:
            score = 0.0
            for i, (tf, _) in enumerate(per_clause):
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
        return ranked

    async def count(self, account_id: UUID, request: SearchRequest) -> int:
        """Return how many live entries of ``account_id`` match."""
        query = request.parsed_query()
        if query.is_empty:
            return 0
        found = len(await self._ranked(account_id, request, query))
        return found if request.count_limit is None else min(found, request.count_limit)

    async def similar_words(
        self, account_id: UUID, words: Sequence[str]
    ) -> dict[str, tuple[str, ...]]:
        """Near spellings of the words the account has no entry with, from its own words."""
        known: set[str] = set()
        for (acct, _), entry_words in self._words.items():
            if acct == account_id:
                known |= entry_words
        found: dict[str, tuple[str, ...]] = {}
        for word in words:
            if word in known:
                continue
            same_start = [w for w in known if w[:1] == word[:1]]
            found[word] = tuple(near_words(word, sorted(same_start)))
        return found

    async def index(self, entries: Sequence[Entry]) -> None:
        """Add or replace these entries; deleted ones are removed."""
        for entry in entries:
            key = (entry.account_id, entry.entry_id)
            if entry.deleted_at is None:
                self._put(entry)
            else:
                self._drop(key)

    def _put(self, entry: Entry) -> None:
        key = (entry.account_id, entry.entry_id)
        tags = " ".join(entry.tags)
        self._entries[key] = entry
        self._fields[key] = (
            _Field.of(TITLE_WEIGHT, entry.title or ""),
            _Field.of(TAGS_WEIGHT, tags),
            _Field.of(CONTENT_WEIGHT, entry.content),
            _Field.of(CONTENT_WEIGHT / 2, search_extra(entry.title, entry.content, tags)),
        )
        self._words[key] = vocabulary([entry.title, entry.content, tags])

    def _drop(self, key: tuple[UUID, UUID]) -> None:
        self._entries.pop(key, None)
        self._fields.pop(key, None)
        self._words.pop(key, None)

    async def remove(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Remove entries of ``account_id`` from the index."""
        for entry_id in entry_ids:
            self._drop((account_id, entry_id))

    async def rebuild(self, storage: Storage, *, progress: ProgressCallback | None = None) -> int:
        """Re-read every live entry of every account from ``storage``."""
        async with storage.unit_of_work() as uow:
            accounts = await uow.accounts.list()
            per_account = [
                await uow.entries.list_all(a.account_id, include_deleted=False) for a in accounts
            ]
        everything = [e for entries in per_account for e in entries]
        self._entries.clear()
        self._fields.clear()
        self._words.clear()
        for done, entry in enumerate(everything, start=1):
            self._put(entry)
            if progress is not None:
                progress(done, len(everything))
        return len(everything)
