"""The argument types every arguments Struct is built from: limits and wording once.

Each alias is a type with its limit (``trace_core.limits``) and, where one is
always the same, its description, so a JSON Schema generated from a Struct
states them and decoding refuses what breaks them.
"""

from __future__ import annotations

import typing
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import Meta, UnsetType

from trace_core.limits import (
    MAX_CHOICE_CHARS,
    MAX_CHOICES,
    MAX_CONTENT_CHARS,
    MAX_CONTENT_LIMIT,
    MAX_CURSOR_CHARS,
    MAX_DATE_CHARS,
    MAX_ID_CHARS,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
    MAX_VERSION,
)

__all__ = [
    "ArgsStruct",
    "Choice",
    "Choices",
    "Content",
    "ContentLimit",
    "Cursor",
    "Day",
    "EchoContent",
    "Id",
    "IncludeContent",
    "NoArgs",
    "Offset",
    "Query",
    "StreamRef",
    "Tags",
    "Title",
    "Version",
    "declared_literals",
    "or_none",
]

T = TypeVar("T")


class ArgsStruct(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of the arguments Structs: frozen, keyword-only, unknown arguments refused."""


class NoArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The arguments of a tool that takes none."""


def or_none(value: T | UnsetType) -> T | None:
    """Return ``value``, or None when it was not given."""
    return None if isinstance(value, UnsetType) else value


def declared_literals(struct_type: type[msgspec.Struct]) -> dict[frozenset[Any], tuple[Any, ...]]:
    """Return the values of every ``Literal`` in a Struct (nested ones too) in written order.

    msgspec lists a Literal's values sorted, in its JSON Schema and in its type
    information; what clients are shown (``enum``, ``allowed``) keeps the order
    the type was written in, the default first. Keyed by the set of values.
    """
    found: dict[frozenset[Any], tuple[Any, ...]] = {}
    seen: set[type] = set()

    def walk(hint: Any) -> None:
        if typing.get_origin(hint) is Literal:
            values = typing.get_args(hint)
            found.setdefault(frozenset(values), values)
        elif isinstance(hint, type) and issubclass(hint, msgspec.Struct):
            if hint not in seen:
                seen.add(hint)
                for field in typing.get_type_hints(hint, include_extras=True).values():
                    walk(field)
        else:
            for arg in typing.get_args(hint):
                walk(arg)

    walk(struct_type)
    return found


Id = Annotated[
    str, Meta(min_length=1, max_length=MAX_ID_CHARS, extra_json_schema={"format": "uuid"})
]
"""An id as text: a UUID (braces, ``urn:uuid:`` and spaces are forgiven when it is parsed)."""

StreamRef = Annotated[str, Meta(max_length=MAX_ID_CHARS)]
"""A stream: its id, or a word such as ``inbox``."""

Day = Annotated[str, Meta(max_length=MAX_DATE_CHARS, extra_json_schema={"format": "date"})]
"""A day as ``YYYY-MM-DD`` (parsed by the conversion methods, which name the field)."""

Tags = Annotated[
    tuple[Annotated[str, Meta(min_length=1, max_length=MAX_TAG_CHARS)], ...],
    Meta(max_length=MAX_TAGS),
]
"""Tags (a comma-separated text is forgiven by the decoder)."""

Choice = Annotated[str, Meta(max_length=MAX_CHOICE_CHARS)]
"""A status or type."""

Choices = Annotated[tuple[Choice, ...], Meta(max_length=MAX_CHOICES)]
"""A stream's allowed statuses or types."""

Title = Annotated[str, Meta(max_length=MAX_TITLE_CHARS)]
"""An entry title."""

Content = Annotated[str, Meta(min_length=1, max_length=MAX_CONTENT_CHARS)]
"""An entry's Markdown content."""

Query = Annotated[str, Meta(max_length=MAX_QUERY_CHARS)]
"""Words to look for."""

Version = Annotated[int, Meta(ge=1, le=MAX_VERSION)]
"""An entry version, as read."""

Cursor = Annotated[
    str,
    Meta(
        max_length=MAX_CURSOR_CHARS,
        description="next_cursor of the previous page.",
    ),
]
"""A ``next_cursor`` handed out by the previous page."""

Offset = Annotated[
    int,
    Meta(
        ge=0,
        le=MAX_OFFSET,
        description="Entries to skip.",
    ),
]
"""How many items to skip."""

IncludeContent = Annotated[
    bool,
    Meta(description="false: no content (smaller answers)."),
]
"""Whether entries come with their content."""

EchoContent = Annotated[bool, Meta(description="true: also answer with the whole entry.")]
"""Whether a write answers with the entry it wrote (by default: its id, version and title)."""

ContentLimit = Annotated[
    int,
    Meta(
        ge=1,
        le=MAX_CONTENT_LIMIT,
        description="Cut each content to this many characters.",
    ),
]
"""How much of each entry's content an answer shows."""
