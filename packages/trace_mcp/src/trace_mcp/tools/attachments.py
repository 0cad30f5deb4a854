"""The attachment tools: a signed link, the image inline, and adding or removing an image.

``add_attachment`` takes the file as base64 (the facade checks type, size and
pixel count, naming ``data``); ``add_attachment`` and ``delete_attachment``
answer in one line with a small structured part, the entry's new version in it.
"""

from __future__ import annotations

import base64
from typing import Any

from mcp_types import ImageContent

from trace_core.errors import InvalidInputError
from trace_core.images import same_image_type
from trace_core.inputs import AddAttachmentArgs, AttachmentArgs, or_none
from trace_core.model import Scope
from trace_mcp._render import attachment_dict, iso
from trace_mcp._schema import obj
from trace_mcp.signing import download_link
from trace_mcp.tools._common import READ, ToolContext, ToolOutput, ToolSpec, write
from trace_mcp.tools._outputs import ATTACHMENT_OUT

__all__ = ["ADD_ATTACHMENT", "DELETE_ATTACHMENT", "GET_ATTACHMENT_DATA", "GET_ATTACHMENT_URL"]

MB = 1024 * 1024


async def get_attachment_url(ctx: ToolContext, args: AttachmentArgs) -> ToolOutput:
    """Return a signed download URL for an attachment, valid one hour."""
    attachment, signed = await download_link(
        ctx.trace, ctx.principal, args.attachment_uuid(), ctx.signer
    )
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


GET_ATTACHMENT_URL = ToolSpec(
    name="get_attachment_url",
    title="Get an attachment URL",
    description="Get a signed download URL for an image attachment (ids come from "
    "get_entry). The URL needs no login and expires after 1 hour. Use it to show or link "
    "an image; to look at the image yourself use get_attachment_data.",
    args=AttachmentArgs,
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
)


async def get_attachment_data(ctx: ToolContext, args: AttachmentArgs) -> ToolOutput:
    """Return the image inline (MCP image content) with a metadata block."""
    attachment_id = args.attachment_uuid()
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


GET_ATTACHMENT_DATA = ToolSpec(
    name="get_attachment_data",
    title="Get attachment image",
    description="Get an image attachment inline (base64 MCP image content) plus its "
    "metadata, so you can look at it. Refuses files over 5 MB (use get_attachment_url).",
    args=AttachmentArgs,
    output_schema=obj({"attachment": ATTACHMENT_OUT}, required=("attachment",), additional=True),
    annotations=READ,
    scope=Scope.READ,
    handler=get_attachment_data,
)


async def add_attachment(ctx: ToolContext, args: AddAttachmentArgs) -> ToolOutput:
    """Attach a base64 image to an entry; answer in one line."""
    entry_id = args.entry_uuid()
    change = await ctx.trace.add_attachment(
        ctx.principal, entry_id, args.file_bytes(), filename=args.filename, field="data"
    )
    a, version = change.attachment, change.entry.version
    data: dict[str, Any] = {
        "attachment_id": str(a.attachment_id),
        "entry_id": str(a.entry_id),
        "mime_type": a.mime_type,
        "file_size": a.file_size,
        "width": a.width,
        "height": a.height,
        "position": a.position,
        "entry_version": version,
    }
    text = (
        f"Added image {a.attachment_id} ({a.mime_type}, {a.width}x{a.height} px, "
        f"{a.file_size:,} bytes) to entry {a.entry_id}, now at version {version}."
    )
    declared = or_none(args.content_type)
    if not same_image_type(declared, a.mime_type):
        data["note"] = f"content_type {declared!r} was ignored: the bytes are {a.mime_type}."
        text += " " + data["note"]
    return ToolOutput(data=data, text=text)


ADD_ATTACHMENT = ToolSpec(
    name="add_attachment",
    title="Add an image",
    description="Attach an image to an entry: the file as base64 in data, with its filename. "
    "JPEG, PNG, WebP or GIF (the type is read from the bytes; SVG is refused), at most 10 MiB "
    "(the server may set less), 20,000 pixels a side and 50 megapixels. The entry's version "
    "goes up by one: pass the new version as expected_version to update_entry.",
    args=AddAttachmentArgs,
    output_schema=obj(
        {
            "attachment_id": {"type": "string"},
            "entry_id": {"type": "string"},
            "mime_type": {"type": "string"},
            "file_size": {"type": "integer", "description": "Bytes."},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "position": {"type": "integer", "description": "Order on the entry, from 0."},
            "entry_version": {"type": "integer"},
            "note": {"type": "string"},
        },
        required=("attachment_id", "entry_id", "mime_type", "file_size", "entry_version"),
    ),
    annotations=write(destructive=False, idempotent=False),
    scope=Scope.FULL,
    handler=add_attachment,
)


async def delete_attachment(ctx: ToolContext, args: AttachmentArgs) -> ToolOutput:
    """Remove an image from its entry; answer in one line."""
    change = await ctx.trace.delete_attachment(ctx.principal, args.attachment_uuid())
    a, version = change.attachment, change.entry.version
    name = f" ({a.filename})" if a.filename else ""
    text = (
        f"Removed image {a.attachment_id}{name} from entry {a.entry_id}, now at version "
        f"{version}; the entry's history records it."
    )
    data = {
        "attachment_id": str(a.attachment_id),
        "entry_id": str(a.entry_id),
        "removed": True,
        "entry_version": version,
    }
    return ToolOutput(data=data, text=text)


DELETE_ATTACHMENT = ToolSpec(
    name="delete_attachment",
    title="Remove an image",
    description="Remove an image from its entry (attachment ids come from get_entry). The "
    "entry's version goes up by one and its history records the removal. Ask before removing.",
    args=AttachmentArgs,
    output_schema=obj(
        {
            "attachment_id": {"type": "string"},
            "entry_id": {"type": "string"},
            "removed": {"type": "boolean"},
            "entry_version": {"type": "integer"},
        },
        required=("attachment_id", "entry_id", "removed", "entry_version"),
    ),
    annotations=write(destructive=True, idempotent=True),
    scope=Scope.FULL,
    handler=delete_attachment,
)
