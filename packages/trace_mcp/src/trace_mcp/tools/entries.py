"""The entry tools: list, get, create, update, delete, an entry's history, and the tags."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import msgspec

from trace_core.inputs import (
    CreateEntryArgs,
    DeleteEntryArgs,
    EntryHistoryArgs,
    GetEntryArgs,
    ListEntriesArgs,
    NoArgs,
    UpdateEntryArgs,
    or_none,
)
from trace_core.model import Scope
from trace_mcp._render import (
    attachment_dict,
    attachment_text,
    context_text,
    entry_dict,
    entry_text,
    fit,
    iso,
    json_size,
    shrink_content,
    stream_context,
    streams_named,
    version_dict,
)
from trace_mcp._schema import shape
from trace_mcp.tools._common import (
    READ,
    ToolContext,
    ToolOutput,
    ToolSpec,
    add_image_counts,
    changed_fields,
    entry_output,
    page_text,
    render_entries,
    stream_label,
    write,
)
from trace_mcp.tools._outputs import ENTRY_PAGE_OUT, ENTRY_WRITTEN

__all__ = [
    "CREATE_ENTRY",
    "DELETE_ENTRY",
    "GET_ENTRY",
    "GET_ENTRY_HISTORY",
    "LIST_ENTRIES",
    "LIST_TAGS",
    "UPDATE_ENTRY",
]


async def list_entries(ctx: ToolContext, args: ListEntriesArgs) -> ToolOutput:
    """List entries newest first with filters and paging."""
    filters = args.to_filter()
    cursor = or_none(args.cursor)
    page = await ctx.trace.list_entries(
        ctx.principal,
        filters,
        limit=args.limit,
        offset=args.offset,
        cursor=cursor,
        sort=args.sort,
        overdue=args.overdue,
    )
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = [
        entry_dict(
            e,
            streams.get(e.stream_id) if e.stream_id else None,
            include_content=args.include_content,
            content_limit=or_none(args.content_limit),
        )
        for e in page.items
    ]
    await add_image_counts(ctx, page.items, rendered)
    items, truncated = render_entries(ctx, rendered)
    dropped = len(items) < len(page.items)
    next_cursor = page.next_cursor
    has_more = page.next_cursor is not None or dropped
    if dropped:
        # The cursor for "after the last entry shown" is the facade's to make (keyset
        # or search cursor, depending on the query): ask it for the shorter page.
        shorter = await ctx.trace.list_entries(
            ctx.principal,
            filters,
            limit=len(items),
            offset=args.offset,
            cursor=cursor,
            sort=args.sort,
            overdue=args.overdue,
        )
        next_cursor = shorter.next_cursor
    note = None
    if truncated:
        note = (
            "Answer cut to fit the size cap: "
            + (
                f"{len(page.items) - len(items)} entries left for the next page; "
                if dropped
                else ""
            )
            + "long contents were shortened (content_truncated). Use get_entry for a full entry, "
            "or include_content=false / content_limit for smaller pages."
        )
    named = streams_named((e.stream_id for e in page.items[: len(items)]), streams)
    data: dict[str, Any] = {"entries": items, "total": page.total, "has_more": has_more}
    if isinstance(filters.stream, UUID):
        # One stream asked for: its id is said once for the page, not on every entry.
        data["stream_id"] = str(filters.stream)
        data["entries"] = [{k: v for k, v in i.items() if k != "stream_id"} for i in items]
    if has_more:
        data["next_cursor"] = next_cursor
        data["next_offset"] = page.offset + len(items)
    if truncated:
        data["truncated"] = True
    if note:
        data["note"] = note
    data["streams"] = named
    header = (
        f"{len(items)} of {page.total} entries in {stream_label(filters.stream, streams)}"
        f" (offset {page.offset})."
    )
    if has_more:
        header += f" More: cursor={next_cursor!r} or offset={data['next_offset']}."
    return ToolOutput(data=data, text=page_text(header, items, note, named))


LIST_ENTRIES = ToolSpec(
    name="list_entries",
    title="List entries",
    description="List entries with filters, newest entry_date first (or by sort). Page with "
    "next_cursor. To find content, use search_entries.",
    args=ListEntriesArgs,
    output_schema=ENTRY_PAGE_OUT,
    annotations=READ,
    scope=Scope.READ,
    handler=list_entries,
)


async def get_entry(ctx: ToolContext, args: GetEntryArgs) -> ToolOutput:
    """Return one entry with full content, attachments and stream context."""
    detail = await ctx.trace.get_entry(ctx.principal, args.entry_uuid())
    entry = detail.entry
    start = args.content_offset
    if start:
        entry = msgspec.structs.replace(entry, content=entry.content[start:])
    item = entry_dict(entry, detail.stream, content_limit=or_none(args.content_limit), detail=True)
    item["content_length"] = len(detail.entry.content)
    if detail.attachments:
        item["image_count"] = len(detail.attachments)
    attachments = [attachment_dict(a) for a in detail.attachments]
    data: dict[str, Any] = {"entry": item}
    if attachments:
        data["attachments"] = attachments
    context = stream_context(detail.stream) if detail.stream is not None else None
    if context is not None:
        data["stream_context"] = context
    if start:
        data["content_offset"] = start
    overhead = json_size({**data, "entry": {**item, "content": ""}})
    if json_size(data) > ctx.budget:
        shrunk = shrink_content(item, ctx.budget - overhead + json_size(item) - json_size(data))
        shown = len(shrunk["content"]) - 3
        data["entry"] = shrunk
        data["truncated"] = True
        data["next_content_offset"] = start + shown
        data["note"] = (
            f"Content cut at character {start + shown} of {len(detail.entry.content)}: "
            f"call get_entry again with content_offset={start + shown} for the rest."
        )
    contexts = {item["stream_id"]: context} if context is not None else None
    text = entry_text(data["entry"], contexts)
    if context is not None:
        text += f"\n\nStream rules: {context_text(context)}"
    if attachments:
        text += "\n\nAttachments:\n" + "\n".join(f"- {attachment_text(a)}" for a in attachments)
    if data.get("note"):
        text += "\n\n" + data["note"]
    return ToolOutput(data=data, text=text)


GET_ENTRY = ToolSpec(
    name="get_entry",
    title="Get an entry",
    description="Get one entry: full content, images, its stream's rules. Pass its version as "
    "expected_version when updating.",
    args=GetEntryArgs,
    output_schema=shape(
        {"entry": "object"},
        {"attachments": "array", "stream_context": "object", "next_content_offset": "integer"},
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=get_entry,
)


async def create_entry(ctx: ToolContext, args: CreateEntryArgs) -> ToolOutput:
    """Create an entry."""
    entry = await ctx.trace.create_entry(ctx.principal, args.to_draft())
    return await entry_output(ctx, entry, "Created", include_content=args.include_content)


CREATE_ENTRY = ToolSpec(
    name="create_entry",
    title="Create an entry",
    description="Create an entry (Markdown); no stream_id: the Inbox. type, status and "
    "rating follow the stream's settings (get_stream). Answers id and version.",
    args=CreateEntryArgs,
    output_schema=ENTRY_WRITTEN,
    annotations=write(destructive=False, idempotent=False),
    scope=Scope.FULL,
    handler=create_entry,
)


async def update_entry(ctx: ToolContext, args: UpdateEntryArgs) -> ToolOutput:
    """Change the given fields of an entry (null clears; tags replace)."""
    patch = args.to_patch()
    entry = await ctx.trace.update_entry(
        ctx.principal,
        args.entry_uuid(),
        patch,
        expected_version=or_none(args.expected_version),
    )
    return await entry_output(
        ctx,
        entry,
        "Updated",
        changed=changed_fields(patch),
        include_content=args.include_content,
    )


UPDATE_ENTRY = ToolSpec(
    name="update_entry",
    title="Update an entry",
    description="Change an entry: only fields passed change; null clears; tags and content "
    "REPLACE. Pass expected_version.",
    args=UpdateEntryArgs,
    output_schema=ENTRY_WRITTEN,
    annotations=write(destructive=True, idempotent=False),
    scope=Scope.FULL,
    handler=update_entry,
)


async def delete_entry(ctx: ToolContext, args: DeleteEntryArgs) -> ToolOutput:
    """Move an entry to the trash."""
    entry = await ctx.trace.delete_entry(
        ctx.principal, args.entry_uuid(), expected_version=or_none(args.expected_version)
    )
    until = iso(ctx.trace.purge_at(entry))
    message = (
        f"Moved entry {entry.entry_id} to the trash (version {entry.version}); restore_entry "
        f"brings it back until {until}."
    )
    data = {
        "entry_id": str(entry.entry_id),
        "deleted": True,
        "version": entry.version,
        "restorable_until": until,
    }
    return ToolOutput(data=data, text=message)


DELETE_ENTRY = ToolSpec(
    name="delete_entry",
    title="Delete an entry",
    description="Move an entry to the trash: restore_entry brings it back for 30 days.",
    args=DeleteEntryArgs,
    output_schema=shape(
        {"entry_id": "string", "deleted": "boolean", "version": "integer"},
        {"restorable_until": "string"},
    ),
    annotations=write(destructive=True, idempotent=True),
    scope=Scope.FULL,
    handler=delete_entry,
)


async def get_entry_history(ctx: ToolContext, args: EntryHistoryArgs) -> ToolOutput:
    """List an entry's versions, newest first, with who wrote each."""
    entry_id = args.entry_uuid()
    versions = await ctx.trace.entry_history(ctx.principal, entry_id)
    offset = args.offset
    chosen = versions[offset : offset + args.limit]
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = [
        version_dict(
            v,
            streams.get(v.snapshot.stream_id) if v.snapshot.stream_id else None,
            include_content=args.include_content,
            content_limit=or_none(args.content_limit),
        )
        for v in chosen
    ]
    items, truncated = fit(rendered, ctx.budget)
    if truncated and rendered:
        # Snapshots of a long entry: cut each snapshot's content to an equal share.
        share = max(ctx.budget // len(rendered) - 200, 500)
        cut = [{**v, "snapshot": shrink_content(v["snapshot"], share)} for v in rendered]
        items = fit(cut, ctx.budget)[0]
    has_more = offset + len(items) < len(versions)
    data: dict[str, Any] = {
        "entry_id": str(entry_id),
        "versions": items,
        "total": len(versions),
        "has_more": has_more,
    }
    if has_more:
        data["next_offset"] = offset + len(items)
    if truncated:
        data["truncated"] = True
    lines = [f"{len(versions)} versions of entry {entry_id}, newest first."]
    for v in items:
        snap = v["snapshot"]
        image = v.get("attachment")
        named = (
            f" (image {image['attachment_id']}"
            + (f", {image['filename']}" if image.get("filename") else "")
            + ")"
            if image
            else ""
        )
        lines.append(
            f"\n## version {v['version']}: {v['action']}{named} by {v['written_by']} "
            f"at {v['written_at']}"
        )
        lines.append(entry_text(snap))
    if has_more:
        lines.append(f"\nMore: offset={data['next_offset']}.")
    return ToolOutput(data=data, text="\n".join(lines))


GET_ENTRY_HISTORY = ToolSpec(
    name="get_entry_history",
    title="Entry history",
    description="An entry's versions, newest first: snapshot, action, author. To "
    "recover old text, update_entry with it.",
    args=EntryHistoryArgs,
    output_schema=shape(
        {"entry_id": "string", "versions": "array", "total": "integer", "has_more": "boolean"},
        {"next_offset": "integer"},
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=get_entry_history,
)


async def list_tags(ctx: ToolContext, args: NoArgs) -> ToolOutput:
    """List every tag in use with its count."""
    tags = await ctx.trace.list_tags(ctx.principal)
    items = [{"tag": t.tag, "count": t.count} for t in tags]
    kept, truncated = fit(items, ctx.budget)
    data: dict[str, Any] = {"tags": {t["tag"]: t["count"] for t in kept}, "total": len(items)}
    if truncated:
        data["truncated"] = True
    text = f"{len(items)} tags (entries carrying each), most used first:\n" + "\n".join(
        f"- {t['tag']}: {t['count']}" for t in kept
    )
    if truncated:
        data["note"] = f"Only the {len(kept)} most used tags fit in this answer."
        text += "\n" + data["note"]
    return ToolOutput(data=data, text=text)


LIST_TAGS = ToolSpec(
    name="list_tags",
    title="List tags",
    description="Tags in use with counts, most used first. Reuse them.",
    args=NoArgs,
    output_schema=shape({"tags": "object", "total": "integer"}),
    annotations=READ,
    scope=Scope.READ,
    handler=list_tags,
)
