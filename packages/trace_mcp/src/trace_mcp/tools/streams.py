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
from trace_mcp._schema import array_of, obj
from trace_mcp.tools._common import (
    READ,
    ToolContext,
    ToolOutput,
    ToolSpec,
    changed_fields,
    write,
)
from trace_mcp.tools._outputs import STREAM_OUT, STREAM_WRITTEN

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
        "truncated": truncated,
    }
    lines = [f"{len(streams)} streams; the Inbox (no stream) has {inbox.total} entries."]
    lines.extend(stream_text(item) for item in kept)
    if truncated:
        data["note"] = f"Only {len(kept)} of {len(streams)} streams fit in this answer."
        lines.append(data["note"])
    return ToolOutput(data=data, text="\n".join(lines))


LIST_STREAMS = ToolSpec(
    name="list_streams",
    title="List streams",
    description="List the person's streams (notebooks) by name with entry counts, the total, "
    "and how many entries are in the Inbox. Use it to find a stream_id before listing or "
    "creating entries in a stream.",
    args=ListStreamsArgs,
    output_schema=obj(
        {
            "streams": array_of(STREAM_OUT),
            "total": {"type": "integer"},
            "inbox_entry_count": {"type": "integer"},
            "truncated": {"type": "boolean"},
            "note": {"type": "string"},
        },
        required=("streams", "total"),
        additional=True,
    ),
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
    description="Get one stream with its full entry_settings: which attributes it uses "
    "(rating, status, priority, type, due dates...), the allowed types and statuses, the "
    "default status and the rating type. Check it before writing entries into a stream.",
    args=GetStreamArgs,
    output_schema=obj({"stream": STREAM_OUT}, required=("stream",), additional=True),
    annotations=READ,
    scope=Scope.READ,
    handler=get_stream,
)


async def create_stream(ctx: ToolContext, args: CreateStreamArgs) -> ToolOutput:
    """Create a stream."""
    stream = await ctx.trace.create_stream(ctx.principal, args.to_new_stream())
    item = stream_dict(stream, with_settings=True)
    message = f"Created stream {stream.name} ({stream.stream_id})."
    return ToolOutput(
        data={"stream": item, "message": message}, text=f"{message}\n{stream_text(item)}"
    )


CREATE_STREAM = ToolSpec(
    name="create_stream",
    title="Create a stream",
    description="Create a stream (notebook) with its entry settings: which attributes "
    "entries use (rating, status, priority, type, due dates...), the allowed types and "
    "statuses, and the rating type. Names are unique.",
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
    return ToolOutput(
        data={"stream": item, "message": message}, text=f"{message}\n{stream_text(item)}"
    )


UPDATE_STREAM = ToolSpec(
    name="update_stream",
    title="Update a stream",
    description="Rename, describe, recolor, archive or change the entry settings of a "
    "stream. Only the fields you pass change; entry_settings are merged into the current "
    "settings. Archiving hides the stream from list_streams; its entries stay.",
    args=UpdateStreamArgs,
    output_schema=STREAM_WRITTEN,
    annotations=write(destructive=True, idempotent=True),
    scope=Scope.FULL,
    handler=update_stream,
)
