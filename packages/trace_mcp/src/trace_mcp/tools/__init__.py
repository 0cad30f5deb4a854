"""The Trace MCP tools: one :class:`ToolSpec` per tool, each a thin call into ``Trace``.

The eleven tools of the reference service keep its names, argument names,
defaults and limits (``get_docs``, ``list_streams``, ``get_stream``,
``list_entries``, ``get_entry``, ``search_entries``, ``create_entry``,
``update_entry``, ``delete_entry``, ``get_attachment_url``,
``get_attachment_data``); ours add optional arguments only. Then come the tools
the reference lacks (``list_tags``, ``list_trash``, ``restore_entry``,
``get_entry_history``, ``create_stream``, ``update_stream``), the
``search``/``fetch`` pair ChatGPT connectors look for, and images from
assistants (``add_attachment``, ``delete_attachment``).

One module per area (``docs``, ``streams``, ``entries``, ``search``,
``attachments``, ``trash``, ``chatgpt``), each tool's spec beside its handler.
A tool's arguments are one Struct of ``trace_core.inputs``: its input schema is
generated from it and its arguments are decoded through it.

Scope and tenancy are checked by the facade on every call; a tool never decides
who may do what. ``scope`` on a spec only says which tools a read-only
connection is shown and which calls the HTTP layer answers with 403.
"""

from __future__ import annotations

from typing import Any

from trace_core.model import Scope
from trace_mcp.tools._common import ToolContext, ToolOutput, ToolSpec
from trace_mcp.tools.attachments import (
    ADD_ATTACHMENT,
    DELETE_ATTACHMENT,
    GET_ATTACHMENT_DATA,
    GET_ATTACHMENT_URL,
)
from trace_mcp.tools.chatgpt import FETCH, SEARCH
from trace_mcp.tools.docs import GET_DOCS
from trace_mcp.tools.entries import (
    CREATE_ENTRY,
    DELETE_ENTRY,
    GET_ENTRY,
    GET_ENTRY_HISTORY,
    LIST_ENTRIES,
    LIST_TAGS,
    UPDATE_ENTRY,
)
from trace_mcp.tools.search import SEARCH_ENTRIES
from trace_mcp.tools.streams import CREATE_STREAM, GET_STREAM, LIST_STREAMS, UPDATE_STREAM
from trace_mcp.tools.trash import LIST_TRASH, RESTORE_ENTRY

__all__ = [
    "TOOLS",
    "WRITE_TOOLS",
    "ToolContext",
    "ToolOutput",
    "ToolSpec",
]

TOOLS: tuple[ToolSpec[Any], ...] = (
    GET_DOCS,
    LIST_STREAMS,
    GET_STREAM,
    LIST_ENTRIES,
    GET_ENTRY,
    SEARCH_ENTRIES,
    CREATE_ENTRY,
    UPDATE_ENTRY,
    DELETE_ENTRY,
    GET_ATTACHMENT_URL,
    GET_ATTACHMENT_DATA,
    LIST_TAGS,
    LIST_TRASH,
    RESTORE_ENTRY,
    GET_ENTRY_HISTORY,
    CREATE_STREAM,
    UPDATE_STREAM,
    SEARCH,
    FETCH,
    ADD_ATTACHMENT,
    DELETE_ATTACHMENT,
)
"""Every tool, in the order ``tools/list`` shows them."""

WRITE_TOOLS: frozenset[str] = frozenset(t.name for t in TOOLS if t.scope is Scope.FULL)
"""Names of the tools that need the ``full`` scope."""
