"""Arguments of the attachment use cases."""

from __future__ import annotations

from uuid import UUID

from trace_core.inputs._parse import parse_uuid
from trace_core.inputs._types import ArgsStruct, Id

__all__ = ["AttachmentArgs"]


class AttachmentArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``get_attachment_url`` and ``get_attachment_data``: one attachment."""

    attachment_id: Id

    def attachment_uuid(self) -> UUID:
        """Return ``attachment_id`` parsed."""
        return parse_uuid("attachment_id", self.attachment_id)
