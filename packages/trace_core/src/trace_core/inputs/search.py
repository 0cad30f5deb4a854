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
    Query,
)
from trace_core.inputs.entries import (
    ArchivedFilter,
    EndDate,
    EntryFilterArgs,
    PinnedFilter,
    StartDate,
    StatusFilter,
    StreamFilter,
    TagsFilter,
    TagsMode,
    TypeFilter,
)
from trace_core.limits import SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT
from trace_core.model import EntryFilter

__all__ = ["FetchArgs", "SearchArgs", "SearchEntriesArgs"]


class SearchEntriesArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``search_entries``: the words, paging, then the ``list_entries`` filters.

    The filter fields are :class:`EntryFilterArgs`'s, declared after search's
    own arguments (the reference's order); a test holds the two sets equal.
    """

    query: Annotated[Query, Meta(min_length=1, description="Words to look for.")]
    limit: Annotated[int, Meta(ge=1, le=SEARCH_MAX_LIMIT)] = SEARCH_DEFAULT_LIMIT
    include_content: Annotated[
        bool,
        Meta(description="true: each hit's content too."),
    ] = False
    content_limit: ContentLimit | UnsetType = UNSET
    cursor: Cursor | UnsetType = UNSET
    stream_id: StreamFilter | UnsetType = UNSET
    tags: TagsFilter | UnsetType = UNSET
    tags_mode: TagsMode = "any"
    status: StatusFilter | UnsetType = UNSET
    type: TypeFilter | UnsetType = UNSET
    is_archived: ArchivedFilter = False
    is_pinned: PinnedFilter | UnsetType = UNSET
    start_date: StartDate | UnsetType = UNSET
    end_date: EndDate | UnsetType = UNSET

    def to_filter(self) -> EntryFilter:
        """Return the facade's filter (the words are not part of it: they are the search)."""
        return EntryFilterArgs(
            stream_id=self.stream_id,
            tags=self.tags,
            tags_mode=self.tags_mode,
            status=self.status,
            type=self.type,
            is_archived=self.is_archived,
            is_pinned=self.is_pinned,
            start_date=self.start_date,
            end_date=self.end_date,
        ).to_filter()


class SearchArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``search`` (the connectors' search)."""

    query: Annotated[Query, Meta(min_length=1, description="What to look for.")]


class FetchArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``fetch`` (the connectors' fetch): an entry id that search returned."""

    id: Annotated[Id, Meta(description="An id from search.")]

    def entry_uuid(self) -> UUID:
        """Return ``id`` parsed."""
        return parse_uuid("id", self.id)
