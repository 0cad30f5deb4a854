"""The entry tools: list, get, create, update, delete, an entry's history, and the tags."""

from __future__ import annotations

from typing import Any

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
    entry_dict,
    entry_text,
    fit,
    iso,
    json_size,
    shrink_content,
    version_dict,
)
from trace_mcp._schema import array_of, obj
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
from trace_mcp.tools._outputs import ATTACHMENT_OUT, ENTRY_OUT, PAGE_OUT, entry_result

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
        "stream_filter": filters.stream if isinstance(filters.stream, str) else str(filters.stream),
    }
    if note:
        data["note"] = note
    header = (
        f"{len(items)} of {page.total} entries in {stream_label(filters.stream, streams)}"
        f" (offset {page.offset})."
    )
    if has_more:
        header += f" More: cursor={next_cursor!r} or offset={data['next_offset']}."
    return ToolOutput(data=data, text=page_text(header, items, note))


LIST_ENTRIES = ToolSpec(
    name="list_entries",
    title="List entries",
    description="List entries newest first (by entry_date; sort for other orders), "
    "filtered by stream, tags, status, type, archived/pinned flags, a date range, due dates "
    "(due_before, overdue) and plain text. stream_id omitted = "
    'every stream and the Inbox; null or "inbox" = the Inbox only. Page with next_cursor '
    "(or offset). For a question about content, prefer search_entries.",
    args=ListEntriesArgs,
    output_schema=obj(
        {"entries": array_of(ENTRY_OUT), "stream_filter": {"type": "string"}, **PAGE_OUT},
        required=("entries", "total", "has_more"),
        additional=True,
    ),
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
    item = entry_dict(entry, detail.stream, content_limit=or_none(args.content_limit))
    item["content_length"] = len(detail.entry.content)
    if detail.attachments:
        item["image_count"] = len(detail.attachments)
    attachments = [attachment_dict(a) for a in detail.attachments]
    data: dict[str, Any] = {"entry": item, "attachments": attachments, "truncated": False}
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
    text = entry_text(data["entry"])
    if attachments:
        text += "\n\nAttachments:\n" + "\n".join(
            f"- {a['attachment_id']}: {a['mime_type']}, {a['file_size']} bytes, "
            f"{a['width']}x{a['height']}"
            for a in attachments
        )
    if data.get("note"):
        text += "\n\n" + data["note"]
    return ToolOutput(data=data, text=text)


GET_ENTRY = ToolSpec(
    name="get_entry",
    title="Get an entry",
    description="Get one entry with its full Markdown content, attachment metadata and "
    "stream_context (the stream's allowed values). Read an entry before updating it, and "
    "pass its version as expected_version.",
    args=GetEntryArgs,
    output_schema=obj(
        {
            "entry": ENTRY_OUT,
            "attachments": array_of(ATTACHMENT_OUT),
            "truncated": {"type": "boolean"},
            "next_content_offset": {"type": "integer"},
            "content_offset": {"type": "integer"},
            "note": {"type": "string"},
        },
        required=("entry", "attachments"),
        additional=True,
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=get_entry,
)


async def create_entry(ctx: ToolContext, args: CreateEntryArgs) -> ToolOutput:
    """Create an entry."""
    entry = await ctx.trace.create_entry(ctx.principal, args.to_draft())
    where = "the Inbox" if entry.stream_id is None else f"stream {entry.stream_id}"
    return await entry_output(ctx, entry, f"Created entry {entry.entry_id} in {where}.")


CREATE_ENTRY = ToolSpec(
    name="create_entry",
    title="Create an entry",
    description="Create an entry (note, journal page, task) with Markdown content. Without "
    "stream_id it goes to the Inbox. In a stream, status defaults to the stream's default; "
    "type and status must be among the stream's allowed values (get_stream); rating is in "
    "the stream's display units (stars 0-5, or 0-10). entry_date defaults to today.",
    args=CreateEntryArgs,
    output_schema=entry_result(),
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
        f"Updated entry {entry.entry_id} ({', '.join(changed_fields(patch))}); "
        f"now at version {entry.version}.",
    )


UPDATE_ENTRY = ToolSpec(
    name="update_entry",
    title="Update an entry",
    description="Change an entry: only the fields you pass change; null clears a field; "
    "tags REPLACE the list; content REPLACES the text. Pass expected_version (from "
    "get_entry) so a concurrent edit is reported as a version conflict instead of being "
    "overwritten. Every change is kept in the entry's history.",
    args=UpdateEntryArgs,
    output_schema=entry_result(),
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
        f"Moved entry {entry.entry_id} to the trash. restore_entry brings it back until {until}."
    )
    data = {
        "entry_id": str(entry.entry_id),
        "deleted": True,
        "deleted_at": iso(entry.deleted_at),
        "restorable_until": until,
        "version": entry.version,
        "message": message,
    }
    return ToolOutput(data=data, text=message)


DELETE_ENTRY = ToolSpec(
    name="delete_entry",
    title="Delete an entry",
    description="Move an entry to the trash (soft delete). It disappears from lists and "
    "search and can be brought back with restore_entry for 30 days, then it is purged.",
    args=DeleteEntryArgs,
    output_schema=obj(
        {
            "entry_id": {"type": "string"},
            "deleted": {"type": "boolean"},
            "deleted_at": {"type": "string"},
            "restorable_until": {"type": "string"},
            "version": {"type": "integer"},
            "message": {"type": "string"},
        },
        required=("entry_id", "deleted"),
        additional=True,
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
        "count": len(items),
        "total": len(versions),
        "has_more": has_more,
        "next_offset": offset + len(items) if has_more else None,
        "truncated": truncated,
    }
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
    description="List an entry's versions, newest first: each snapshot with the action "
    "(create, update, delete, restore, attachment_added, attachment_removed) and who wrote it "
    "(key, app). Use it to see what changed or to recover old text (then update_entry with it).",
    args=EntryHistoryArgs,
    output_schema=obj(
        {
            "entry_id": {"type": "string"},
            "versions": array_of(
                obj(
                    {
                        "version": {"type": "integer"},
                        "action": {"type": "string"},
                        "written_by": {"type": "string"},
                        "written_at": {"type": "string"},
                        "attachment": obj(
                            {
                                "attachment_id": {"type": "string"},
                                "mime_type": {"type": "string"},
                                "filename": {"type": "string"},
                            },
                            required=("attachment_id",),
                            description="The image an attachment_* action added, removed "
                            "or restored.",
                        ),
                        "snapshot": ENTRY_OUT,
                    },
                    required=("version", "action", "written_by", "snapshot"),
                    additional=True,
                )
            ),
            "count": {"type": "integer"},
            "total": {"type": "integer"},
            "has_more": {"type": "boolean"},
            "next_offset": {"type": ["integer", "null"]},
            "truncated": {"type": "boolean"},
        },
        required=("entry_id", "versions", "total"),
        additional=True,
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
    data: dict[str, Any] = {"tags": kept, "total": len(items), "truncated": truncated}
    text = f"{len(items)} tags, most used first:\n" + "\n".join(
        f"- {t['tag']} ({t['count']})" for t in kept
    )
    if truncated:
        data["note"] = f"Only the {len(kept)} most used tags fit in this answer."
        text += "\n" + data["note"]
    return ToolOutput(data=data, text=text)


LIST_TAGS = ToolSpec(
    name="list_tags",
    title="List tags",
    description="List every tag used on live entries with how many entries carry it, most "
    "used first. Use it to reuse existing tags instead of inventing near-duplicates.",
    args=NoArgs,
    output_schema=obj(
        {
            "tags": array_of(
                obj(
                    {"tag": {"type": "string"}, "count": {"type": "integer"}},
                    required=("tag", "count"),
                )
            ),
            "total": {"type": "integer"},
            "truncated": {"type": "boolean"},
            "note": {"type": "string"},
        },
        required=("tags", "total"),
        additional=True,
    ),
    annotations=READ,
    scope=Scope.READ,
    handler=list_tags,
)
