"""Arguments of the trash use cases: listing deleted entries and bringing one back."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, UnsetType

from trace_core.inputs._parse import parse_uuid
from trace_core.inputs._types import ArgsStruct, ContentLimit, Cursor, Id, IncludeContent, Offset
from trace_core.limits import LIST_DEFAULT_LIMIT, LIST_MAX_LIMIT

__all__ = ["ListTrashArgs", "RestoreEntryArgs"]


class ListTrashArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``list_trash``: paging, and short contents unless asked otherwise."""

    limit: Annotated[int, Meta(ge=1, le=LIST_MAX_LIMIT)] = LIST_DEFAULT_LIMIT
    offset: Offset = 0
    cursor: Cursor | UnsetType = UNSET
    include_content: IncludeContent = True
    content_limit: ContentLimit = 300


class RestoreEntryArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``restore_entry``."""

    entry_id: Id

    def entry_uuid(self) -> UUID:
        """Return ``entry_id`` parsed."""
        return parse_uuid("entry_id", self.entry_id)
