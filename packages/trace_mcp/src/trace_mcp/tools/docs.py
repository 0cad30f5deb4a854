"""``get_docs``: the guide to the data model and to using the tools well."""

from __future__ import annotations

from trace_core.inputs import NoArgs
from trace_core.model import Scope
from trace_mcp._guide import GUIDE
from trace_mcp._schema import obj
from trace_mcp.tools._common import READ, ToolContext, ToolOutput, ToolSpec

__all__ = ["GET_DOCS"]


async def get_docs(ctx: ToolContext, args: NoArgs) -> ToolOutput:
    """Return the guide."""
    return ToolOutput(data={"guide": GUIDE}, text=GUIDE)


GET_DOCS = ToolSpec(
    name="get_docs",
    title="Trace guide",
    description="Read this first: the guide to Trace's data model (streams, entries, "
    "Inbox, ratings, tags, trash) and how to use these tools well, with examples.",
    args=NoArgs,
    output_schema=obj({"guide": {"type": "string"}}, required=("guide",), additional=True),
    annotations=READ,
    scope=Scope.READ,
    handler=get_docs,
)
