"""The output schemas the tools share: shallow, the top-level keys and their types only.

What each key means is in the tool descriptions and ``get_docs``; what is
inside an entry, a stream or an attachment is left open (``object``), so a
client's validation stays cheap and ``tools/list`` stays small.
"""

from __future__ import annotations

from trace_mcp._schema import shape
from trace_mcp.tools._common import Schema

__all__ = [
    "ENTRY_PAGE_OUT",
    "ENTRY_WRITTEN",
    "STREAM_WRITTEN",
]

ENTRY_PAGE_OUT: Schema = shape(
    {"entries": "array", "total": "integer", "has_more": "boolean", "streams": "object"},
    {"next_cursor": "string", "next_offset": "integer"},
)
"""A page of entries, with the rules of the streams it names (``list_entries``, ``list_trash``)."""

ENTRY_WRITTEN: Schema = shape(
    {"entry_id": "string", "version": "integer"},
    {"changed": "array", "entry": "object"},
)
"""What a write of one entry answers (``create_entry``, ``update_entry``, ``restore_entry``)."""

STREAM_WRITTEN: Schema = shape({"stream": "object"})
"""What ``get_stream``, ``create_stream`` and ``update_stream`` answer."""
