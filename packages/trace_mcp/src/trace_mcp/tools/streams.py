"""The stream tools: ``list_streams``, ``get_stream``, ``create_stream``, ``update_stream``."""

from __future__ import annotations

from typing import Any

from msgspec import UnsetType

from trace_core.inputs import (
    CreateStreamArgs,
    GetStreamArgs,
    ListStreamsArgs,
    UpdateStreamArgs,
)
from trace_core.model import EntryFilter, Scope
from trace_mcp._render import fit, stream_dict, stream_text
from trace_mcp._schema import shape
from trace_mcp.tools._common import (
    READ,
    ToolContext,
    ToolOutput,
    ToolSpec,
    changed_fields,
    write,
)
from trace_mcp.tools._outputs import STREAM_WRITTEN

__all__ = ["CREATE_STREAM", "GET_STREAM", "LIST_STREAMS", "UPDATE_STREAM"]


async def list_streams(ctx: ToolContext, args: ListStreamsArgs) -> ToolOutput:
    """List streams by name with entry counts, and the Inbox count."""
    streams = await ctx.trace.list_streams(ctx.principal, include_archived=args.include_archived)
    inbox = await ctx.trace.list_entries(
        ctx.principal, EntryFilter(stream="inbox", is_archived=None), limit=1
    )
    items = [stream_dict(s) for s in streams]
    kept, truncated = fit(items, ctx.budget)
    data: dict[str, Any] = {
        "streams": kept,
        "total": len(streams),
        "inbox_entry_count": inbox.total,
    }
    if truncated:
        data["truncated"] = True
    lines = [f"{len(streams)} streams; the Inbox (no stream) has {inbox.total} entries."]
    lines.extend(stream_text(item) for item in kept)
    if truncated:
        data["note"] = f"Only {len(kept)} of {len(streams)} streams fit in this answer."
        lines.append(data["note"])
    return ToolOutput(data=data, text="\n".join(lines))


LIST_STREAMS = ToolSpec(
    name="list_streams",
    title="List streams",
    description="List streams (notebooks) with entry counts and the Inbox count. Find a "
    "stream_id here.",
    args=ListStreamsArgs,
    output_schema=shape({"streams": "array", "total": "integer", "inbox_entry_count": "integer"}),
    annotations=READ,
    scope=Scope.READ,
    handler=list_streams,
)


async def get_stream(ctx: ToolContext, args: GetStreamArgs) -> ToolOutput:
    """Return one stream with its entry settings."""
    stream = await ctx.trace.get_stream(ctx.principal, args.stream_uuid())
    item = stream_dict(stream, with_settings=True)
    return ToolOutput(data={"stream": item}, text=stream_text(item))


GET_STREAM = ToolSpec(
    name="get_stream",
    title="Get a stream",
    description="A stream with its entry settings that are on (types, statuses, rating).",
    args=GetStreamArgs,
    output_schema=STREAM_WRITTEN,
    annotations=READ,
    scope=Scope.READ,
    handler=get_stream,
)


async def create_stream(ctx: ToolContext, args: CreateStreamArgs) -> ToolOutput:
    """Create a stream."""
    stream = await ctx.trace.create_stream(ctx.principal, args.to_new_stream())
    item = stream_dict(stream, with_settings=True)
    message = f"Created stream {stream.name} ({stream.stream_id})."
    return ToolOutput(data={"stream": item}, text=f"{message}\n{stream_text(item)}")


CREATE_STREAM = ToolSpec(
    name="create_stream",
    title="Create a stream",
    description="Create a stream (notebook) and its entry settings. Names are unique.",
    args=CreateStreamArgs,
    output_schema=STREAM_WRITTEN,
    annotations=write(destructive=False, idempotent=False),
    scope=Scope.FULL,
    handler=create_stream,
)


async def update_stream(ctx: ToolContext, args: UpdateStreamArgs) -> ToolOutput:
    """Change a stream; entry_settings are merged into the current ones."""
    stream_id = args.stream_uuid()
    current = None
    if not isinstance(args.entry_settings, UnsetType):
        current = (await ctx.trace.get_stream(ctx.principal, stream_id)).entry_settings
    patch = args.to_patch(current)
    stream = await ctx.trace.update_stream(ctx.principal, stream_id, patch)
    item = stream_dict(stream, with_settings=True)
    message = f"Updated stream {stream.name} ({', '.join(changed_fields(patch))})."
    return ToolOutput(data={"stream": item}, text=f"{message}\n{stream_text(item)}")


UPDATE_STREAM = ToolSpec(
    name="update_stream",
    title="Update a stream",
    description="Change a stream: only fields passed change; entry_settings merge into the "
    "current ones. Archiving hides it; entries stay.",
    args=UpdateStreamArgs,
    output_schema=STREAM_WRITTEN,
    annotations=write(destructive=True, idempotent=True),
    scope=Scope.FULL,
    handler=update_stream,
)
