"""``get_docs``: the guide to the data model and to using the tools well."""

from __future__ import annotations

from trace_core.inputs import NoArgs
from trace_core.model import Scope
from trace_mcp._guide import GUIDE
from trace_mcp._schema import shape
from trace_mcp.tools._common import READ, ToolContext, ToolOutput, ToolSpec

__all__ = ["GET_DOCS"]


async def get_docs(ctx: ToolContext, args: NoArgs) -> ToolOutput:
    """Return the guide."""
    return ToolOutput(data={"guide": GUIDE}, text=GUIDE)


GET_DOCS = ToolSpec(
    name="get_docs",
    title="Trace guide",
    description="Read first: Trace's data model and how to use these tools well.",
    args=NoArgs,
    output_schema=shape({"guide": "string"}),
    annotations=READ,
    scope=Scope.READ,
    handler=get_docs,
)
