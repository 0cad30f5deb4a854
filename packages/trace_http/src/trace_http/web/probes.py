"""What ``/health/ready`` checks and ``/metrics`` reads: :class:`Probes`, without any web import.

The composition root builds them (``trace_http/probes.py`` adds the SQL
figures); the web app (:mod:`trace_http.web.observe`) asks them. Kept free of
Litestar and the metrics client, so a command's runtime loads neither.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from trace_core.ports import SearchRequest

if TYPE_CHECKING:
    from trace_core.service import Trace

__all__ = ["Probes", "probes_for"]


@dataclass(frozen=True, kw_only=True)
class Probes:
    """Checks and figures the composition root provides for health and metrics.

    Attributes:
        database: returns when the database answers; raises otherwise.
        search: returns when the search index answers; raises otherwise (None: no check).
        figures: read-at-scrape figures, by name (``db_pool_size``,
            ``db_pool_checked_out``, ``db_pool_overflow``, ``search_outbox_pending``,
            ``search_outbox_lag_seconds``); absent names are not reported.

    """

    database: Callable[[], Awaitable[None]]
    search: Callable[[], Awaitable[None]] | None = None
    figures: Callable[[], Awaitable[Mapping[str, float]]] | None = None


def probes_for(trace: Trace) -> Probes:
    """Return the probes every deployment has: database and search, through the ports."""

    async def database() -> None:
        async with trace.storage.unit_of_work() as uow:
            await uow.accounts.get(UUID(int=0))

    index = trace.search

    async def search() -> None:
        assert index is not None
        await index.count(UUID(int=0), SearchRequest(query="health"))

    return Probes(database=database, search=search if index is not None else None)
