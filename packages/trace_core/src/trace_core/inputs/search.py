"""Arguments of the search use cases: ranked search, and the connectors' search and fetch."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, UnsetType

from trace_core.inputs._parse import parse_uuid
from trace_core.inputs._types import (
    ArgsStruct,
    ContentLimit,
    Cursor,
    Id,
    IncludeContent,
    Query,
)
from trace_core.inputs.entries import EntryFilterArgs
from trace_core.limits import SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT

__all__ = ["FetchArgs", "SearchArgs", "SearchEntriesArgs"]


class SearchEntriesArgs(EntryFilterArgs, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``search_entries``: the words, the ``list_entries`` filters, paging."""

    query: Annotated[Query, Meta(min_length=1, description="Words to look for.")]
    limit: Annotated[int, Meta(ge=1, le=SEARCH_MAX_LIMIT)] = SEARCH_DEFAULT_LIMIT
    include_content: IncludeContent = True
    content_limit: ContentLimit | UnsetType = UNSET
    cursor: Cursor | UnsetType = UNSET


class SearchArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``search`` (the connectors' search)."""

    query: Annotated[Query, Meta(min_length=1, description="What to look for.")]


class FetchArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``fetch`` (the connectors' fetch): an entry id that search returned."""

    id: Annotated[Id, Meta(description="An id from search.")]

    def entry_uuid(self) -> UUID:
        """Return ``id`` parsed."""
        return parse_uuid("id", self.id)
