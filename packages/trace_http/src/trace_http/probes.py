"""The root's probes for ``/health/ready`` and ``/metrics``: what only the adapters can tell.

:func:`trace_http.web.observe.probes_for` checks the database and the search
index through the facade's ports; on SQL storage this adds the figures read
when ``/metrics`` is scraped: the connection pool (size, connections in use,
overflow) and the search outbox (changes waiting for Meilisearch, the age of
the oldest).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from trace_http.web.probes import Probes, probes_for

if TYPE_CHECKING:
    from trace_core.service import Trace

__all__ = ["masked_url", "probes_for_storage"]


def probes_for_storage(trace: Trace) -> Probes:
    """Return the facade's probes plus, on SQL storage, the pool and outbox figures."""
    from trace_sql import SqlStorage

    base = probes_for(trace)
    storage = trace.storage
    if not isinstance(storage, SqlStorage):
        return base
    from trace_sql.search_outbox import SqlSearchOutbox

    outbox = SqlSearchOutbox(storage)

    async def figures() -> Mapping[str, float]:
        out: dict[str, float] = {
            f"db_pool_{name}": float(value) for name, value in storage.pool_status().items()
        }
        pending, lag = await outbox.lag(now=time.time())
        out["search_outbox_pending"] = float(pending)
        out["search_outbox_lag_seconds"] = lag
        return out

    return Probes(database=base.database, search=base.search, figures=figures)


def masked_url(url: str) -> str:
    """Return a database URL with its password replaced by ``***`` (for display)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
