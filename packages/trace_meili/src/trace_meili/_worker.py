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
from typing import TYPE_CHECKING
from uuid import UUID

import anyio

from trace_core.errors import TraceError
from trace_core.model import Entry
from trace_core.ports import Storage
from trace_core.search import OutboxItem, SearchOutbox

if TYPE_CHECKING:
    from trace_meili._index import MeilisearchIndex

__all__ = ["OutboxWorker"]

log = logging.getLogger("trace.meili.outbox")


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
        """Apply one batch of due items; return how many were applied (0 if none or failed)."""
        items = await self.outbox.claim(self.batch, now=self.clock())
        if not items:
            return 0
        try:
            await self._apply(items)
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
        await self.outbox.complete([item.id for item in items])
        return len(items)

    async def _apply(self, items: list[OutboxItem]) -> None:
        keys = list(dict.fromkeys((item.account_id, item.entry_id) for item in items))
        current: dict[tuple[UUID, UUID], Entry] = {}
        async with self.storage.unit_of_work() as uow:
            for account_id, entry_id in keys:
                entry = await uow.entries.get(account_id, entry_id, include_deleted=True)
                if entry is not None:
                    current[(account_id, entry_id)] = entry
        live = [e for e in current.values() if e.deleted_at is None]
        gone: dict[UUID, list[UUID]] = {}
        for account_id, entry_id in keys:
            entry = current.get((account_id, entry_id))
            if entry is None or entry.deleted_at is not None:
                gone.setdefault(account_id, []).append(entry_id)
        if live:
            await self.index.index(live)
        for account_id, entry_ids in gone.items():
            await self.index.remove(account_id, entry_ids)

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
