"""``search`` and ``fetch``: the pair ChatGPT connectors and deep research look for."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import msgspec

from trace_core.inputs import FetchArgs, SearchArgs
from trace_core.model import Scope
from trace_mcp._render import entry_dict, json_size
from trace_mcp._schema import shape
from trace_mcp.tools._common import READ, ToolContext, ToolOutput, ToolSpec

__all__ = ["FETCH", "SEARCH"]


def _entry_url(ctx: ToolContext, entry_id: UUID) -> str:
    base = (ctx.public_url or "").rstrip("/")
    return f"{base}/entries/{entry_id}"


def _title(title: str | None, content: str, entry_date: date) -> str:
    if title:
        return title
    first = next((line.strip("# ").strip() for line in content.splitlines() if line.strip()), "")
    return (first[:80] + "...") if len(first) > 80 else (first or entry_date.isoformat())


async def search(ctx: ToolContext, args: SearchArgs) -> ToolOutput:
    """ChatGPT-style search: ids, titles and URLs of the best matches."""
    result = await ctx.trace.search_entries(ctx.principal, args.query, limit=20)
    results = [
        {
            "id": str(hit.entry.entry_id),
            "title": _title(hit.entry.title, hit.entry.content, hit.entry.entry_date),
            "url": _entry_url(ctx, hit.entry.entry_id),
        }
        for hit in result.hits
    ]
    data = {"results": results}
    return ToolOutput(data=data, text=msgspec.json.encode(data).decode())


SEARCH = ToolSpec(
    name="search",
    title="Search (connectors)",
    description="Search entries (connectors' search): ids, titles, URLs.",
    args=SearchArgs,
    output_schema=shape({"results": "array"}),
    annotations=READ,
    scope=Scope.READ,
    handler=search,
)


async def fetch(ctx: ToolContext, args: FetchArgs) -> ToolOutput:
    """ChatGPT-style fetch: one entry's full text by id."""
    detail = await ctx.trace.get_entry(ctx.principal, args.entry_uuid())
    e = detail.entry
    item = entry_dict(e, detail.stream, include_content=False, detail=True)
    item["stream_name"] = detail.stream.name if detail.stream is not None else None
    metadata = {
        k: item[k]
        for k in ("stream_name", "entry_date", "tags", "status", "type", "rating", "updated_at")
        if item.get(k) not in (None, [], "")
    }
    document: dict[str, Any] = {
        "id": str(e.entry_id),
        "title": _title(e.title, e.content, e.entry_date),
        "text": e.content,
        "url": _entry_url(ctx, e.entry_id),
        "metadata": metadata,
    }
    budget = ctx.budget - json_size({**document, "text": ""})
    if len(e.content) > budget:
        document["text"] = e.content[: max(budget - 100, 0)] + "..."
        metadata["truncated"] = True
    return ToolOutput(data=document, text=msgspec.json.encode(document).decode())


FETCH = ToolSpec(
    name="fetch",
    title="Fetch (connectors)",
    description="Fetch an entry by an id from search: full text, title, URL, metadata.",
    args=FetchArgs,
    output_schema=shape(
        {"id": "string", "title": "string", "text": "string", "url": "string"},
        {"metadata": "object"},
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=fetch,
)
