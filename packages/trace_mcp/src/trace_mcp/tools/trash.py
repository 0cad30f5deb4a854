"""The trash tools: ``list_trash`` and ``restore_entry`` (``delete_entry`` fills the trash)."""

from __future__ import annotations

from typing import Any

from trace_core.inputs import ListTrashArgs, RestoreEntryArgs, or_none
from trace_core.model import Scope
from trace_mcp._render import entry_dict, iso, streams_named
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
from trace_mcp.tools._outputs import ENTRY_PAGE_OUT, ENTRY_WRITTEN

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
    named = streams_named((e.stream_id for e in page.items[: len(items)]), streams)
    data: dict[str, Any] = {"entries": items, "total": page.total, "has_more": has_more}
    if has_more:
        data["next_cursor"] = next_cursor
        data["next_offset"] = page.offset + len(items)
    if truncated:
        data["truncated"] = True
    data["streams"] = {sid: {"name": c["name"]} for sid, c in named.items()}
    header = (
        f"{len(items)} of {page.total} deleted entries (restorable for "
        f"{ctx.trace.limits.trash_retention_days} days; restore_entry brings one back)."
    )
    if has_more:
        header += f" More: cursor={next_cursor!r} or offset={data['next_offset']}."
    return ToolOutput(data=data, text=page_text(header, items, None, data["streams"], rules=False))


LIST_TRASH = ToolSpec(
    name="list_trash",
    title="List the trash",
    description="Deleted entries, latest first, with when each is purged.",
    args=ListTrashArgs,
    output_schema=ENTRY_PAGE_OUT,
    annotations=READ,
    scope=Scope.READ,
    handler=list_trash,
)


async def restore_entry(ctx: ToolContext, args: RestoreEntryArgs) -> ToolOutput:
    """Bring an entry back from the trash."""
    entry = await ctx.trace.restore_entry(ctx.principal, args.entry_uuid())
    return await entry_output(ctx, entry, "Restored")


RESTORE_ENTRY = ToolSpec(
    name="restore_entry",
    title="Restore an entry",
    description="Bring an entry back from the trash (to its stream, or the Inbox if the stream "
    "is gone).",
    args=RestoreEntryArgs,
    output_schema=ENTRY_WRITTEN,
    annotations=write(destructive=False, idempotent=True),
    scope=Scope.FULL,
    handler=restore_entry,
)
