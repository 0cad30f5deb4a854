"""The Trace MCP tools: one :class:`ToolSpec` per tool, each a thin call into ``Trace``.

The eleven tools of the reference service keep its names, argument names,
defaults and limits (``get_docs``, ``list_streams``, ``get_stream``,
``list_entries``, ``get_entry``, ``search_entries``, ``create_entry``,
``update_entry``, ``delete_entry``, ``get_attachment_url``,
``get_attachment_data``); ours add optional arguments only. Then come the tools
the reference lacks (``list_tags``, ``list_trash``, ``restore_entry``,
``get_entry_history``, ``create_stream``, ``update_stream``) and the
``search``/``fetch`` pair ChatGPT connectors look for.

Scope and tenancy are checked by the facade on every call; a tool never decides
who may do what. ``scope`` on a spec only says which tools a read-only
connection is shown and which calls the HTTP layer answers with 403.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

import msgspec
from mcp_types import ContentBlock, ImageContent, ToolAnnotations

from trace_core.errors import InvalidInputError, UnavailableError
from trace_core.inputs import parse_date, parse_uuid
from trace_core.limits import (
    MAX_CHOICE_CHARS,
    MAX_CHOICES,
    MAX_COLOR_CHARS,
    MAX_CONTENT_CHARS,
    MAX_CURSOR_CHARS,
    MAX_DATE_CHARS,
    MAX_ICON_CHARS,
    MAX_ID_CHARS,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_STREAM_NAME_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
    MAX_VERSION,
)
from trace_core.model import (
    Entry,
    EntryDraft,
    EntryFilter,
    EntryPatch,
    EntrySettings,
    NewStream,
    Principal,
    Scope,
    Stream,
    StreamPatch,
    StreamSelector,
)
from trace_core.service import Trace
from trace_mcp._guide import GUIDE
from trace_mcp._render import (
    attachment_dict,
    entry_dict,
    entry_text,
    fit,
    iso,
    json_size,
    shrink_content,
    stream_dict,
    stream_text,
    version_dict,
)
from trace_mcp._schema import ABSENT, array_of, check_arguments, nullable, obj
from trace_mcp.signing import AttachmentUrlSigner

__all__ = [
    "TOOLS",
    "WRITE_TOOLS",
    "ToolContext",
    "ToolOutput",
    "ToolSpec",
]

Schema = dict[str, Any]
Args = dict[str, Any]

MB = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class ToolContext:
    """What a tool call runs with: the facade, the caller, and server options."""

    trace: Trace
    principal: Principal
    max_response_chars: int
    max_image_bytes: int
    signer: AttachmentUrlSigner | None
    public_url: str | None

    @property
    def budget(self) -> int:
        """Characters the structured answer may use.

        The readable text repeats what the structured content holds, so each
        gets half of the cap and the whole answer stays within it.
        """
        return self.max_response_chars // 2


@dataclass(kw_only=True)
class ToolOutput:
    """A tool's answer: structured content, readable text, and any extra blocks (images)."""

    data: dict[str, Any]
    text: str
    blocks: list[ContentBlock] = field(default_factory=list)


Handler = Callable[[ToolContext, Args], Awaitable[ToolOutput]]


@dataclass(frozen=True, kw_only=True)
class ToolSpec:
    """One tool: its public contract (name, schemas, annotations) and its handler."""

    name: str
    title: str
    description: str
    input_schema: Schema
    output_schema: Schema | None
    annotations: ToolAnnotations
    scope: Scope
    handler: Handler

    async def run(self, ctx: ToolContext, arguments: dict[str, Any] | None) -> ToolOutput:
        """Check the arguments against the input schema and run the handler."""
        return await self.handler(ctx, check_arguments(arguments, self.input_schema))


# --- schema fragments --------------------------------------------------------------

# Every text argument states its limit (trace_core.limits, which the facade
# enforces for every transport), so a client sees it and the checker refuses
# an oversized value before any work is done on it.
ID = {"type": "string", "format": "uuid", "minLength": 1, "maxLength": MAX_ID_CHARS}
DATE = {
    "type": "string",
    "format": "date",
    "maxLength": MAX_DATE_CHARS,
    "description": "YYYY-MM-DD",
}
TAGS = array_of({"type": "string", "minLength": 1, "maxLength": MAX_TAG_CHARS}, maxItems=MAX_TAGS)
CHOICE = {"type": "string", "maxLength": MAX_CHOICE_CHARS}
TITLE = {"type": ["string", "null"], "maxLength": MAX_TITLE_CHARS}
CONTENT = {"type": "string", "minLength": 1, "maxLength": MAX_CONTENT_CHARS}
QUERY = {"type": "string", "maxLength": MAX_QUERY_CHARS}
VERSION = {"type": "integer", "minimum": 1, "maximum": MAX_VERSION}

STREAM_FILTER = {
    "type": ["string", "null"],
    "maxLength": MAX_ID_CHARS,
    "description": (
        'Which entries: omit for ALL streams and the Inbox; null or "inbox" for the Inbox '
        'only (entries without a stream); a stream_id for one stream; "all" = omit.'
    ),
}
INCLUDE_CONTENT = {
    "type": "boolean",
    "default": True,
    "description": "false leaves content out (titles and metadata only): much smaller answers.",
}
CONTENT_LIMIT = {
    "type": "integer",
    "minimum": 1,
    "maximum": 100_000,
    "description": "Cut each entry's content to this many characters, append '...', "
    "and set content_truncated: true.",
}
CURSOR = {
    "type": "string",
    "maxLength": MAX_CURSOR_CHARS,
    "description": "next_cursor from the previous page, unchanged. Alternative to offset.",
}
OFFSET = {
    "type": "integer",
    "minimum": 0,
    "maximum": MAX_OFFSET,
    "default": 0,
    "description": "Entries to skip (beyond 1,000,000 page with next_cursor).",
}

FILTER_PROPS: dict[str, Schema] = {
    "stream_id": STREAM_FILTER,
    "tags": {**TAGS, "description": "Entries with ANY of these tags (see tags_mode)."},
    "tags_mode": {
        "type": "string",
        "enum": ["any", "all"],
        "default": "any",
        "description": "any: an entry matches with one of the tags; all: it needs every tag.",
    },
    "status": {**CHOICE, "description": "Only entries with this status."},
    "type": {**CHOICE, "description": "Only entries of this type."},
    "is_archived": {
        "type": ["boolean", "null"],
        "default": False,
        "description": "false (default): live entries only; true: archived only; null: both.",
    },
    "is_pinned": {
        "type": ["boolean", "null"],
        "description": "true: pinned only; false: unpinned.",
    },
    "start_date": {**DATE, "description": "entry_date on or after this day (YYYY-MM-DD)."},
    "end_date": {**DATE, "description": "entry_date on or before this day (YYYY-MM-DD)."},
}

STREAM_CONTEXT_OUT: Schema = {
    "type": ["object", "null"],
    "description": "The stream's rules for this entry; null in the Inbox.",
    "properties": {
        "stream_id": {"type": "string"},
        "stream_name": {"type": "string"},
        "rating_type": {"type": "string", "enum": ["stars", "numeric"]},
        "rating_max": {"type": "integer"},
        "types": array_of({"type": "string"}),
        "statuses": array_of({"type": "string"}),
        "default_status": {"type": ["string", "null"]},
        "enabled": {"type": "object", "additionalProperties": {"type": "boolean"}},
    },
}

ENTRY_OUT: Schema = {
    "type": "object",
    "required": ["entry_id", "stream_id", "entry_date", "tags", "version", "rating_type"],
    "properties": {
        "entry_id": {"type": "string"},
        "stream_id": {"type": ["string", "null"]},
        "stream_name": {"type": ["string", "null"]},
        "title": {"type": ["string", "null"]},
        "content": {"type": "string"},
        "content_truncated": {"type": "boolean"},
        "content_length": {"type": "integer"},
        "entry_date": {"type": "string"},
        "tags": array_of({"type": "string"}),
        "status": {"type": ["string", "null"]},
        "type": {"type": ["string", "null"]},
        "priority": {"type": "integer"},
        "priority_label": {"type": "string"},
        "rating": {"type": ["number", "null"], "description": "In display units."},
        "rating_max": {"type": "integer"},
        "rating_type": {"type": "string", "enum": ["stars", "numeric"]},
        "rating_raw": {"type": ["integer", "null"], "description": "Stored 0-10 value."},
        "due_date": {"type": ["string", "null"]},
        "is_pinned": {"type": "boolean"},
        "is_archived": {"type": "boolean"},
        "mentions": array_of({"type": "string"}),
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "version": {"type": "integer"},
        "last_edited_by": {"type": ["string", "null"]},
        "deleted_at": {"type": "string"},
        "stream_context": STREAM_CONTEXT_OUT,
        "score": {"type": "number"},
        "snippet": {"type": "string"},
    },
}

STREAM_OUT: Schema = {
    "type": "object",
    "required": ["stream_id", "name", "entry_count"],
    "properties": {
        "stream_id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": ["string", "null"]},
        "color": {"type": ["string", "null"]},
        "icon": {"type": ["string", "null"]},
        "is_private": {"type": "boolean"},
        "is_archived": {"type": "boolean"},
        "entry_count": {"type": "integer"},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "entry_settings": {"type": "object"},
    },
}

ATTACHMENT_OUT: Schema = {
    "type": "object",
    "required": ["attachment_id", "entry_id", "mime_type", "file_size"],
    "properties": {
        "attachment_id": {"type": "string"},
        "entry_id": {"type": "string"},
        "mime_type": {"type": "string"},
        "file_size": {"type": "integer"},
        "width": {"type": ["integer", "null"]},
        "height": {"type": ["integer", "null"]},
        "position": {"type": "integer"},
        "captured_at": {"type": ["string", "null"]},
        "created_at": {"type": "string"},
        "filename": {"type": "string"},
    },
}

PAGE_OUT: dict[str, Schema] = {
    "count": {"type": "integer", "description": "Entries in this answer."},
    "total": {"type": "integer", "description": "Entries matching the filters."},
    "limit": {"type": "integer"},
    "offset": {"type": "integer"},
    "has_more": {"type": "boolean"},
    "next_cursor": {"type": ["string", "null"]},
    "next_offset": {"type": ["integer", "null"]},
    "truncated": {
        "type": "boolean",
        "description": "true when the answer was cut to fit the size cap; see note.",
    },
    "note": {"type": "string"},
}

SETTINGS_IN: Schema = obj(
    {
        "use_rating": {"type": "boolean"},
        "use_status": {"type": "boolean"},
        "use_priority": {"type": "boolean"},
        "use_location": {"type": "boolean"},
        "use_photos": {"type": "boolean"},
        "use_duedates": {"type": "boolean"},
        "use_type": {"type": "boolean"},
        "types": {
            **array_of(CHOICE, maxItems=MAX_CHOICES),
            "description": "Allowed entry types.",
        },
        "statuses": {
            **array_of(CHOICE, maxItems=MAX_CHOICES),
            "description": "Allowed statuses.",
        },
        "default_status": nullable(CHOICE),
        "rating_type": {
            "type": "string",
            "enum": ["stars", "numeric"],
            "description": "stars: 0-5 (halves allowed); numeric: 0-10.",
        },
        "content_template": {"type": ["string", "null"], "maxLength": MAX_TEXT_CHARS},
        "title_template": TITLE,
    },
    description="Which entry attributes the stream uses and their allowed values.",
)

READ = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)


def _write(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


# --- argument helpers ----------------------------------------------------------------


def _uuid(args: Args, name: str) -> UUID:
    return parse_uuid(name, args[name])


def _date(args: Args, name: str) -> date | None:
    value = args.get(name)
    return None if value is None else parse_date(name, value)


def _stream_selector(args: Args) -> StreamSelector:
    """Map ``stream_id``: omitted → all streams; null/"inbox" → Inbox; "all"; a UUID."""
    if "stream_id" not in args:
        return "all"
    value = args["stream_id"]
    if value is None:
        return "inbox"
    text = str(value).strip().lower()
    if text in ("inbox", "all"):
        return "inbox" if text == "inbox" else "all"
    return parse_uuid("stream_id", value)


def _target_stream(value: object) -> UUID | None:
    """Map a stream to write into: null / "inbox" → Inbox, else a UUID."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "inbox")):
        return None
    return parse_uuid("stream_id", value)


def _filters(args: Args) -> EntryFilter:
    return EntryFilter(
        stream=_stream_selector(args),
        tags=tuple(args.get("tags") or ()),
        tags_mode=args.get("tags_mode") or "any",
        status=args.get("status"),
        type=args.get("type"),
        is_archived=args.get("is_archived", False),
        is_pinned=args.get("is_pinned"),
        start_date=_date(args, "start_date"),
        end_date=_date(args, "end_date"),
        text=args.get("query") if isinstance(args.get("query"), str) else None,
    )


def _stream_label(selector: StreamSelector, streams: dict[UUID, Stream]) -> str:
    if selector == "all":
        return "all streams and the Inbox"
    if selector == "inbox":
        return "the Inbox"
    stream = streams.get(selector) if isinstance(selector, UUID) else None
    return f"stream {stream.name}" if stream else f"stream {selector}"


def _render_entries(
    ctx: ToolContext,
    entries: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], bool]:
    """Fit rendered entries into the budget: first cut long contents evenly, then drop the tail."""
    items, truncated = fit(entries, ctx.budget)
    if not truncated or len(entries) <= 1:
        return items, truncated
    # Give every entry an equal share of what the metadata leaves (at least a few
    # hundred characters of content each) rather than dropping whole entries.
    bare = [json_size({**e, "content": ""}) if "content" in e else json_size(e) for e in entries]
    share = max((ctx.budget - sum(bare) - 2 - len(entries)) // len(entries), 300)
    cut = [shrink_content(e, size + share) for e, size in zip(entries, bare, strict=True)]
    return fit(cut, ctx.budget)[0], True


def _page_text(header: str, items: list[dict[str, Any]], note: str | None) -> str:
    blocks = [header]
    if note:
        blocks.append(note)
    blocks.extend(entry_text(item) for item in items)
    return "\n\n".join(blocks)


# --- reference tools -----------------------------------------------------------------


async def get_docs(ctx: ToolContext, args: Args) -> ToolOutput:
    """Return the guide."""
    return ToolOutput(data={"guide": GUIDE}, text=GUIDE)


async def list_streams(ctx: ToolContext, args: Args) -> ToolOutput:
    """List streams by name with entry counts, and the Inbox count."""
    streams = await ctx.trace.list_streams(
        ctx.principal, include_archived=bool(args.get("include_archived", False))
    )
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


async def get_stream(ctx: ToolContext, args: Args) -> ToolOutput:
    """Return one stream with its entry settings."""
    stream = await ctx.trace.get_stream(ctx.principal, _uuid(args, "stream_id"))
    item = stream_dict(stream, with_settings=True)
    return ToolOutput(data={"stream": item}, text=stream_text(item))


async def list_entries(ctx: ToolContext, args: Args) -> ToolOutput:
    """List entries newest first with filters and paging."""
    filters = _filters(args)
    offset = args.get("offset") or 0
    page = await ctx.trace.list_entries(
        ctx.principal,
        filters,
        limit=args.get("limit"),
        offset=offset,
        cursor=args.get("cursor"),
    )
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = [
        entry_dict(
            e,
            streams.get(e.stream_id) if e.stream_id else None,
            include_content=args.get("include_content", True) is not False,
            content_limit=args.get("content_limit"),
        )
        for e in page.items
    ]
    items, truncated = _render_entries(ctx, rendered)
    dropped = len(items) < len(page.items)
    next_cursor = page.next_cursor
    has_more = page.next_cursor is not None or dropped
    if dropped:
        # The cursor for "after the last entry shown" is the facade's to make (keyset
        # or search cursor, depending on the query): ask it for the shorter page.
        shorter = await ctx.trace.list_entries(
            ctx.principal, filters, limit=len(items), offset=offset, cursor=args.get("cursor")
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
        f"{len(items)} of {page.total} entries in {_stream_label(filters.stream, streams)}"
        f" (offset {page.offset})."
    )
    if has_more:
        header += f" More: cursor={next_cursor!r} or offset={data['next_offset']}."
    return ToolOutput(data=data, text=_page_text(header, items, note))


async def get_entry(ctx: ToolContext, args: Args) -> ToolOutput:
    """Return one entry with full content, attachments and stream context."""
    detail = await ctx.trace.get_entry(ctx.principal, _uuid(args, "entry_id"))
    entry = detail.entry
    start = args.get("content_offset") or 0
    if start:
        entry = msgspec.structs.replace(entry, content=entry.content[start:])
    item = entry_dict(entry, detail.stream, content_limit=args.get("content_limit"))
    item["content_length"] = len(detail.entry.content)
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


async def search_entries(ctx: ToolContext, args: Args) -> ToolOutput:
    """Ranked full-text search with snippets and the list_entries filters."""
    filters = msgspec.structs.replace(_filters(args), text=None)
    result = await ctx.trace.search_entries(
        ctx.principal,
        args.get("query") or "",
        filters=filters,
        limit=args.get("limit"),
        cursor=args.get("cursor"),
    )
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = []
    for hit in result.hits:
        item = entry_dict(
            hit.entry,
            streams.get(hit.entry.stream_id) if hit.entry.stream_id else None,
            include_content=args.get("include_content", True) is not False,
            content_limit=args.get("content_limit"),
        )
        item["score"] = round(hit.score, 4)
        item["snippet"] = hit.snippet
        rendered.append(item)
    items, truncated = _render_entries(ctx, rendered)
    dropped = len(items) < len(result.hits)
    next_cursor = result.next_cursor
    if dropped:
        # As in list_entries: the facade makes the cursor for the shorter page.
        shorter = await ctx.trace.search_entries(
            ctx.principal,
            args.get("query") or "",
            filters=filters,
            limit=len(items),
            cursor=args.get("cursor"),
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
    return ToolOutput(data=data, text=_page_text(header, items, note))


async def _entry_output(ctx: ToolContext, entry: Entry, message: str) -> ToolOutput:
    # The write returned the entry as stored; only its stream (for stream_context)
    # is read again, and nothing at all for the Inbox.
    stream = await ctx.trace.get_stream(ctx.principal, entry.stream_id) if entry.stream_id else None
    item = entry_dict(entry, stream)
    item = shrink_content(item, ctx.budget)
    return ToolOutput(
        data={"entry": item, "message": message}, text=f"{message}\n\n{entry_text(item)}"
    )


async def create_entry(ctx: ToolContext, args: Args) -> ToolOutput:
    """Create an entry."""
    draft = EntryDraft(
        content=args["content"],
        title=args.get("title"),
        stream_id=_target_stream(args.get("stream_id")),
        tags=tuple(args.get("tags") or ()),
        status=args.get("status"),
        entry_date=_date(args, "entry_date"),
        priority=args.get("priority"),
        rating=args.get("rating"),
        type=args.get("type"),
        due_date=_date(args, "due_date"),
        is_pinned=bool(args.get("is_pinned", False)),
    )
    entry = await ctx.trace.create_entry(ctx.principal, draft)
    where = "the Inbox" if entry.stream_id is None else f"stream {entry.stream_id}"
    return await _entry_output(ctx, entry, f"Created entry {entry.entry_id} in {where}.")


_PATCHABLE = (
    "title",
    "content",
    "stream_id",
    "tags",
    "status",
    "entry_date",
    "is_archived",
    "is_pinned",
    "priority",
    "rating",
    "type",
    "due_date",
)


async def update_entry(ctx: ToolContext, args: Args) -> ToolOutput:
    """Change the given fields of an entry (null clears; tags replace)."""
    changes: dict[str, Any] = {}
    for name in _PATCHABLE:
        value = args.get(name, ABSENT)
        if value is ABSENT:
            continue
        if name == "stream_id":
            value = _target_stream(value)
        elif name == "tags":
            value = tuple(value or ())
        elif name in ("entry_date", "due_date"):
            value = None if value is None else parse_date(name, value)
        changes[name] = value
    if not changes:
        raise InvalidInputError(
            "entry_id", "nothing to change: pass at least one field to update", allowed=_PATCHABLE
        )
    entry = await ctx.trace.update_entry(
        ctx.principal,
        _uuid(args, "entry_id"),
        EntryPatch(**changes),
        expected_version=args.get("expected_version"),
    )
    return await _entry_output(
        ctx,
        entry,
        f"Updated entry {entry.entry_id} ({', '.join(changes)}); now at version {entry.version}.",
    )


async def delete_entry(ctx: ToolContext, args: Args) -> ToolOutput:
    """Move an entry to the trash."""
    entry = await ctx.trace.delete_entry(
        ctx.principal, _uuid(args, "entry_id"), expected_version=args.get("expected_version")
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


async def get_attachment_url(ctx: ToolContext, args: Args) -> ToolOutput:
    """Return a signed download URL for an attachment, valid one hour."""
    attachment = await ctx.trace.get_attachment(ctx.principal, _uuid(args, "attachment_id"))
    if ctx.signer is None:
        raise UnavailableError("download links are not configured on this server")
    signed = ctx.signer.sign(attachment.account_id, attachment.attachment_id)
    data = {
        "attachment": attachment_dict(attachment),
        "url": signed.url,
        "expires_at": iso(signed.expires_at),
    }
    text = (
        f"Download URL for {attachment.mime_type} attachment {attachment.attachment_id} "
        f"(valid until {data['expires_at']}):\n{signed.url}"
    )
    return ToolOutput(data=data, text=text)


async def get_attachment_data(ctx: ToolContext, args: Args) -> ToolOutput:
    """Return the image inline (MCP image content) with a metadata block."""
    attachment_id = _uuid(args, "attachment_id")
    attachment = await ctx.trace.get_attachment(ctx.principal, attachment_id)
    limit = ctx.max_image_bytes
    if attachment.file_size > limit:
        raise InvalidInputError(
            "attachment_id",
            f"the image is {attachment.file_size / MB:.1f} MB; get_attachment_data returns images "
            f"up to {limit / MB:.0f} MB. Use get_attachment_url to get a download link instead",
        )
    attachment, data = await ctx.trace.read_attachment(ctx.principal, attachment_id)
    if len(data) > limit:
        raise InvalidInputError(
            "attachment_id",
            f"the image is {len(data) / MB:.1f} MB; at most {limit / MB:.0f} MB inline. "
            "Use get_attachment_url instead",
        )
    meta = attachment_dict(attachment)
    text = (
        f"Attachment {attachment.attachment_id} of entry {attachment.entry_id}: "
        f"{attachment.mime_type}, {attachment.file_size} bytes, "
        f"{attachment.width}x{attachment.height} px, position {attachment.position}."
    )
    image = ImageContent(
        type="image", data=base64.b64encode(data).decode("ascii"), mime_type=attachment.mime_type
    )
    return ToolOutput(data={"attachment": meta}, text=text, blocks=[image])


# --- ours -------------------------------------------------------------------------


async def list_tags(ctx: ToolContext, args: Args) -> ToolOutput:
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


async def list_trash(ctx: ToolContext, args: Args) -> ToolOutput:
    """List deleted entries, most recently deleted first."""
    page = await ctx.trace.list_trash(
        ctx.principal,
        limit=args.get("limit"),
        offset=args.get("offset") or 0,
        cursor=args.get("cursor"),
    )
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = []
    for e in page.items:
        item = entry_dict(
            e,
            streams.get(e.stream_id) if e.stream_id else None,
            include_content=args.get("include_content", True) is not False,
            content_limit=args.get("content_limit", 300),
            with_context=False,
        )
        item["restorable_until"] = iso(ctx.trace.purge_at(e))
        rendered.append(item)
    items, truncated = _render_entries(ctx, rendered)
    dropped = len(items) < len(page.items)
    has_more = page.next_cursor is not None or dropped
    next_cursor = page.next_cursor
    if dropped:
        # As in list_entries: the facade makes the cursor for the shorter page.
        shorter = await ctx.trace.list_trash(
            ctx.principal,
            limit=len(items),
            offset=args.get("offset") or 0,
            cursor=args.get("cursor"),
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
    return ToolOutput(data=data, text=_page_text(header, items, None))


async def restore_entry(ctx: ToolContext, args: Args) -> ToolOutput:
    """Bring an entry back from the trash."""
    entry = await ctx.trace.restore_entry(ctx.principal, _uuid(args, "entry_id"))
    where = "the Inbox" if entry.stream_id is None else f"stream {entry.stream_id}"
    return await _entry_output(ctx, entry, f"Restored entry {entry.entry_id} to {where}.")


async def get_entry_history(ctx: ToolContext, args: Args) -> ToolOutput:
    """List an entry's versions, newest first, with who wrote each."""
    entry_id = _uuid(args, "entry_id")
    versions = await ctx.trace.entry_history(ctx.principal, entry_id)
    limit = args.get("limit") or 20
    offset = args.get("offset") or 0
    chosen = versions[offset : offset + limit]
    streams = await ctx.trace.streams_by_id(ctx.principal)
    rendered = [
        version_dict(
            v,
            streams.get(v.snapshot.stream_id) if v.snapshot.stream_id else None,
            include_content=args.get("include_content", True) is not False,
            content_limit=args.get("content_limit"),
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
        lines.append(
            f"\n## version {v['version']}: {v['action']} by {v['written_by']} at {v['written_at']}"
        )
        lines.append(entry_text(snap))
    if has_more:
        lines.append(f"\nMore: offset={data['next_offset']}.")
    return ToolOutput(data=data, text="\n".join(lines))


def _entry_settings(value: dict[str, Any], base: EntrySettings | None = None) -> EntrySettings:
    merged = msgspec.to_builtins(base) if base is not None else {}
    merged.update({k: v for k, v in value.items() if v is not None or k in merged})
    try:
        return msgspec.convert(merged, EntrySettings)
    except msgspec.ValidationError as exc:
        raise InvalidInputError("entry_settings", str(exc)) from None


async def create_stream(ctx: ToolContext, args: Args) -> ToolOutput:
    """Create a stream."""
    new = NewStream(
        name=args["name"],
        description=args.get("description"),
        color=args.get("color"),
        icon=args.get("icon"),
        is_private=bool(args.get("is_private", False)),
        entry_settings=_entry_settings(args.get("entry_settings") or {}),
    )
    stream = await ctx.trace.create_stream(ctx.principal, new)
    item = stream_dict(stream, with_settings=True)
    message = f"Created stream {stream.name} ({stream.stream_id})."
    return ToolOutput(
        data={"stream": item, "message": message}, text=f"{message}\n{stream_text(item)}"
    )


async def update_stream(ctx: ToolContext, args: Args) -> ToolOutput:
    """Change a stream; entry_settings are merged into the current ones."""
    stream_id = _uuid(args, "stream_id")
    changes: dict[str, Any] = {}
    for name in ("name", "description", "color", "icon", "is_private", "is_archived"):
        if name in args:
            changes[name] = args[name]
    if "entry_settings" in args and args["entry_settings"] is not None:
        current = await ctx.trace.get_stream(ctx.principal, stream_id)
        changes["entry_settings"] = _entry_settings(args["entry_settings"], current.entry_settings)
    if not changes:
        raise InvalidInputError(
            "stream_id",
            "nothing to change: pass at least one field",
            allowed=[
                "name",
                "description",
                "color",
                "icon",
                "is_private",
                "is_archived",
                "entry_settings",
            ],
        )
    stream = await ctx.trace.update_stream(ctx.principal, stream_id, StreamPatch(**changes))
    item = stream_dict(stream, with_settings=True)
    message = f"Updated stream {stream.name} ({', '.join(changes)})."
    return ToolOutput(
        data={"stream": item, "message": message}, text=f"{message}\n{stream_text(item)}"
    )


# --- ChatGPT connectors: search / fetch ----------------------------------------------------


def _entry_url(ctx: ToolContext, entry_id: UUID) -> str:
    base = (ctx.public_url or "").rstrip("/")
    return f"{base}/entries/{entry_id}"


def _title(title: str | None, content: str, entry_date: date) -> str:
    if title:
        return title
    first = next((line.strip("# ").strip() for line in content.splitlines() if line.strip()), "")
    return (first[:80] + "...") if len(first) > 80 else (first or entry_date.isoformat())


async def search(ctx: ToolContext, args: Args) -> ToolOutput:
    """ChatGPT-style search: ids, titles and URLs of the best matches."""
    result = await ctx.trace.search_entries(ctx.principal, args["query"], limit=20)
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


async def fetch(ctx: ToolContext, args: Args) -> ToolOutput:
    """ChatGPT-style fetch: one entry's full text by id."""
    detail = await ctx.trace.get_entry(ctx.principal, parse_uuid("id", args["id"]))
    e = detail.entry
    item = entry_dict(e, detail.stream, with_context=False)
    metadata = {
        k: item[k]
        for k in ("stream_name", "entry_date", "tags", "status", "type", "rating", "updated_at")
        if item.get(k) not in (None, [], "")
    }
    document = {
        "id": str(e.entry_id),
        "title": _title(e.title, e.content, e.entry_date),
        "text": e.content,
        "url": _entry_url(ctx, e.entry_id),
        "metadata": metadata,
    }
    budget = ctx.budget - json_size({**document, "text": ""})
    if len(e.content) > budget:
        document["text"] = e.content[: max(budget - 100, 0)] + "..."
        document["metadata"]["truncated"] = True
    return ToolOutput(data=document, text=msgspec.json.encode(document).decode())


# --- the registry -------------------------------------------------------------------


def _entry_result(extra: dict[str, Schema] | None = None) -> Schema:
    return obj(
        {"entry": ENTRY_OUT, "message": {"type": "string"}, **(extra or {})},
        required=("entry",),
        additional=True,
    )


_LIST_INPUT = obj(
    {
        **FILTER_PROPS,
        "query": {
            **QUERY,
            "description": "Case-insensitive text that must appear in title, content or tags. "
            "For ranked search use search_entries.",
        },
        "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
        "offset": OFFSET,
        "cursor": CURSOR,
        "include_content": INCLUDE_CONTENT,
        "content_limit": CONTENT_LIMIT,
    }
)

_PATCH_PROPS: dict[str, Schema] = {
    "expected_version": {
        **VERSION,
        "description": "The version you read. If the entry changed since, the update fails "
        "with a version conflict naming both versions (nothing is lost).",
    },
    "title": {**TITLE, "description": "null clears."},
    "content": {
        **CONTENT,
        "description": "New Markdown content: REPLACES the old content. Send the full text.",
    },
    "stream_id": {
        "type": ["string", "null"],
        "maxLength": MAX_ID_CHARS,
        "description": 'Move to this stream; null or "inbox" moves to the Inbox.',
    },
    "tags": {
        **nullable(TAGS),
        "description": "REPLACES the tag list (include existing tags you want to keep).",
    },
    "status": {**nullable(CHOICE), "description": "One of the stream's statuses; null clears."},
    "entry_date": DATE,
    "is_archived": {"type": "boolean"},
    "is_pinned": {"type": "boolean"},
    "priority": {
        "type": ["integer", "null"],
        "enum": [0, 1, 2, 3, 4, None],
        "description": "0 none, 1 low, 2 medium, 3 high, 4 urgent.",
    },
    "rating": {
        "type": ["number", "null"],
        "minimum": 0,
        "maximum": 10,
        "description": "In the stream's display units: stars 0-5 (halves allowed) or 0-10. "
        "null clears.",
    },
    "type": {**nullable(CHOICE), "description": "One of the stream's types; null clears."},
    "due_date": {**nullable(DATE), "description": "YYYY-MM-DD; null clears."},
}

_STREAM_WRITTEN = obj(
    {"stream": STREAM_OUT, "message": {"type": "string"}}, required=("stream",), additional=True
)

TOOLS: tuple[ToolSpec, ...] = (
    ToolSpec(
        name="get_docs",
        title="Trace guide",
        description="Read this first: the guide to Trace's data model (streams, entries, "
        "Inbox, ratings, tags, trash) and how to use these tools well, with examples.",
        input_schema=obj({}),
        output_schema=obj({"guide": {"type": "string"}}, required=("guide",), additional=True),
        annotations=READ,
        scope=Scope.READ,
        handler=get_docs,
    ),
    ToolSpec(
        name="list_streams",
        title="List streams",
        description="List the person's streams (notebooks) by name with entry counts, the total, "
        "and how many entries are in the Inbox. Use it to find a stream_id before listing or "
        "creating entries in a stream.",
        input_schema=obj(
            {
                "include_archived": {
                    "type": "boolean",
                    "default": False,
                    "description": "Also list archived streams.",
                }
            }
        ),
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
    ),
    ToolSpec(
        name="get_stream",
        title="Get a stream",
        description="Get one stream with its full entry_settings: which attributes it uses "
        "(rating, status, priority, type, due dates...), the allowed types and statuses, the "
        "default status and the rating type. Check it before writing entries into a stream.",
        input_schema=obj({"stream_id": ID}, required=("stream_id",)),
        output_schema=obj({"stream": STREAM_OUT}, required=("stream",), additional=True),
        annotations=READ,
        scope=Scope.READ,
        handler=get_stream,
    ),
    ToolSpec(
        name="list_entries",
        title="List entries",
        description="List entries newest first (by entry_date), filtered by stream, tags, "
        "status, type, archived/pinned flags, a date range and plain text. stream_id omitted = "
        'every stream and the Inbox; null or "inbox" = the Inbox only. Page with next_cursor '
        "(or offset). For a question about content, prefer search_entries.",
        input_schema=_LIST_INPUT,
        output_schema=obj(
            {"entries": array_of(ENTRY_OUT), "stream_filter": {"type": "string"}, **PAGE_OUT},
            required=("entries", "total", "has_more"),
            additional=True,
        ),
        annotations=READ,
        scope=Scope.READ,
        handler=list_entries,
    ),
    ToolSpec(
        name="get_entry",
        title="Get an entry",
        description="Get one entry with its full Markdown content, attachment metadata and "
        "stream_context (the stream's allowed values). Read an entry before updating it, and "
        "pass its version as expected_version.",
        input_schema=obj(
            {
                "entry_id": ID,
                "content_offset": {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": MAX_CONTENT_CHARS,
                    "default": 0,
                    "description": "Start the content at this character (to read the rest of "
                    "a very long entry; see next_content_offset).",
                },
                "content_limit": CONTENT_LIMIT,
            },
            required=("entry_id",),
        ),
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
    ),
    ToolSpec(
        name="search_entries",
        title="Search entries",
        description="Ranked full-text search over the person's entries (title, content, tags), "
        "best match first, each with a highlighted snippet. Write the query in plain words; "
        "punctuation is fine. Takes the same filters as list_entries. Use it to answer "
        "questions about what the person wrote.",
        input_schema=obj(
            {
                "query": {**QUERY, "minLength": 1, "description": "Words to look for."},
                "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 20},
                "include_content": INCLUDE_CONTENT,
                "content_limit": CONTENT_LIMIT,
                "cursor": CURSOR,
                **FILTER_PROPS,
            },
            required=("query",),
        ),
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
    ),
    ToolSpec(
        name="create_entry",
        title="Create an entry",
        description="Create an entry (note, journal page, task) with Markdown content. Without "
        "stream_id it goes to the Inbox. In a stream, status defaults to the stream's default; "
        "type and status must be among the stream's allowed values (get_stream); rating is in "
        "the stream's display units (stars 0-5, or 0-10). entry_date defaults to today.",
        input_schema=obj(
            {
                "content": {**CONTENT, "description": "Markdown."},
                "title": TITLE,
                "stream_id": {
                    "type": ["string", "null"],
                    "maxLength": MAX_ID_CHARS,
                    "description": 'The stream; omit, null or "inbox" for the Inbox.',
                },
                "tags": nullable(TAGS),
                "status": {**nullable(CHOICE), "description": "Default: the stream's default."},
                "entry_date": {
                    **nullable(DATE),
                    "description": "The day the entry is about; default today.",
                },
                "priority": {
                    "type": ["integer", "null"],
                    "enum": [0, 1, 2, 3, 4, None],
                    "default": 0,
                    "description": "0 none, 1 low, 2 medium, 3 high, 4 urgent.",
                },
                "rating": {
                    "type": ["number", "null"],
                    "minimum": 0,
                    "maximum": 10,
                    "description": "Display units: stars 0-5 (halves allowed) or 0-10.",
                },
                "type": nullable(CHOICE),
                "due_date": nullable(DATE),
                "is_pinned": {"type": ["boolean", "null"], "default": False},
            },
            required=("content",),
        ),
        output_schema=_entry_result(),
        annotations=_write(destructive=False, idempotent=False),
        scope=Scope.FULL,
        handler=create_entry,
    ),
    ToolSpec(
        name="update_entry",
        title="Update an entry",
        description="Change an entry: only the fields you pass change; null clears a field; "
        "tags REPLACE the list; content REPLACES the text. Pass expected_version (from "
        "get_entry) so a concurrent edit is reported as a version conflict instead of being "
        "overwritten. Every change is kept in the entry's history.",
        input_schema=obj({"entry_id": ID, **_PATCH_PROPS}, required=("entry_id",)),
        output_schema=_entry_result(),
        annotations=_write(destructive=True, idempotent=False),
        scope=Scope.FULL,
        handler=update_entry,
    ),
    ToolSpec(
        name="delete_entry",
        title="Delete an entry",
        description="Move an entry to the trash (soft delete). It disappears from lists and "
        "search and can be brought back with restore_entry for 30 days, then it is purged.",
        input_schema=obj(
            {
                "entry_id": ID,
                "expected_version": {
                    **VERSION,
                    "description": "Fail with a version conflict if the entry changed since.",
                },
            },
            required=("entry_id",),
        ),
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
        annotations=_write(destructive=True, idempotent=True),
        scope=Scope.FULL,
        handler=delete_entry,
    ),
    ToolSpec(
        name="get_attachment_url",
        title="Get an attachment URL",
        description="Get a signed download URL for an image attachment (ids come from "
        "get_entry). The URL needs no login and expires after 1 hour. Use it to show or link "
        "an image; to look at the image yourself use get_attachment_data.",
        input_schema=obj({"attachment_id": ID}, required=("attachment_id",)),
        output_schema=obj(
            {
                "attachment": ATTACHMENT_OUT,
                "url": {"type": "string"},
                "expires_at": {"type": "string"},
            },
            required=("url", "expires_at"),
            additional=True,
        ),
        annotations=READ,
        scope=Scope.READ,
        handler=get_attachment_url,
    ),
    ToolSpec(
        name="get_attachment_data",
        title="Get attachment image",
        description="Get an image attachment inline (base64 MCP image content) plus its "
        "metadata, so you can look at it. Refuses files over 5 MB (use get_attachment_url).",
        input_schema=obj({"attachment_id": ID}, required=("attachment_id",)),
        output_schema=obj(
            {"attachment": ATTACHMENT_OUT}, required=("attachment",), additional=True
        ),
        annotations=READ,
        scope=Scope.READ,
        handler=get_attachment_data,
    ),
    ToolSpec(
        name="list_tags",
        title="List tags",
        description="List every tag used on live entries with how many entries carry it, most "
        "used first. Use it to reuse existing tags instead of inventing near-duplicates.",
        input_schema=obj({}),
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
    ),
    ToolSpec(
        name="list_trash",
        title="List the trash",
        description="List deleted entries, most recently deleted first, with when each will be "
        "purged. Use it to find an entry to bring back with restore_entry.",
        input_schema=obj(
            {
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50},
                "offset": OFFSET,
                "cursor": CURSOR,
                "include_content": INCLUDE_CONTENT,
                "content_limit": {**CONTENT_LIMIT, "default": 300},
            }
        ),
        output_schema=obj(
            {"entries": array_of(ENTRY_OUT), **PAGE_OUT},
            required=("entries", "total", "has_more"),
            additional=True,
        ),
        annotations=READ,
        scope=Scope.READ,
        handler=list_trash,
    ),
    ToolSpec(
        name="restore_entry",
        title="Restore an entry",
        description="Bring a deleted entry back from the trash (to its stream, or the Inbox if "
        "the stream is gone).",
        input_schema=obj({"entry_id": ID}, required=("entry_id",)),
        output_schema=_entry_result(),
        annotations=_write(destructive=False, idempotent=True),
        scope=Scope.FULL,
        handler=restore_entry,
    ),
    ToolSpec(
        name="get_entry_history",
        title="Entry history",
        description="List an entry's versions, newest first: each snapshot with the action "
        "(create, update, delete, restore) and who wrote it (key, app). Use it to see what "
        "changed or to recover old text (then update_entry with it).",
        input_schema=obj(
            {
                "entry_id": ID,
                "limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                "offset": OFFSET,
                "include_content": INCLUDE_CONTENT,
                "content_limit": CONTENT_LIMIT,
            },
            required=("entry_id",),
        ),
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
    ),
    ToolSpec(
        name="create_stream",
        title="Create a stream",
        description="Create a stream (notebook) with its entry settings: which attributes "
        "entries use (rating, status, priority, type, due dates...), the allowed types and "
        "statuses, and the rating type. Names are unique.",
        input_schema=obj(
            {
                "name": {"type": "string", "minLength": 1, "maxLength": MAX_STREAM_NAME_CHARS},
                "description": {"type": "string", "maxLength": MAX_TEXT_CHARS},
                "color": {
                    "type": "string",
                    "maxLength": MAX_COLOR_CHARS,
                    "description": "Hex color like #3b82f6.",
                },
                "icon": {
                    "type": "string",
                    "maxLength": MAX_ICON_CHARS,
                    "description": "Icon identifier, e.g. book.",
                },
                "is_private": {"type": "boolean", "default": False},
                "entry_settings": SETTINGS_IN,
            },
            required=("name",),
        ),
        output_schema=_STREAM_WRITTEN,
        annotations=_write(destructive=False, idempotent=False),
        scope=Scope.FULL,
        handler=create_stream,
    ),
    ToolSpec(
        name="update_stream",
        title="Update a stream",
        description="Rename, describe, recolor, archive or change the entry settings of a "
        "stream. Only the fields you pass change; entry_settings are merged into the current "
        "settings. Archiving hides the stream from list_streams; its entries stay.",
        input_schema=obj(
            {
                "stream_id": ID,
                "name": {"type": "string", "minLength": 1, "maxLength": MAX_STREAM_NAME_CHARS},
                "description": {"type": ["string", "null"], "maxLength": MAX_TEXT_CHARS},
                "color": {"type": ["string", "null"], "maxLength": MAX_COLOR_CHARS},
                "icon": {"type": ["string", "null"], "maxLength": MAX_ICON_CHARS},
                "is_private": {"type": "boolean"},
                "is_archived": {"type": "boolean"},
                "entry_settings": SETTINGS_IN,
            },
            required=("stream_id",),
        ),
        output_schema=_STREAM_WRITTEN,
        annotations=_write(destructive=True, idempotent=True),
        scope=Scope.FULL,
        handler=update_stream,
    ),
    ToolSpec(
        name="search",
        title="Search (connectors)",
        description="Search the person's Trace entries. Returns ids, titles and URLs; read one "
        "with fetch. (For filters, snippets and paging use search_entries.)",
        input_schema=obj(
            {"query": {**QUERY, "minLength": 1, "description": "What to look for."}},
            required=("query",),
        ),
        output_schema=obj(
            {
                "results": array_of(
                    obj(
                        {
                            "id": {"type": "string"},
                            "title": {"type": "string"},
                            "url": {"type": "string"},
                        },
                        required=("id", "title", "url"),
                        additional=True,
                    )
                )
            },
            required=("results",),
            additional=True,
        ),
        annotations=READ,
        scope=Scope.READ,
        handler=search,
    ),
    ToolSpec(
        name="fetch",
        title="Fetch (connectors)",
        description="Fetch one Trace entry by the id that search returned: its full text, "
        "title, URL and metadata.",
        input_schema=obj(
            {"id": {**ID, "description": "An id from search."}},
            required=("id",),
        ),
        output_schema=obj(
            {
                "id": {"type": "string"},
                "title": {"type": "string"},
                "text": {"type": "string"},
                "url": {"type": "string"},
                "metadata": {"type": "object"},
            },
            required=("id", "title", "text", "url"),
            additional=True,
        ),
        annotations=READ,
        scope=Scope.READ,
        handler=fetch,
    ),
)

WRITE_TOOLS: frozenset[str] = frozenset(t.name for t in TOOLS if t.scope is Scope.FULL)
"""Names of the tools that need the ``full`` scope."""
