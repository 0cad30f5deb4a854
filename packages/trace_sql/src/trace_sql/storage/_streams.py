"""Streams in the ``streams`` table, with their live entry counts on request."""

from __future__ import annotations

import builtins
from uuid import UUID

import sqlalchemy as sa

from trace_core.errors import NotFoundError
from trace_core.model import Stream
from trace_core.ports import StreamRepository
from trace_sql.storage._base import SqlRepository
from trace_sql.storage._rows import row_to_stream, stream_to_row
from trace_sql.tables import entries, streams

# Point reads built once with bound parameters: building a statement per call costs
# ~75 µs of SQLAlchemy construction and cache-key work, three times the read itself.
_STREAM_BY_ID = sa.select(streams).where(
    streams.c.account_id == sa.bindparam("account_id"),
    streams.c.stream_id == sa.bindparam("stream_id"),
)
_STREAMS_OF_ACCOUNT = sa.select(streams).where(streams.c.account_id == sa.bindparam("account_id"))
_LIVE_STREAMS_OF_ACCOUNT = _STREAMS_OF_ACCOUNT.where(streams.c.is_archived.is_(False))


def _entry_count_column() -> sa.Label[int]:
    return (
        sa.select(sa.func.count())
        .where(
            entries.c.account_id == streams.c.account_id,
            entries.c.stream_id == streams.c.stream_id,
            entries.c.deleted_at.is_(None),
        )
        .scalar_subquery()
        .label("entry_count")
    )


class SqlStreamRepository(SqlRepository, StreamRepository):
    """Streams in the ``streams`` table."""

    async def add(self, stream: Stream) -> None:
        """Store a new stream."""
        await self._scope.enter(stream.account_id)
        await self._execute(
            sa.insert(streams).values(stream_to_row(stream)),
            conflict=f"a stream named {stream.name!r} or with id {stream.stream_id} exists",
        )

    async def get(
        self, account_id: UUID, stream_id: UUID, *, with_counts: bool = True
    ) -> Stream | None:
        """Return the stream with its live entry count, or None."""
        await self._scope.enter(account_id)
        if with_counts:
            query = sa.select(streams, _entry_count_column()).where(
                streams.c.account_id == account_id, streams.c.stream_id == stream_id
            )
            result = await self._execute(query)
        else:
            result = await self._execute(
                _STREAM_BY_ID, {"account_id": account_id, "stream_id": stream_id}
            )
        row = result.mappings().first()
        return row_to_stream(row) if row else None

    async def list(
        self, account_id: UUID, *, include_archived: bool = False, with_counts: bool = True
    ) -> builtins.list[Stream]:
        """Return the account's streams by name (case-insensitive), with entry counts."""
        await self._scope.enter(account_id)
        if with_counts:
            query = sa.select(streams, _entry_count_column()).where(
                streams.c.account_id == account_id
            )
            if not include_archived:
                query = query.where(streams.c.is_archived.is_(False))
            result = await self._execute(query)
        else:
            query = _STREAMS_OF_ACCOUNT if include_archived else _LIVE_STREAMS_OF_ACCOUNT
            result = await self._execute(query, {"account_id": account_id})
        # Sorted here, not in SQL: the same order whatever the database's collation
        # (and SQLite's lower() only folds ASCII).
        found = [row_to_stream(row) for row in result.mappings()]
        return sorted(found, key=lambda s: (s.name.casefold(), s.stream_id))

    async def update(self, stream: Stream) -> None:
        """Replace the stored stream; NotFoundError if it is not in the account."""
        await self._scope.enter(stream.account_id)
        row = stream_to_row(stream)
        del row["stream_id"], row["account_id"]
        result = await self._execute(
            sa.update(streams)
            .where(
                streams.c.account_id == stream.account_id, streams.c.stream_id == stream.stream_id
            )
            .values(row),
            conflict=f"a stream named {stream.name!r} exists",
        )
        if result.rowcount == 0:
            raise NotFoundError("stream", stream.stream_id)
