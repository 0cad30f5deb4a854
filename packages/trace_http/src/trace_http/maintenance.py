"""Background upkeep the server runs while it is up: purging expired trash.

Every replica may run it: purging is idempotent (a batch another replica already
removed deletes nothing), so no leader election is needed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import anyio

from trace_core.service import Trace

__all__ = ["maintenance_lifespan", "run_maintenance_once"]

logger = logging.getLogger("trace.maintenance")


async def run_maintenance_once(trace: Trace) -> int:
    """Purge every entry whose trash retention has run out; return how many were purged."""
    purged = await trace.purge_expired_trash()
    if purged:
        logger.info("purged %d entries from the trash", purged)
    return purged


async def _loop(trace: Trace, interval: float, stop: anyio.Event) -> None:
    while not stop.is_set():
        # A round in flight is finished, never cancelled: cancelling a query half-way
        # leaves the driver connection to be torn down after the server stopped
        # (aiosqlite's close then holds up the process's exit).
        with anyio.CancelScope(shield=True):
            try:
                await run_maintenance_once(trace)
            except Exception:
                # A failed round (database briefly away) must not stop the next one.
                logger.exception("trash purge failed; retrying in %.0f s", interval)
        with anyio.move_on_after(interval):
            await stop.wait()


def maintenance_lifespan(
    trace: Trace, interval_seconds: float
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """Return a Litestar lifespan hook that runs maintenance every ``interval_seconds``.

    On shutdown a round in progress completes first. An interval of 0 returns a
    hook that does nothing.
    """

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        if interval_seconds <= 0:
            yield
            return
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(_loop, trace, interval_seconds, stop)
            try:
                yield
            finally:
                stop.set()

    return lifespan
