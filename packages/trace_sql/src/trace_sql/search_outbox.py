"""The search outbox on SQL: which entries changed, recorded in the entry's own transaction.

Triggers from the ``0100_search`` migration append a row to ``search_outbox``
for every insert, update and delete on ``entries`` while ``search_config.outbox``
is ``on``. A worker (``trace_meili.OutboxWorker``) drains it into the external
index; the outbox survives the engine being down, so nothing written is lost.

The worker serves every account: on PostgreSQL its transactions here are
``all_accounts`` ones (row-level security, :mod:`trace_sql.rls`).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from trace_core.search import OutboxItem, SearchOutbox
from trace_sql.storage import SqlStorage

__all__ = ["SqlSearchOutbox", "search_outbox"]

search_outbox = sa.table(
    "search_outbox",
    sa.column("id", sa.BigInteger()),
    sa.column("account_id", sa.Uuid()),
    sa.column("entry_id", sa.Uuid()),
    sa.column("enqueued_at", sa.Double()),
    sa.column("available_at", sa.Double()),
    sa.column("attempts", sa.Integer()),
    sa.column("last_error", sa.Text()),
)
_config = sa.table("search_config", sa.column("name", sa.String()), sa.column("value", sa.String()))


class SqlSearchOutbox(SearchOutbox):
    """:class:`~trace_core.search.SearchOutbox` on the ``search_outbox`` table."""

    def __init__(self, storage: SqlStorage) -> None:
        self._storage = storage

    async def enable(self) -> None:
        """Make the triggers record every entry change from now on."""
        await self._set("on")

    async def disable(self) -> None:
        """Stop recording changes (switching back to the SQL index)."""
        await self._set("off")

    async def _set(self, value: str) -> None:
        async with self._storage.connect(write=True) as conn:
            await conn.execute(
                sa.update(_config).where(_config.c.name == "outbox").values(value=value)
            )

    async def claim(self, limit: int, *, now: float) -> list[OutboxItem]:
        """Return up to ``limit`` due items, oldest first.

        Items are not locked: two workers may both apply one, which is harmless
        because applying means "make the index match the entry as it is now" (and
        the worker sends an entry again when it changed while being sent).
        """
        async with self._storage.connect(all_accounts=True) as conn:
            result = await conn.execute(
                sa.select(
                    search_outbox.c.id,
                    search_outbox.c.account_id,
                    search_outbox.c.entry_id,
                    search_outbox.c.attempts,
                )
                .where(search_outbox.c.available_at <= now)
                .order_by(search_outbox.c.id)
                .limit(limit)
            )
            return [
                OutboxItem(
                    id=row.id,
                    account_id=row.account_id,
                    entry_id=row.entry_id,
                    attempts=row.attempts,
                )
                for row in result
            ]

    async def complete(self, ids: Sequence[int]) -> None:
        """Delete items that reached the index."""
        if not ids:
            return
        async with self._storage.connect(write=True, all_accounts=True) as conn:
            await conn.execute(sa.delete(search_outbox).where(search_outbox.c.id.in_(list(ids))))

    async def retry(self, ids: Sequence[int], *, available_at: float, error: str) -> None:
        """Count a failed attempt and hide the items until ``available_at``."""
        if not ids:
            return
        async with self._storage.connect(write=True, all_accounts=True) as conn:
            await conn.execute(
                sa.update(search_outbox)
                .where(search_outbox.c.id.in_(list(ids)))
                .values(
                    attempts=search_outbox.c.attempts + 1,
                    available_at=available_at,
                    last_error=error[:500],
                )
            )

    async def pending(self) -> int:
        """Return how many items wait."""
        async with self._storage.connect(all_accounts=True) as conn:
            result = await conn.execute(sa.select(sa.func.count()).select_from(search_outbox))
            return int(result.scalar_one())
