"""Arguments of the stream use cases: listing, reading, creating, changing streams."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from trace_core.errors import InvalidInputError
from trace_core.inputs._parse import parse_uuid
from trace_core.inputs._types import ArgsStruct, Choice, Choices, Id, Title, or_none
from trace_core.limits import MAX_COLOR_CHARS, MAX_ICON_CHARS, MAX_STREAM_NAME_CHARS, MAX_TEXT_CHARS
from trace_core.model import EntrySettings, NewStream, RatingType, StreamPatch

__all__ = [
    "CreateStreamArgs",
    "EntrySettingsArgs",
    "GetStreamArgs",
    "ListStreamsArgs",
    "UpdateStreamArgs",
]

Name = Annotated[str, Meta(min_length=1, max_length=MAX_STREAM_NAME_CHARS)]
Text = Annotated[str, Meta(max_length=MAX_TEXT_CHARS)]
Color = Annotated[str, Meta(max_length=MAX_COLOR_CHARS)]
Icon = Annotated[str, Meta(max_length=MAX_ICON_CHARS)]

SETTINGS = "Which fields its entries use, and allowed values."

STREAM_FIELDS = (
    "name",
    "description",
    "color",
    "icon",
    "is_private",
    "is_archived",
    "entry_settings",
)
"""The fields ``update_stream`` can change, in the order they are reported."""


class ListStreamsArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``list_streams``."""

    include_archived: Annotated[bool, Meta(description="Also list archived streams.")] = False


class GetStreamArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``get_stream``."""

    stream_id: Id

    def stream_uuid(self) -> UUID:
        """Return ``stream_id`` parsed."""
        return parse_uuid("stream_id", self.stream_id)


class EntrySettingsArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Entry settings as given: only the given ones are set (or merged into the current ones)."""

    use_rating: bool | UnsetType = UNSET
    use_status: bool | UnsetType = UNSET
    use_priority: bool | UnsetType = UNSET
    use_location: bool | UnsetType = UNSET
    use_photos: bool | UnsetType = UNSET
    use_duedates: bool | UnsetType = UNSET
    use_type: bool | UnsetType = UNSET
    types: Choices | UnsetType = UNSET
    statuses: Choices | UnsetType = UNSET
    default_status: Choice | UnsetType | None = UNSET
    rating_type: Annotated[RatingType, Meta(description="stars 0-5, numeric 0-10")] | UnsetType = (
        UNSET
    )
    content_template: Text | UnsetType | None = UNSET
    title_template: Title | UnsetType | None = UNSET

    def to_settings(self, current: EntrySettings | None = None) -> EntrySettings:
        """Return the settings: the given ones over ``current`` (null clears), or the defaults."""
        given = {
            name: getattr(self, name)
            for name in self.__struct_fields__
            if not isinstance(getattr(self, name), UnsetType)
        }
        if current is None:
            return EntrySettings(**{k: v for k, v in given.items() if v is not None})
        return msgspec.structs.replace(current, **given)


class CreateStreamArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``create_stream``."""

    name: Name
    description: Text | UnsetType = UNSET
    color: Annotated[Color, Meta(description="#3b82f6")] | UnsetType = UNSET
    icon: Annotated[Icon, Meta(description="e.g. book")] | UnsetType = UNSET
    is_private: bool = False
    entry_settings: Annotated[EntrySettingsArgs, Meta(description=SETTINGS)] | UnsetType = UNSET

    def to_new_stream(self) -> NewStream:
        """Return the facade's input (settings not given are the defaults)."""
        settings = (
            EntrySettingsArgs()
            if isinstance(self.entry_settings, UnsetType)
            else (self.entry_settings)
        )
        return NewStream(
            name=self.name,
            description=or_none(self.description),
            color=or_none(self.color),
            icon=or_none(self.icon),
            is_private=self.is_private,
            entry_settings=settings.to_settings(),
        )


class UpdateStreamArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``update_stream``: only the fields given change; entry settings merge."""

    stream_id: Id
    name: Name | UnsetType = UNSET
    description: Text | UnsetType | None = UNSET
    color: Color | UnsetType | None = UNSET
    icon: Icon | UnsetType | None = UNSET
    is_private: bool | UnsetType = UNSET
    is_archived: bool | UnsetType = UNSET
    entry_settings: Annotated[EntrySettingsArgs, Meta(description=SETTINGS)] | UnsetType = UNSET

    def stream_uuid(self) -> UUID:
        """Return ``stream_id`` parsed."""
        return parse_uuid("stream_id", self.stream_id)

    def to_patch(self, current: EntrySettings | None = None) -> StreamPatch:
        """Return the facade's patch; given entry settings are merged into ``current``.

        Raises:
            InvalidInputError: no field to change was given.

        """
        changes: dict[str, Any] = {}
        for name in STREAM_FIELDS:
            value = getattr(self, name)
            if isinstance(value, UnsetType):
                continue
            if isinstance(value, EntrySettingsArgs):
                value = value.to_settings(current or EntrySettings())
            changes[name] = value
        if not changes:
            raise InvalidInputError(
                "stream_id", "nothing to change: pass at least one field", allowed=STREAM_FIELDS
            )
        return StreamPatch(**changes)
