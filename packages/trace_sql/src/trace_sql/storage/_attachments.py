"""Attachment metadata in ``attachments``."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from trace_core.model import Attachment
from trace_core.ports import AttachmentRepository
from trace_sql.storage._base import SqlRepository, chunks
from trace_sql.storage._rows import attachment_to_row, row_to_attachment
from trace_sql.tables import attachments

_LIVE = attachments.c.removed_at.is_(None)

# Point reads built once with bound parameters: building a statement per call costs
# ~75 µs of SQLAlchemy construction and cache-key work, three times the read itself.
_ATTACHMENTS_OF_ENTRY = (
    sa.select(attachments)
    .where(
        attachments.c.account_id == sa.bindparam("account_id"),
        attachments.c.entry_id == sa.bindparam("entry_id"),
        _LIVE,
    )
    .order_by(attachments.c.position, attachments.c.attachment_id)
)


# Images per entry of a page. PostgreSQL takes the ids as one array parameter:
# an IN list of 50 parameters costs ~4x the query's time to bind and send there.
_COUNT_PER_ENTRY = (
    sa.select(attachments.c.entry_id, sa.func.count().label("n"))
    .where(
        attachments.c.account_id == sa.bindparam("account_id"),
        attachments.c.entry_id.in_(sa.bindparam("entry_ids", expanding=True)),
        _LIVE,
    )
    .group_by(attachments.c.entry_id)
)
_COUNT_PER_ENTRY_PG = (
    sa.select(attachments.c.entry_id, sa.func.count().label("n"))
    .where(
        attachments.c.account_id == sa.bindparam("account_id"),
        attachments.c.entry_id
        == sa.any_(sa.bindparam("entry_ids", type_=postgresql.ARRAY(sa.Uuid()))),
        _LIVE,
    )
    .group_by(attachments.c.entry_id)
)


class SqlAttachmentRepository(SqlRepository, AttachmentRepository):
    """Attachment metadata in ``attachments``; removed ones carry ``removed_at``."""

    async def add(self, attachment: Attachment) -> None:
        """Store attachment metadata."""
        await self._scope.enter(attachment.account_id)
        await self._execute(
            sa.insert(attachments).values(attachment_to_row(attachment)),
            conflict="the attachment exists already or its entry does not",
        )

    async def get(
        self, account_id: UUID, attachment_id: UUID, *, include_removed: bool = False
    ) -> Attachment | None:
        """Return the attachment, or None; removed ones only with ``include_removed``."""
        await self._scope.enter(account_id)
        statement = sa.select(attachments).where(
            attachments.c.account_id == account_id,
            attachments.c.attachment_id == attachment_id,
        )
        if not include_removed:
            statement = statement.where(_LIVE)
        row = (await self._execute(statement)).mappings().first()
        return row_to_attachment(row) if row else None

    async def list_for_entry(self, account_id: UUID, entry_id: UUID) -> builtins.list[Attachment]:
        """Return the entry's attachments (not removed) by position."""
        await self._scope.enter(account_id)
        result = await self._execute(
            _ATTACHMENTS_OF_ENTRY, {"account_id": account_id, "entry_id": entry_id}
        )
        return [row_to_attachment(row) for row in result.mappings()]

    async def list_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID], *, include_removed: bool = False
    ) -> builtins.list[Attachment]:
        """Return the attachments of the given entries, by entry then position."""
        await self._scope.enter(account_id)
        found: builtins.list[Attachment] = []
        for chunk in chunks(builtins.list(dict.fromkeys(entry_ids))):
            statement = sa.select(attachments).where(
                attachments.c.account_id == account_id, attachments.c.entry_id.in_(chunk)
            )
            if not include_removed:
                statement = statement.where(_LIVE)
            result = await self._execute(statement)
            found.extend(row_to_attachment(row) for row in result.mappings())
        order = {entry_id: index for index, entry_id in enumerate(dict.fromkeys(entry_ids))}
        found.sort(key=lambda a: (order[a.entry_id], a.position, a.attachment_id))
        return found

    async def count_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID]
    ) -> dict[UUID, int]:
        """Return how many attachments (not removed) each entry has, in one query for a page."""
        await self._scope.enter(account_id)
        ids = builtins.list(dict.fromkeys(entry_ids))
        batches: builtins.list[Sequence[UUID]]
        if self._conn.dialect.name == "postgresql":
            statement, batches = _COUNT_PER_ENTRY_PG, [ids]
        else:
            statement, batches = _COUNT_PER_ENTRY, builtins.list(chunks(ids))
        counts: dict[UUID, int] = {}
        for batch in batches:
            result = await self._execute(
                statement, {"account_id": account_id, "entry_ids": builtins.list(batch)}
            )
            counts.update((row.entry_id, int(row.n)) for row in result)
        return counts

    async def set_removed(
        self, account_id: UUID, attachment_id: UUID, removed_at: datetime | None
    ) -> bool:
        """Set or clear ``removed_at`` if the attachment is in the other state; True if changed."""
        await self._scope.enter(account_id)
        state = _LIVE if removed_at is not None else attachments.c.removed_at.is_not(None)
        result = await self._execute(
            sa.update(attachments)
            .where(
                attachments.c.account_id == account_id,
                attachments.c.attachment_id == attachment_id,
                state,
            )
            .values(removed_at=removed_at)
        )
        return result.rowcount == 1

    async def removed_before(self, cutoff: datetime, *, limit: int) -> builtins.list[Attachment]:
        """Return attachments removed before ``cutoff`` in any account, oldest removal first."""
        result = await self._execute(
            sa.select(attachments)
            .where(attachments.c.removed_at.is_not(None), attachments.c.removed_at < cutoff)
            .order_by(attachments.c.removed_at, attachments.c.attachment_id)
            .limit(limit)
        )
        return [row_to_attachment(row) for row in result.mappings()]

    async def purge(self, account_id: UUID, attachment_ids: Sequence[UUID]) -> None:
        """Hard-delete the attachment rows."""
        await self._scope.enter(account_id)
        for chunk in chunks(builtins.list(dict.fromkeys(attachment_ids))):
            await self._execute(
                sa.delete(attachments).where(
                    attachments.c.account_id == account_id,
                    attachments.c.attachment_id.in_(chunk),
                )
            )

    async def list_all(self, account_id: UUID) -> builtins.list[Attachment]:
        """Return every attachment of the account, removed ones too."""
        await self._scope.enter(account_id)
        result = await self._execute(
            sa.select(attachments)
            .where(attachments.c.account_id == account_id)
            .order_by(attachments.c.created_at, attachments.c.attachment_id)
        )
        return [row_to_attachment(row) for row in result.mappings()]
