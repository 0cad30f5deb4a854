"""The narrow slice of Meilisearch that Trace uses, behind a Protocol.

:class:`OfficialMeiliClient` implements it on the official ``meilisearch``
client (synchronous, so calls run in a worker thread); tests pass a fake.
Every client error becomes :class:`~trace_core.errors.UnavailableError` here,
at the adapter edge.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, Protocol, TypeVar

import anyio.to_thread
import meilisearch
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchError,
    MeilisearchTimeoutError,
)

from trace_core.errors import UnavailableError

__all__ = ["MeiliClient", "OfficialMeiliClient", "unavailable"]

log = logging.getLogger("trace.meili")
T = TypeVar("T")


def unavailable() -> UnavailableError:
    """Return the error every Meilisearch failure becomes."""
    return UnavailableError("search temporarily unavailable; retry shortly")


class MeiliClient(Protocol):
    """What the Meilisearch adapter needs from a client for one index."""

    async def update_settings(self, settings: Mapping[str, Any]) -> None:
        """Apply index settings and wait until they are in effect.

        Raises:
            UnavailableError: Meilisearch cannot be reached or refused the request.

        """
        ...

    async def add_documents(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Add or replace documents (by primary key ``id``) and wait until indexed."""
        ...

    async def delete_by_filter(self, filter_: str) -> None:
        """Delete every document matching ``filter_`` and wait until done."""
        ...

    async def search(self, query: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run one search and return Meilisearch's JSON answer."""
        ...

    async def federated_search(
        self, queries: Sequence[Mapping[str, Any]], federation: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Run several searches of this index as one federated search (Meilisearch >= 1.10).

        Each query is a search's parameters with ``q`` and without ``limit`` or
        ``offset`` (``federation`` has those); Meilisearch merges the hits by
        ranking score, returns each document once and counts the union in
        ``estimatedTotalHits``.
        """
        ...


class OfficialMeiliClient(MeiliClient):
    """:class:`MeiliClient` on the official ``meilisearch`` package.

    Args:
        url: the server, e.g. ``http://127.0.0.1:7700``.
        api_key: a key allowed to search, write documents and change settings.
        index_uid: the index holding every account's entries.
        timeout: seconds before a request counts as failed.
        task_timeout_ms: how long to wait for an indexing task.

    """

    def __init__(
        self,
        url: str,
        *,
        api_key: str | None = None,
        index_uid: str = "trace_entries",
        timeout: int = 5,
        task_timeout_ms: int = 30_000,
    ) -> None:
        self._client = meilisearch.Client(url, api_key, timeout=timeout)
        self._index = self._client.index(index_uid)
        self._index_uid = index_uid
        self._task_timeout_ms = task_timeout_ms

    async def _call(self, func: Callable[[], T]) -> T:
        try:
            return await anyio.to_thread.run_sync(func)
        except (MeilisearchCommunicationError, MeilisearchTimeoutError) as exc:
            log.warning("meilisearch unreachable: %s", type(exc).__name__)
            raise unavailable() from exc
        except MeilisearchApiError as exc:
            # Never log the request body: it can hold entry text.
            log.warning("meilisearch refused a request: %s", getattr(exc, "code", "?"))
            raise unavailable() from exc
        except MeilisearchError as exc:
            raise unavailable() from exc
        except OSError as exc:
            raise unavailable() from exc

    def _wait(self, task_uid: int) -> None:
        task = self._client.wait_for_task(task_uid, timeout_in_ms=self._task_timeout_ms)
        if task.status != "succeeded":
            raise MeilisearchError(f"task {task_uid} {task.status}")

    async def update_settings(self, settings: Mapping[str, Any]) -> None:
        """Create the index if needed, apply settings and wait."""

        def run() -> None:
            with contextlib.suppress(MeilisearchError):  # the index exists already
                created = self._client.create_index(self._index_uid, {"primaryKey": "id"})
                self._wait(created.task_uid)
            self._wait(self._index.update_settings(dict(settings)).task_uid)

        await self._call(run)

    async def add_documents(self, documents: Sequence[Mapping[str, Any]]) -> None:
        """Add or replace documents and wait."""
        await self._call(
            lambda: self._wait(self._index.add_documents(list(documents), "id").task_uid)
        )

    async def delete_by_filter(self, filter_: str) -> None:
        """Delete documents matching ``filter_`` and wait."""
        await self._call(lambda: self._wait(self._index.delete_documents(filter=filter_).task_uid))

    async def delete_index(self) -> None:
        """Delete the whole index (tests and ``trace reindex --drop``)."""
        await self._call(lambda: self._wait(self._index.delete().task_uid))

    async def search(self, query: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Run a search."""
        return await self._call(partial(self._index.search, query, dict(params)))

    async def federated_search(
        self, queries: Sequence[Mapping[str, Any]], federation: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Run a federated multi-search over this index."""
        body = [{**query, "indexUid": self._index_uid} for query in queries]
        answer = await self._call(partial(self._client.multi_search, body, dict(federation)))
        return dict(answer)
