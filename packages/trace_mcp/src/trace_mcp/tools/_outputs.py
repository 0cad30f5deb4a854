"""The output schemas the tools share (the compact form; published through ``portable``)."""

from __future__ import annotations

from trace_mcp._schema import array_of, obj
from trace_mcp.tools._common import Schema

__all__ = [
    "ATTACHMENT_OUT",
    "ENTRY_OUT",
    "PAGE_OUT",
    "STREAM_OUT",
    "STREAM_WRITTEN",
    "entry_result",
]

STREAM_CONTEXT_OUT: Schema = {
    "type": ["object", "null"],
    "description": "The stream's rules for this entry; null in the Inbox.",
    "properties": {
        "stream_id": {"type": "string"},
        "stream_name": {"type": "string"},
        "rating_type": {"type": "string", "enum": ["stars", "numeric"]},
        "rating_max": {"type": "integer"},
        "types": array_of({"type": "string"}),
        "statuses": array_of({"type": "string"}),
        "default_status": {"type": ["string", "null"]},
        "enabled": {"type": "object", "additionalProperties": {"type": "boolean"}},
    },
}

ENTRY_OUT: Schema = {
    "type": "object",
    "required": ["entry_id", "stream_id", "entry_date", "tags", "version", "rating_type"],
    "properties": {
        "entry_id": {"type": "string"},
        "stream_id": {"type": ["string", "null"]},
        "stream_name": {"type": ["string", "null"]},
        "title": {"type": ["string", "null"]},
        "content": {"type": "string"},
        "content_truncated": {"type": "boolean"},
        "content_length": {"type": "integer"},
        "entry_date": {"type": "string"},
        "tags": array_of({"type": "string"}),
        "status": {"type": ["string", "null"]},
        "type": {"type": ["string", "null"]},
        "priority": {"type": "integer"},
        "priority_label": {"type": "string"},
        "rating": {"type": ["number", "null"], "description": "In display units."},
        "rating_max": {"type": "integer"},
        "rating_type": {"type": "string", "enum": ["stars", "numeric"]},
        "rating_raw": {"type": ["integer", "null"], "description": "Stored 0-10 value."},
        "due_date": {"type": ["string", "null"]},
        "is_pinned": {"type": "boolean"},
        "is_archived": {"type": "boolean"},
        "mentions": array_of({"type": "string"}),
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "version": {"type": "integer"},
        "last_edited_by": {"type": ["string", "null"]},
        "deleted_at": {"type": "string"},
        "image_count": {"type": "integer"},
        "stream_context": STREAM_CONTEXT_OUT,
        "score": {"type": "number"},
        "snippet": {"type": "string"},
    },
}

STREAM_OUT: Schema = {
    "type": "object",
    "required": ["stream_id", "name", "entry_count"],
    "properties": {
        "stream_id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "color": {"type": ["string", "null"]},
        "icon": {"type": ["string", "null"]},
        "is_private": {"type": "boolean"},
        "is_archived": {"type": "boolean"},
        "entry_count": {"type": "integer"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "entry_settings": {"type": "object"},
    },
}

ATTACHMENT_OUT: Schema = {
    "type": "object",
    "required": ["attachment_id", "entry_id", "mime_type", "file_size"],
    "properties": {
        "attachment_id": {"type": "string"},
        "entry_id": {"type": "string"},
        "mime_type": {"type": "string"},
        "file_size": {"type": "integer"},
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "position": {"type": "integer"},
        "captured_at": {"type": ["string", "null"]},
        "created_at": {"type": "string"},
        "filename": {"type": "string"},
    },
}

PAGE_OUT: dict[str, Schema] = {
    "count": {"type": "integer", "description": "Entries in this answer."},
    "total": {"type": "integer", "description": "Entries matching the filters."},
    "limit": {"type": "integer"},
    "offset": {"type": "integer"},
    "has_more": {"type": "boolean"},
    "next_cursor": {"type": ["string", "null"]},
    "next_offset": {"type": ["integer", "null"]},
    "truncated": {
        "type": "boolean",
        "description": "true when the answer was cut to fit the size cap; see note.",
    },
    "note": {"type": "string"},
}

STREAM_WRITTEN: Schema = obj(
    {"stream": STREAM_OUT, "message": {"type": "string"}}, required=("stream",), additional=True
)


def entry_result(extra: dict[str, Schema] | None = None) -> Schema:
    """Return the output schema of a write that answers with one entry."""
    return obj(
        {"entry": ENTRY_OUT, "message": {"type": "string"}, **(extra or {})},
        required=("entry",),
        additional=True,
    )
