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
from trace_mcp._render import attachment_dict, attachment_text, iso
from trace_mcp._schema import shape
from trace_mcp.signing import download_link
from trace_mcp.tools._common import READ, ToolContext, ToolOutput, ToolSpec, write

__all__ = ["ADD_ATTACHMENT", "DELETE_ATTACHMENT", "GET_ATTACHMENT_DATA", "GET_ATTACHMENT_URL"]

MB = 1024 * 1024


async def get_attachment_url(ctx: ToolContext, args: AttachmentArgs) -> ToolOutput:
    """Return a signed download URL for an attachment, valid one hour."""
    attachment, signed = await download_link(
        ctx.trace, ctx.principal, args.attachment_uuid(), ctx.signer
    )
    meta = attachment_dict(attachment)
    data = {"attachment": meta, "url": signed.url, "expires_at": iso(signed.expires_at)}
    text = (
        f"Download URL (no sign-in needed, valid until {data['expires_at']}) for "
        f"{attachment_text(meta)}:\n{signed.url}"
    )
    return ToolOutput(data=data, text=text)


GET_ATTACHMENT_URL = ToolSpec(
    name="get_attachment_url",
    title="Get an attachment URL",
    description="Signed image download URL, valid 1 hour (ids from get_entry). To see the "
    "image, use get_attachment_data.",
    args=AttachmentArgs,
    output_schema=shape({"url": "string", "expires_at": "string", "attachment": "object"}),
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
    text = f"The {attachment_text(meta)}; the image itself follows."
    image = ImageContent(
        type="image", data=base64.b64encode(data).decode("ascii"), mime_type=attachment.mime_type
    )
    return ToolOutput(data={"attachment": meta}, text=text, blocks=[image])


GET_ATTACHMENT_DATA = ToolSpec(
    name="get_attachment_data",
    title="Get attachment image",
    description="An image inline (base64) with its metadata, to look at it. Over 5 MB: use "
    "get_attachment_url.",
    args=AttachmentArgs,
    output_schema=shape({"attachment": "object"}),
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
    description="Attach an image (base64 in data, with filename): JPEG, PNG, WebP or GIF, up to"
    " 10 MiB.",
    args=AddAttachmentArgs,
    output_schema=shape(
        {"attachment_id": "string", "entry_id": "string", "entry_version": "integer"},
        {"mime_type": "string", "file_size": "integer", "width": "integer", "height": "integer"},
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
    description="Remove an image from its entry (ids from get_entry). Ask first.",
    args=AttachmentArgs,
    output_schema=shape(
        {
            "attachment_id": "string",
            "entry_id": "string",
            "removed": "boolean",
            "entry_version": "integer",
        }
    ),
    annotations=write(destructive=True, idempotent=True),
    scope=Scope.FULL,
    handler=delete_attachment,
)
