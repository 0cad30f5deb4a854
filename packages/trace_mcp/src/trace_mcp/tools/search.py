"""``search_entries``: ranked full-text search with snippets and the list_entries filters."""

from __future__ import annotations

from typing import Any

from trace_core.inputs import SearchEntriesArgs, or_none
from trace_core.model import Scope
from trace_mcp._render import entry_dict, preview, streams_named
from trace_mcp._schema import shape
from trace_mcp.tools._common import (
    READ,
    ToolContext,
    ToolOutput,
    ToolSpec,
    add_image_counts,
    page_text,
    render_entries,
)

__all__ = ["SEARCH_ENTRIES"]


async def search_entries(ctx: ToolContext, args: SearchEntriesArgs) -> ToolOutput:
    """Ranked full-text search with snippets and the list_entries filters."""
    filters = args.to_filter()
    cursor = or_none(args.cursor)
    result = await ctx.trace.search_entries(
        ctx.principal, args.query, filters=filters, limit=args.limit, cursor=cursor
    )
    streams = await ctx.trace.streams_by_id(ctx.principal)
    limit = or_none(args.content_limit)
    # Content only when asked for (include_content, or a content_limit to cut it to);
    # otherwise the snippet and the entry's opening words.
    with_content = args.include_content or limit is not None
    rendered = []
    for hit in result.hits:
        item = entry_dict(
            hit.entry,
            streams.get(hit.entry.stream_id) if hit.entry.stream_id else None,
            include_content=with_content,
            content_limit=limit,
        )
        item["snippet"] = hit.snippet
        if not with_content:
            item["preview"] = preview(hit.entry.content)
        if hit.relaxed:
            item["relaxed"] = True
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
    notes = [note] if note else []
    if result.corrected:
        notes.insert(0, "Also searched: " + _corrections(result.corrected) + ".")
    if result.relaxed:
        notes.insert(0, "Hits marked relaxed have only some of the words.")
    if result.suggestions:
        notes.insert(0, "Nothing found. Try: " + "; ".join(result.suggestions) + ".")
    note = " ".join(notes) or None
    named = streams_named((hit.entry.stream_id for hit in result.hits[: len(items)]), streams)
    data: dict[str, Any] = {
        "entries": items,
        "query": result.query,
        "has_more": next_cursor is not None,
    }
    if result.total is not None:
        data["total"] = result.total
        if result.total_more:
            data["total_more"] = True
    if next_cursor is not None:
        data["next_cursor"] = next_cursor
    if result.relaxed:
        data["relaxed"] = True
    if result.corrected:
        data["corrected"] = dict(result.corrected)
    if result.suggestions:
        data["suggestions"] = list(result.suggestions)
    if truncated:
        data["truncated"] = True
    if note:
        data["note"] = note
    data["streams"] = named
    counted = f"{result.total}+" if result.total_more else str(result.total)
    full = f" (of {counted} with every word)" if result.total not in (None, len(items)) else ""
    header = f"{len(items)} entries match {result.query!r}{full}, best first."
    if next_cursor:
        header += f" More: cursor={next_cursor!r}."
    return ToolOutput(data=data, text=page_text(header, items, note, named))


def _corrections(pairs: tuple[tuple[str, str], ...]) -> str:
    """Return ``'dentst' as 'dentist', ...`` for a note."""
    return ", ".join(f"{typed!r} as {near!r}" for typed, near in pairs)


SEARCH_ENTRIES = ToolSpec(
    name="search_entries",
    title="Search entries",
    description="Ranked full-text search, best first: each hit has a snippet and the entry's "
    "opening words; content only with include_content or content_limit (then "
    "get_entry for one entry). Same filters as list_entries.",
    args=SearchEntriesArgs,
    output_schema=shape(
        {"entries": "array", "query": "string", "has_more": "boolean", "streams": "object"},
        {"next_cursor": "string"},
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=search_entries,
)
