"""The base of every use-case class: the one place that checks scope and tenancy.

``FacadeBase`` holds the adapters and the checks every use case shares: the
caller's scope (``_require``), page limits and offsets, and the look-ups that
scope a stream or entry to the caller's account (``_stream``, ``_live_entry``).
The per-area classes in this package extend it, and ``Trace`` composes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import cast
from uuid import UUID

from trace_core.cursors import CursorCodec
from trace_core.errors import InsufficientScopeError, InvalidInputError, NotFoundError, quote
from trace_core.limits import Limits
from trace_core.model import Entry, EntryVersion, Principal, Scope, Stream, VersionAction
from trace_core.ports import BlobStore, Clock, SearchIndex, Storage, UnitOfWork
from trace_core.timezones import DEFAULT_TIME_ZONE, today_in

# Passed to _check_filters when the filters name no stream id: it is only
# touched to look a stream up.
NO_UNIT_OF_WORK = cast("UnitOfWork", None)


class SystemClock:
    """The real clock: UTC now, UTC today."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Return today's UTC date."""
        return self.now().date()


class FacadeBase:
    """State and checks shared by the use-case classes that make up ``Trace``.

    The constructor's arguments are described on :class:`trace_core.service.Trace`.
    """

    def __init__(
        self,
        *,
        storage: Storage,
        blobs: BlobStore,
        search: SearchIndex | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
        cursor_key: bytes | None = None,
    ) -> None:
        self.storage = storage
        self.blobs = blobs
        self.search = search
        self.clock: Clock = clock or SystemClock()
        self.limits = limits or Limits()
        self.cursors = CursorCodec(cursor_key)

    # --- checks ----------------------------------------------------------------

    @staticmethod
    def _require(principal: Principal, scope: Scope, operation: str) -> None:
        if not principal.has(scope):
            raise InsufficientScopeError(scope.value, operation)

    def _limit(self, field: str, value: int | None, default: int, maximum: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise InvalidInputError(
                field, f"must be an integer from 1 to {maximum}, got {quote(value)}"
            )
        return value

    def _offset(self, value: int | None) -> int:
        if value is None:
            return 0
        maximum = self.limits.max_offset
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise InvalidInputError(
                "offset",
                f"must be an integer from 0 to {maximum:,}, got {quote(value)}; "
                "page further with next_cursor",
            )
        return value

    async def _stream(
        self, uow: UnitOfWork, principal: Principal, stream_id: UUID, *, counted: bool = False
    ) -> Stream:
        # Counting a stream's entries is a scan; only answers that show the count ask.
        stream = await uow.streams.get(principal.account_id, stream_id, with_counts=counted)
        if stream is None:
            raise NotFoundError("stream", stream_id)
        return stream

    async def _today(self, uow: UnitOfWork, principal: Principal) -> date:
        """Return today's date in the caller's account time zone (UTC if it has none)."""
        account = await uow.accounts.get(principal.account_id)
        zone = account.time_zone if account is not None else DEFAULT_TIME_ZONE
        return today_in(self.clock.now(), zone)

    async def _live_entry(self, uow: UnitOfWork, principal: Principal, entry_id: UUID) -> Entry:
        entry = await uow.entries.get(principal.account_id, entry_id)
        if entry is None:
            raise NotFoundError("entry", entry_id)
        return entry

    def _snapshot(self, entry: Entry, action: VersionAction, principal: Principal) -> EntryVersion:
        return EntryVersion(
            entry_id=entry.entry_id,
            account_id=entry.account_id,
            version=entry.version,
            action=action,
            written_by=principal.actor,
            written_at=entry.updated_at,
            snapshot=entry,
        )

    async def _index(self, entries: Sequence[Entry]) -> None:
        """Tell a search index that lives outside the database about changed entries."""
        if self.search is not None and not getattr(self.search, "indexed_by_storage", False):
            await self.search.index(entries)
