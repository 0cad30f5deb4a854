"""Arguments of the entry use cases: listing, reading, writing, deleting, history.

``UNSET`` means "not given", so ``None`` can mean what the reference gives it:
"the Inbox" for a stream, "clear this field" in an update.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from trace_core.errors import InvalidInputError
from trace_core.inputs._parse import parse_date, parse_uuid
from trace_core.inputs._types import (
    ArgsStruct,
    Choice,
    Content,
    ContentLimit,
    Cursor,
    Day,
    EchoContent,
    Id,
    IncludeContent,
    Offset,
    Query,
    StreamRef,
    Tags,
    Title,
    Version,
    or_none,
)
from trace_core.limits import (
    LIST_DEFAULT_LIMIT,
    LIST_MAX_LIMIT,
    MAX_CONTENT_CHARS,
)
from trace_core.model import EntryDraft, EntryFilter, EntryPatch, StreamSelector
from trace_core.ordering import DEFAULT_SORT, EntrySort

__all__ = [
    "PATCHABLE",
    "ArchivedFilter",
    "CreateEntryArgs",
    "DeleteEntryArgs",
    "EndDate",
    "EntryFilterArgs",
    "EntryHistoryArgs",
    "GetEntryArgs",
    "ListEntriesArgs",
    "PinnedFilter",
    "Priority",
    "Rating",
    "StartDate",
    "StatusFilter",
    "StreamFilter",
    "TagsFilter",
    "TagsMode",
    "TypeFilter",
    "UpdateEntryArgs",
    "stream_selector",
    "target_stream",
]

Priority = Literal[0, 1, 2, 3, 4]
"""0 none, 1 low, 2 medium, 3 high, 4 urgent."""

Rating = Annotated[float, Meta(ge=0, le=10)]
"""A rating in the stream's display units (the facade checks the stream's scale)."""

PRIORITY = "0 none, 1 low, 2 medium, 3 high, 4 urgent."

PATCHABLE = (
    "title",
    "content",
    "stream_id",
    "tags",
    "status",
    "entry_date",
    "is_archived",
    "is_pinned",
    "priority",
    "rating",
    "type",
    "due_date",
)
"""The fields ``update_entry`` can change, in the order they are reported."""


def stream_selector(value: str | UnsetType | None) -> StreamSelector:
    """Map a ``stream_id`` filter: not given → every stream; null or "inbox" → the Inbox."""
    if isinstance(value, UnsetType):
        return "all"
    if value is None:
        return "inbox"
    text = value.strip().lower()
    if text in ("inbox", "all"):
        return "inbox" if text == "inbox" else "all"
    return parse_uuid("stream_id", value)


def target_stream(value: str | UnsetType | None) -> UUID | None:
    """Map a stream to write into: not given, null, "" or "inbox" → the Inbox, else an id."""
    if isinstance(value, UnsetType) or value is None or value.strip().lower() in ("", "inbox"):
        return None
    return parse_uuid("stream_id", value)


def _day(field: str, value: str | UnsetType | None) -> date | None:
    return None if isinstance(value, UnsetType) or value is None else parse_date(field, value)


def _rating(value: float | UnsetType | None) -> float | None:
    # A whole rating reaches the facade as the integer it was written as, so its
    # messages quote 7, not 7.0 (msgspec decodes every number of a float as float).
    if isinstance(value, UnsetType) or value is None:
        return None
    return int(value) if value.is_integer() else value


StreamFilter = Annotated[
    StreamRef | None,
    Meta(description='Omit: all streams and the Inbox; null or "inbox": the Inbox only.'),
]
TagsFilter = Annotated[Tags, Meta(description="ANY of these tags (tags_mode all: every one).")]
TagsMode = Literal["any", "all"]
StatusFilter = Choice
TypeFilter = Choice
ArchivedFilter = Annotated[
    bool | None,
    Meta(description="true: archived only; null: both."),
]
PinnedFilter = bool | None
StartDate = Annotated[Day, Meta(description="entry_date from, YYYY-MM-DD.")]
EndDate = Annotated[Day, Meta(description="entry_date until, YYYY-MM-DD.")]


class EntryFilterArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The filters ``list_entries`` and ``search_entries`` share.

    ``SearchEntriesArgs`` declares the same fields after its own (its arguments
    keep the reference's order) and converts through this Struct.
    """

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
        """Return the facade's filter (ids and days parsed, naming the field on failure)."""
        return EntryFilter(
            stream=stream_selector(self.stream_id),
            tags=() if isinstance(self.tags, UnsetType) else self.tags,
            tags_mode=self.tags_mode,
            status=or_none(self.status),
            type=or_none(self.type),
            is_archived=self.is_archived,
            is_pinned=or_none(self.is_pinned),
            start_date=_day("start_date", self.start_date),
            end_date=_day("end_date", self.end_date),
        )


class ListEntriesArgs(EntryFilterArgs, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``list_entries``: the filters, a plain-text match, paging, content size."""

    query: (
        Annotated[
            Query,
            Meta(description="Plain text in title, content or tags."),
        ]
        | UnsetType
    ) = UNSET
    limit: Annotated[int, Meta(ge=1, le=LIST_MAX_LIMIT)] = LIST_DEFAULT_LIMIT
    offset: Offset = 0
    cursor: Cursor | UnsetType = UNSET
    include_content: IncludeContent = True
    content_limit: ContentLimit | UnsetType = UNSET
    sort: Annotated[
        EntrySort,
        Meta(description="- = descending. Ties by id."),
    ] = DEFAULT_SORT
    due_before: (
        Annotated[Day, Meta(description="due_date before this day, YYYY-MM-DD.")] | UnsetType
    ) = UNSET
    overdue: Annotated[
        bool,
        Meta(description="Only entries due before today."),
    ] = False

    def to_filter(self) -> EntryFilter:
        """Return the facade's filter, with ``query`` as its plain-text match."""
        return msgspec.structs.replace(
            super().to_filter(),
            text=or_none(self.query),
            due_before=_day("due_before", self.due_before),
        )


class GetEntryArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``get_entry``."""

    entry_id: Id
    content_offset: Annotated[
        int,
        Meta(
            ge=0,
            le=MAX_CONTENT_CHARS,
            description="Start content here (see next_content_offset).",
        ),
    ] = 0
    content_limit: ContentLimit | UnsetType = UNSET

    def entry_uuid(self) -> UUID:
        """Return ``entry_id`` parsed."""
        return parse_uuid("entry_id", self.entry_id)


class CreateEntryArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``create_entry``."""

    content: Annotated[Content, Meta(description="Markdown.")]
    title: Title | UnsetType | None = UNSET
    stream_id: (
        Annotated[StreamRef | None, Meta(description="Omit or null: the Inbox.")] | UnsetType
    ) = UNSET
    tags: Tags | UnsetType | None = UNSET
    status: (
        Annotated[Choice | None, Meta(description="Default: the stream's default.")] | UnsetType
    ) = UNSET
    entry_date: (
        Annotated[Day | None, Meta(description="YYYY-MM-DD; default today.")] | UnsetType
    ) = UNSET
    priority: Annotated[Priority | None, Meta(description=PRIORITY)] = 0
    rating: (
        Annotated[Rating | None, Meta(description="Stream's scale: stars 0-5 or 0-10.")] | UnsetType
    ) = UNSET
    type: Choice | UnsetType | None = UNSET
    due_date: Annotated[Day | None, Meta(description="YYYY-MM-DD")] | UnsetType = UNSET
    is_pinned: bool | None = False
    include_content: EchoContent = False

    def to_draft(self) -> EntryDraft:
        """Return the facade's draft (stream and days parsed, naming the field on failure)."""
        return EntryDraft(
            content=self.content,
            title=or_none(self.title),
            stream_id=target_stream(self.stream_id),
            tags=() if isinstance(self.tags, UnsetType) or self.tags is None else self.tags,
            status=or_none(self.status),
            entry_date=_day("entry_date", self.entry_date),
            priority=self.priority,
            rating=_rating(self.rating),
            type=or_none(self.type),
            due_date=_day("due_date", self.due_date),
            is_pinned=bool(self.is_pinned),
        )


class UpdateEntryArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``update_entry``: only the fields given change; null clears."""

    entry_id: Id
    expected_version: (
        Annotated[
            Version,
            Meta(description="The version you read (a later one fails: version_conflict)."),
        ]
        | UnsetType
    ) = UNSET
    title: Title | UnsetType | None = UNSET
    content: (
        Annotated[
            Content,
            Meta(description="REPLACES the text: send all of it."),
        ]
        | UnsetType
    ) = UNSET
    stream_id: (
        Annotated[
            StreamRef | None,
            Meta(description="Move; null: to the Inbox."),
        ]
        | UnsetType
    ) = UNSET
    tags: (
        Annotated[
            Tags | None,
            Meta(description="REPLACES the list."),
        ]
        | UnsetType
    ) = UNSET
    status: Choice | UnsetType | None = UNSET
    entry_date: Annotated[Day, Meta(description="YYYY-MM-DD")] | UnsetType = UNSET
    is_archived: bool | UnsetType = UNSET
    is_pinned: bool | UnsetType = UNSET
    priority: Annotated[Priority | None, Meta(description=PRIORITY)] | UnsetType = UNSET
    rating: (
        Annotated[
            Rating | None,
            Meta(description="Stream's scale: stars 0-5 or 0-10."),
        ]
        | UnsetType
    ) = UNSET
    type: Choice | UnsetType | None = UNSET
    due_date: Annotated[Day | None, Meta(description="YYYY-MM-DD")] | UnsetType = UNSET
    clear_disallowed: Annotated[
        bool,
        Meta(description="With stream_id: clear values the new stream does not use."),
    ] = False
    include_content: EchoContent = False

    def entry_uuid(self) -> UUID:
        """Return ``entry_id`` parsed."""
        return parse_uuid("entry_id", self.entry_id)

    def to_patch(self) -> EntryPatch:
        """Return the facade's patch of the given fields.

        Raises:
            InvalidInputError: no field to change was given, or a bad stream or day.

        """
        changes: dict[str, Any] = {}
        for name in PATCHABLE:
            value = getattr(self, name)
            if isinstance(value, UnsetType):
                continue
            if name == "stream_id":
                value = target_stream(value)
            elif name == "tags":
                value = value or ()
            elif name in ("entry_date", "due_date"):
                value = _day(name, value)
            elif name == "rating":
                value = _rating(value)
            changes[name] = value
        if not changes:
            raise InvalidInputError(
                "entry_id",
                "nothing to change: pass at least one field to update",
                allowed=PATCHABLE,
            )
        return EntryPatch(**changes, clear_disallowed=self.clear_disallowed)


class DeleteEntryArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``delete_entry``."""

    entry_id: Id
    expected_version: (
        Annotated[
            Version, Meta(description="The version you read (a later one fails: version_conflict).")
        ]
        | UnsetType
    ) = UNSET

    def entry_uuid(self) -> UUID:
        """Return ``entry_id`` parsed."""
        return parse_uuid("entry_id", self.entry_id)


class EntryHistoryArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``get_entry_history``: versions newest first, paged by offset."""

    entry_id: Id
    limit: Annotated[int, Meta(ge=1, le=LIST_MAX_LIMIT)] = 20
    offset: Offset = 0
    include_content: IncludeContent = True
    content_limit: ContentLimit | UnsetType = UNSET

    def entry_uuid(self) -> UUID:
        """Return ``entry_id`` parsed."""
        return parse_uuid("entry_id", self.entry_id)
