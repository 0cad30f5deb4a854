"""``OutboxWorker``: drains the search outbox into Meilisearch, with retries.

Each round claims due items, looks each entry up as it is *now* (live →
upsert, deleted or purged → delete), applies them in one batch and forgets
them. When Meilisearch is down the items stay, hidden for an exponentially
growing delay, so writes keep succeeding and the index catches up once the
engine is back.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import anyio

from trace_core.errors import TraceError
from trace_core.model import Entry
from trace_core.ports import Storage
from trace_core.search import SearchOutbox
from trace_meili._documents import read_documents

if TYPE_CHECKING:
    from trace_meili._index import MeilisearchIndex

__all__ = ["OutboxWorker"]

log = logging.getLogger("trace.meili.outbox")

_Key = tuple[UUID, UUID]
_State = tuple[int, datetime | None, datetime, str, tuple[str, ...]] | None
"""What was sent for an entry: version, deleted_at, updated_at, stream name and file
names (None: no such entry)."""


_RESENDS = 3
"""Rounds of sending an entry that keeps changing while it is sent."""


def _state(entry: Entry | None, documents: dict[str, dict[str, Any]]) -> _State:
    if entry is None:
        return None
    document = documents.get(str(entry.entry_id), {})
    return (
        entry.version,
        entry.deleted_at,
        entry.updated_at,
        str(document.get("stream_name", "")),
        tuple(document.get("attachment_names", ())),
    )


def _by_id(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {str(document["id"]): document for document in documents}


class OutboxWorker:
    """Moves recorded entry changes from the outbox into a :class:`MeilisearchIndex`.

    Args:
        outbox: where the storage records changed entries.
        storage: read to find each entry's current state.
        index: the Meilisearch index to update.
        batch: items per round.
        base_delay: seconds before the first retry; doubles per attempt.
        max_delay: longest wait between retries.
        clock: epoch seconds (tests pass a fake).
        jitter: spreads retries of many workers (0 disables, for tests).

    """

    def __init__(
        self,
        outbox: SearchOutbox,
        storage: Storage,
        index: MeilisearchIndex,
        *,
        batch: int = 500,
        base_delay: float = 1.0,
        max_delay: float = 300.0,
        clock: Callable[[], float] = time.time,
        jitter: float = 0.1,
    ) -> None:
        self.outbox = outbox
        self.storage = storage
        self.index = index
        self.batch = batch
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.clock = clock
        self.jitter = jitter

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after ``attempts`` failed tries (exponential, capped)."""
        delay: float = min(self.max_delay, self.base_delay * (2**attempts))
        if self.jitter:
            delay *= 1 + random.uniform(0, self.jitter)  # noqa: S311 - not for security
        return delay

    async def run_once(self) -> int:
        """Apply one batch of due items; return how many were applied (0 if none or failed).

        An entry that changed between being read and being sent may have reached
        the index after a newer state another worker sent (replicas share the
        outbox and both may have completed the newer item), so it is sent again
        as it is now, until what was sent (its stream name and file names too) is
        still the entry's state.
        """
        items = await self.outbox.claim(self.batch, now=self.clock())
        if not items:
            return 0
        keys = list(dict.fromkeys((item.account_id, item.entry_id) for item in items))
        try:
            for _ in range(_RESENDS):
                keys = sorted(await self._changed_since(await self._apply(keys)))
                if not keys:
                    break
        except TraceError as exc:
            attempts = max(item.attempts for item in items)
            retry_at = self.clock() + self.backoff(attempts)
            log.warning(
                "search outbox: %d changes not indexed (%s); retry in %.0f s",
                len(items),
                exc.code,
                retry_at - self.clock(),
            )
            await self.outbox.retry(
                [item.id for item in items], available_at=retry_at, error=exc.code
            )
            return 0
        if keys:  # still changing: the writes that change them leave items of their own
            log.info("search outbox: %d entries changed while being indexed", len(keys))
        await self.outbox.complete([item.id for item in items])
        return len(items)

    async def _read(
        self, keys: list[_Key], *, documents: bool = False
    ) -> tuple[dict[_Key, Entry], list[dict[str, Any]]]:
        """Return the entries as they are now and, with ``documents``, the live ones' documents.

        One unit of work, so a document's stream name and file names are those
        of the same moment as its entry.
        """
        current: dict[_Key, Entry] = {}
        async with self.storage.unit_of_work() as uow:
            for account_id, entry_id in keys:
                entry = await uow.entries.get(account_id, entry_id, include_deleted=True)
                if entry is not None:
                    current[(account_id, entry_id)] = entry
            made = await read_documents(uow, list(current.values())) if documents else []
        return current, made

    async def _apply(self, keys: list[_Key]) -> dict[_Key, _State]:
        """Make the index match each entry as read now; return the states sent."""
        current, documents = await self._read(keys, documents=True)
        gone: dict[UUID, list[UUID]] = {}
        for account_id, entry_id in keys:
            entry = current.get((account_id, entry_id))
            if entry is None or entry.deleted_at is not None:
                gone.setdefault(account_id, []).append(entry_id)
        await self.index.index_documents(documents)
        for account_id, entry_ids in gone.items():
            await self.index.remove(account_id, entry_ids)
        made = _by_id(documents)
        return {key: _state(current.get(key), made) for key in keys}

    async def _changed_since(self, sent: dict[_Key, _State]) -> set[_Key]:
        """Return the entries whose state is no longer the one sent."""
        now, documents = await self._read(list(sent), documents=True)
        made = _by_id(documents)
        return {key for key, state in sent.items() if _state(now.get(key), made) != state}

    async def drain(self) -> int:
        """Apply every due item now (for ``trace reindex`` and tests); return the count."""
        total = 0
        while applied := await self.run_once():
            total += applied
        return total

    async def run(self, stop: anyio.Event, *, idle: float = 1.0) -> None:
        """Drain until ``stop`` is set, waiting ``idle`` seconds when there is nothing to do."""
        while not stop.is_set():
            try:
                applied = await self.run_once()
            except TraceError as exc:  # storage trouble: try again later
                log.warning("search outbox: cannot read the outbox (%s)", exc.code)
                applied = 0
            if not applied:
                with anyio.move_on_after(idle):
                    await stop.wait()
