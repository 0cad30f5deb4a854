"""The attachment tools: ``get_attachment_url`` (a signed link) and ``get_attachment_data``."""

from __future__ import annotations

import base64

from mcp_types import ImageContent

from trace_core.errors import InvalidInputError
from trace_core.inputs import AttachmentArgs
from trace_core.model import Scope
from trace_mcp._render import attachment_dict, iso
from trace_mcp._schema import obj
from trace_mcp.signing import download_link
from trace_mcp.tools._common import READ, ToolContext, ToolOutput, ToolSpec
from trace_mcp.tools._outputs import ATTACHMENT_OUT

__all__ = ["GET_ATTACHMENT_DATA", "GET_ATTACHMENT_URL"]

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
