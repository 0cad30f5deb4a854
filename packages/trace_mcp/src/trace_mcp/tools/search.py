"""``search_entries``: ranked full-text search with snippets and the list_entries filters."""

from __future__ import annotations

from typing import Any

from trace_core.inputs import SearchEntriesArgs, or_none
from trace_core.model import Scope
from trace_mcp._render import entry_dict
from trace_mcp._schema import array_of, obj
from trace_mcp.tools._common import (
    READ,
    ToolContext,
    ToolOutput,
    ToolSpec,
    add_image_counts,
    page_text,
    render_entries,
)
from trace_mcp.tools._outputs import ENTRY_OUT, PAGE_OUT

__all__ = ["SEARCH_ENTRIES"]


async def search_entries(ctx: ToolContext, args: SearchEntriesArgs) -> ToolOutput:
    """Ranked full-text search with snippets and the list_entries filters."""
    filters = args.to_filter()
    cursor = or_none(args.cursor)
    result = await ctx.trace.search_entries(
        ctx.principal, args.query, filters=filters, limit=args.limit, cursor=cursor
    )
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = []
    for hit in result.hits:
        item = entry_dict(
            hit.entry,
            streams.get(hit.entry.stream_id) if hit.entry.stream_id else None,
            include_content=args.include_content,
            content_limit=or_none(args.content_limit),
        )
        item["score"] = round(hit.score, 4)
        item["snippet"] = hit.snippet
        rendered.append(item)
    await add_image_counts(ctx, [hit.entry for hit in result.hits], rendered)
    items, truncated = render_entries(ctx, rendered)
    dropped = len(items) < len(result.hits)
    next_cursor = result.next_cursor
    if dropped:
        # As in list_entries: the facade makes the cursor for the shorter page.
        shorter = await ctx.trace.search_entries(
            ctx.principal, args.query, filters=filters, limit=len(items), cursor=cursor
        )
        next_cursor = shorter.next_cursor
    note = None
    if truncated:
        note = (
            "Answer cut to fit the size cap: "
            + ("later hits are on the next page; " if dropped else "")
            + "long contents were shortened (content_truncated). Use get_entry for a full entry."
        )
    if result.relaxed:
        relaxed = "No entry had every word, so entries with any of the words are shown."
        note = f"{relaxed} {note}" if note else relaxed
    data: dict[str, Any] = {
        "entries": items,
        "count": len(items),
        "query": result.query,
        "limit": result.limit,
        "has_more": next_cursor is not None,
        "next_cursor": next_cursor,
        "relaxed": result.relaxed,
        "truncated": truncated,
    }
    if note:
        data["note"] = note
    header = f"{len(items)} entries match {result.query!r}, best first."
    if next_cursor:
        header += f" More: cursor={next_cursor!r}."
    return ToolOutput(data=data, text=page_text(header, items, note))


SEARCH_ENTRIES = ToolSpec(
    name="search_entries",
    title="Search entries",
    description="Ranked full-text search over the person's entries (title, content, tags), "
    "best match first, each with a highlighted snippet. Write the query in plain words; "
    "punctuation is fine. Takes the same filters as list_entries. Use it to answer "
    "questions about what the person wrote.",
    args=SearchEntriesArgs,
    output_schema=obj(
        {
            "entries": array_of(ENTRY_OUT),
            "query": {"type": "string"},
            "relaxed": {"type": "boolean"},
            **PAGE_OUT,
        },
        required=("entries", "query", "has_more"),
        additional=True,
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=search_entries,
)
