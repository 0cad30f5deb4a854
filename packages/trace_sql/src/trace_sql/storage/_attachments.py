"""Attachment metadata in ``attachments``."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa

from trace_core.model import Attachment
from trace_core.ports import AttachmentRepository
from trace_sql.storage._base import SqlRepository, chunks
from trace_sql.storage._rows import attachment_to_row, row_to_attachment
from trace_sql.tables import attachments

# Point reads built once with bound parameters: building a statement per call costs
# ~75 µs of SQLAlchemy construction and cache-key work, three times the read itself.
_ATTACHMENTS_OF_ENTRY = (
    sa.select(attachments)
    .where(
        attachments.c.account_id == sa.bindparam("account_id"),
        attachments.c.entry_id == sa.bindparam("entry_id"),
    )
    .order_by(attachments.c.position, attachments.c.attachment_id)
)


class SqlAttachmentRepository(SqlRepository, AttachmentRepository):
    """Attachment metadata in ``attachments``."""

    async def add(self, attachment: Attachment) -> None:
        """Store attachment metadata."""
        await self._execute(
            sa.insert(attachments).values(attachment_to_row(attachment)),
            conflict="the attachment exists already or its entry does not",
        )

    async def get(self, account_id: UUID, attachment_id: UUID) -> Attachment | None:
        """Return the attachment, or None."""
        result = await self._execute(
            sa.select(attachments).where(
                attachments.c.account_id == account_id,
                attachments.c.attachment_id == attachment_id,
            )
        )
        row = result.mappings().first()
        return row_to_attachment(row) if row else None

    async def list_for_entry(self, account_id: UUID, entry_id: UUID) -> builtins.list[Attachment]:
        """Return the entry's attachments by position."""
        result = await self._execute(
            _ATTACHMENTS_OF_ENTRY, {"account_id": account_id, "entry_id": entry_id}
        )
        return [row_to_attachment(row) for row in result.mappings()]

    async def list_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID]
    ) -> builtins.list[Attachment]:
        """Return the attachments of the given entries, by entry then position."""
        found: builtins.list[Attachment] = []
        for chunk in chunks(builtins.list(dict.fromkeys(entry_ids))):
            result = await self._execute(
                sa.select(attachments).where(
                    attachments.c.account_id == account_id, attachments.c.entry_id.in_(chunk)
                )
            )
            found.extend(row_to_attachment(row) for row in result.mappings())
        order = {entry_id: index for index, entry_id in enumerate(dict.fromkeys(entry_ids))}
        found.sort(key=lambda a: (order[a.entry_id], a.position, a.attachment_id))
        return found

    async def list_all(self, account_id: UUID) -> builtins.list[Attachment]:
        """Return every attachment of the account."""
        result = await self._execute(
            sa.select(attachments)
            .where(attachments.c.account_id == account_id)
            .order_by(attachments.c.created_at, attachments.c.attachment_id)
        )
        return [row_to_attachment(row) for row in result.mappings()]
