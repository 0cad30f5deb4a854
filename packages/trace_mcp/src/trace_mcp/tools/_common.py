"""What every tool is made of: its spec, the context it runs in, its answer, shared rendering.

A :class:`ToolSpec` holds a tool's public contract (name, title, description,
annotations, output schema) and its handler; its input schema and argument
checking both come from one arguments Struct of ``trace_core.inputs``
(:attr:`ToolSpec.args`), so a handler receives the decoded Struct and reads
attributes.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec
from mcp_types import ContentBlock, ToolAnnotations

from trace_core.inputs import decode_arguments
from trace_core.model import Entry, Principal, Scope, Stream, StreamSelector
from trace_core.service import Trace
from trace_mcp._render import (
    entry_dict,
    entry_text,
    fit,
    iso,
    json_size,
    shrink_content,
    stream_context,
    streams_text,
)
from trace_mcp._schema import input_schema
from trace_mcp.signing import AttachmentUrlSigner

__all__ = [
    "READ",
    "Schema",
    "ToolContext",
    "ToolOutput",
    "ToolSpec",
    "add_image_counts",
    "changed_fields",
    "entry_output",
    "page_text",
    "render_entries",
    "stream_label",
    "write",
]

Schema = dict[str, Any]
ArgsT = TypeVar("ArgsT", bound=msgspec.Struct)


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


@dataclass(frozen=True, kw_only=True)
class ToolSpec(Generic[ArgsT]):
    """One tool: its public contract, its arguments Struct and its handler."""

    name: str
    title: str
    description: str
    args: type[ArgsT]
    output_schema: Schema | None
    annotations: ToolAnnotations
    scope: Scope
    handler: Callable[[ToolContext, ArgsT], Awaitable[ToolOutput]]

    @functools.cached_property
    def input_schema(self) -> Schema:
        """The JSON Schema of the arguments, generated from :attr:`args`."""
        return input_schema(self.args)

    async def run(self, ctx: ToolContext, arguments: dict[str, Any] | None) -> ToolOutput:
        """Decode the arguments through the arguments Struct and run the handler.

        Raises:
            InvalidInputError: the arguments do not fit the Struct (the field named).

        """
        return await self.handler(ctx, decode_arguments(self.args, arguments))


# destructiveHint and idempotentHint only mean something when readOnlyHint is false.
READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)


def write(*, destructive: bool, idempotent: bool) -> ToolAnnotations:
    """Return the annotations of a write tool."""
    return ToolAnnotations(
        read_only_hint=False,
        destructive_hint=destructive,
        idempotent_hint=idempotent,
        open_world_hint=False,
    )


# --- rendering shared by several tools ----------------------------------------------------


# Patch members that instruct the update rather than set a field of the entry.
_INSTRUCTIONS = frozenset({"clear_disallowed"})


def changed_fields(patch: msgspec.Struct) -> list[str]:
    """Return the names of the fields a patch sets, in its field order."""
    return [
        name
        for name in patch.__struct_fields__
        if name not in _INSTRUCTIONS and not isinstance(getattr(patch, name), msgspec.UnsetType)
    ]


async def add_image_counts(
    ctx: ToolContext, entries: Sequence[Entry], items: list[dict[str, Any]]
) -> None:
    """Set ``image_count`` on each rendered entry that has images (one query for the page)."""
    counts = await ctx.trace.image_counts(ctx.principal, [e.entry_id for e in entries])
    for entry, item in zip(entries, items, strict=True):
        if counts.get(entry.entry_id):
            item["image_count"] = counts[entry.entry_id]


def stream_label(selector: StreamSelector, streams: dict[UUID, Stream]) -> str:
    """Name what a stream filter covers, for the first line of a listing."""
    if selector == "all":
        return "all streams and the Inbox"
    if selector == "inbox":
        return "the Inbox"
    stream = streams.get(selector) if isinstance(selector, UUID) else None
    return f"stream {stream.name}" if stream else f"stream {selector}"


def render_entries(
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


def page_text(
    header: str,
    items: list[dict[str, Any]],
    note: str | None,
    streams: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    rules: bool = True,
) -> str:
    """Return a page's readable text: the header, the note, each entry, then the streams' rules.

    ``streams`` maps stream ids to their context (names, rating scales); with
    ``rules`` false their rules for writing are not listed.
    """
    blocks = [header]
    if note:
        blocks.append(note)
    blocks.extend(entry_text(item, streams) for item in items)
    if streams and rules:
        blocks.append("Streams named above (their rules for writing):\n" + streams_text(streams))
    return "\n\n".join(blocks)


async def entry_output(
    ctx: ToolContext,
    entry: Entry,
    done: str,
    *,
    changed: Sequence[str] = (),
    include_content: bool = False,
) -> ToolOutput:
    """Return a write's answer: what was written, in a line, whatever the entry's size.

    ``{entry_id, version, title?, stream_id?, stream_name?, entry_date, status?,
    content_length, changed?}``; the whole entry as stored (``entry``, content cut
    to the size cap) only with ``include_content``.
    """
    stream = await ctx.trace.get_stream(ctx.principal, entry.stream_id) if entry.stream_id else None
    data: dict[str, Any] = {"entry_id": str(entry.entry_id), "version": entry.version}
    if entry.title:
        data["title"] = entry.title
    if stream is not None:
        data["stream_id"] = str(stream.stream_id)
        data["stream_name"] = stream.name
    data["entry_date"] = iso(entry.entry_date)
    if entry.status:
        data["status"] = entry.status
    data["content_length"] = len(entry.content)
    if changed:
        data["changed"] = list(changed)
    where = f"stream {stream.name} ({stream.stream_id})" if stream is not None else "the Inbox"
    title = f" {entry.title!r}" if entry.title else ""
    what = f" ({', '.join(changed)})" if changed else ""
    text = (
        f"{done} entry {entry.entry_id}{title}{what} in {where}: entry_date {data['entry_date']}"
        + (f", status {entry.status}" if entry.status else "")
        + f", {len(entry.content):,} characters; now at version {entry.version}."
    )
    if include_content:
        item = shrink_content(entry_dict(entry, stream, detail=True), ctx.budget)
        data["entry"] = item
        context = {str(stream.stream_id): stream_context(stream)} if stream is not None else None
        text += "\n\n" + entry_text(item, context)
    return ToolOutput(data=data, text=text)
