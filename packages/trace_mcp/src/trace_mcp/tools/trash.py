"""The trash tools: ``list_trash`` and ``restore_entry`` (``delete_entry`` fills the trash)."""

from __future__ import annotations

from typing import Any

from trace_core.inputs import ListTrashArgs, RestoreEntryArgs, or_none
from trace_core.model import Scope
from trace_mcp._render import entry_dict, iso
from trace_mcp._schema import array_of, obj
from trace_mcp.tools._common import (
    READ,
    ToolContext,
    ToolOutput,
    ToolSpec,
    entry_output,
    page_text,
    render_entries,
    write,
)
from trace_mcp.tools._outputs import ENTRY_OUT, PAGE_OUT, entry_result

__all__ = ["LIST_TRASH", "RESTORE_ENTRY"]


async def list_trash(ctx: ToolContext, args: ListTrashArgs) -> ToolOutput:
    """List deleted entries, most recently deleted first."""
    cursor = or_none(args.cursor)
    page = await ctx.trace.list_trash(
        ctx.principal, limit=args.limit, offset=args.offset, cursor=cursor
    )
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = []
    for e in page.items:
        item = entry_dict(
            e,
            streams.get(e.stream_id) if e.stream_id else None,
            include_content=args.include_content,
            content_limit=args.content_limit,
            with_context=False,
        )
        item["restorable_until"] = iso(ctx.trace.purge_at(e))
        rendered.append(item)
    items, truncated = render_entries(ctx, rendered)
    dropped = len(items) < len(page.items)
    has_more = page.next_cursor is not None or dropped
    next_cursor = page.next_cursor
    if dropped:
        # As in list_entries: the facade makes the cursor for the shorter page.
        shorter = await ctx.trace.list_trash(
            ctx.principal, limit=len(items), offset=args.offset, cursor=cursor
        )
        next_cursor = shorter.next_cursor
    data: dict[str, Any] = {
        "entries": items,
        "count": len(items),
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "has_more": has_more,
        "next_cursor": next_cursor,
        "next_offset": page.offset + len(items) if has_more else None,
        "truncated": truncated,
    }
    header = (
        f"{len(items)} of {page.total} deleted entries (restorable for "
        f"{ctx.trace.limits.trash_retention_days} days; restore_entry brings one back)."
    )
    if has_more:
        header += f" More: cursor={next_cursor!r} or offset={data['next_offset']}."
    return ToolOutput(data=data, text=page_text(header, items, None))


LIST_TRASH = ToolSpec(
    name="list_trash",
    title="List the trash",
    description="List deleted entries, most recently deleted first, with when each will be "
    "purged. Use it to find an entry to bring back with restore_entry.",
    args=ListTrashArgs,
    output_schema=obj(
        {"entries": array_of(ENTRY_OUT), **PAGE_OUT},
        required=("entries", "total", "has_more"),
        additional=True,
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=list_trash,
)


async def restore_entry(ctx: ToolContext, args: RestoreEntryArgs) -> ToolOutput:
    """Bring an entry back from the trash."""
    entry = await ctx.trace.restore_entry(ctx.principal, args.entry_uuid())
    where = "the Inbox" if entry.stream_id is None else f"stream {entry.stream_id}"
    return await entry_output(ctx, entry, f"Restored entry {entry.entry_id} to {where}.")


RESTORE_ENTRY = ToolSpec(
    name="restore_entry",
    title="Restore an entry",
    description="Bring a deleted entry back from the trash (to its stream, or the Inbox if "
    "the stream is gone).",
    args=RestoreEntryArgs,
    output_schema=entry_result(),
    annotations=write(destructive=False, idempotent=True),
    scope=Scope.FULL,
    handler=restore_entry,
)
