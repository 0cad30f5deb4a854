"""Images: upload to an entry, download, delete.

Routes: ``/api/v1/entries/{id}/attachments`` (POST), ``/api/v1/attachments/{id}``.

An upload is either ``multipart/form-data`` (the file in the part named
``file``) or the raw bytes as the body (any ``Content-Type``; ``?filename=``
names it). The facade checks what the MCP ``add_attachment`` tool gets checked:
the type read from the bytes (JPEG, PNG, WebP, GIF; a declared type is only
compared), the size limit (``storage.max_attachment_bytes``) and the pixel
limits that stop decompression bombs; nothing is stored when one fails. A
body far over the limit is refused while it is read (413).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import unquote
from uuid import UUID

from litestar import Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, QueryParameter
from litestar.response import Stream

from trace_core.errors import InvalidInputError
from trace_core.images import same_image_type
from trace_core.limits import MAX_FILENAME_CHARS
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_http.web.api._common import ERRORS
from trace_http.web.api._types import AttachmentOut

__all__ = ["attachment_handlers"]

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
_BINARY = Schema(type=OpenAPIType.STRING, format="binary")  # type: ignore[arg-type]
MULTIPART_SLACK = 64 * 1024
"""Room for the multipart framing around the largest file the setting allows."""


@dataclass
class _UploadOperation(Operation):
    """The upload's request body: a multipart form or the raw file."""

    def __post_init__(self) -> None:
        form = Schema(
            type=OpenAPIType.OBJECT,
            properties={"file": _BINARY},
            required=["file"],
        )
        content = {"multipart/form-data": OpenAPIMediaType(schema=form)}
        for kind in (*IMAGE_TYPES, "application/octet-stream"):
            content[kind] = OpenAPIMediaType(schema=_BINARY)
        self.request_body = RequestBody(content=content, required=True)


@dataclass
class _DownloadOperation(Operation):
    """The download's answer: the image's bytes, typed by what they are."""

    def __post_init__(self) -> None:
        if self.responses is not None:
            self.responses["200"] = OpenAPIResponse(
                description="The image.",
                content={kind: OpenAPIMediaType(schema=_BINARY) for kind in IMAGE_TYPES},
            )


def _filename_of(request: Request[Any, Any, Any], given: str | None) -> str | None:
    if given:
        return given
    disposition = request.headers.get("content-disposition") or ""
    for part in disposition.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename*" and "''" in value:
            return unquote(value.split("''", 1)[1])
        if key.lower() == "filename":
            return value.strip('"')
    return None


def _size(n: int) -> str:
    """Return ``n`` bytes as people say it (``10 MB``)."""
    return f"{n / 1_048_576:g} MB" if n >= 1_048_576 else f"{n:,} bytes"


def attachment_handlers(max_bytes: int) -> list[HTTPRouteHandler]:
    """Return the attachment routes, refusing bodies far over ``max_bytes`` while reading."""

    @post(
        "/entries/{entry_id:uuid}/attachments",
        responses={**ERRORS, 415: ERRORS[400]},
        summary="Upload an image",
        tags=["attachments"],
        operation_class=_UploadOperation,
        request_max_body_size=max_bytes + MULTIPART_SLACK,
        status_code=201,
    )
    async def upload(
        request: Request[Any, Any, Any],
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
        filename: Annotated[
            str | None,
            QueryParameter(
                max_length=MAX_FILENAME_CHARS, description="The file's name (raw body)."
            ),
        ] = None,
    ) -> Response[AttachmentOut]:
        """Attach an image to a live entry (a new version of the entry)."""
        # Nothing is read before the scope is checked: a read key is refused first.
        trace.require_scope(principal, Scope.FULL, "add_attachment")
        content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
        try:
            if content_type == "multipart/form-data":
                form = await request.form()
                upload_file = form.get("file")
                if not isinstance(upload_file, UploadFile):
                    raise InvalidInputError(
                        "file", "send the image in a multipart part named 'file'"
                    )
                data = await upload_file.read()
                name = upload_file.filename or filename
                declared: str | None = upload_file.content_type
            else:
                data = await request.body()
                name = _filename_of(request, filename)
                declared = content_type or None
        except RequestEntityTooLarge:
            raise RequestEntityTooLarge(
                detail=f"file: larger than the {_size(max_bytes)} limit for one image",
                extra={"field": "file"},
            ) from None
        if not data:
            raise InvalidInputError("file", "is empty: send the image's bytes")
        change = await trace.add_attachment(principal, entry_id, data, filename=name)
        attachment = change.attachment
        headers = {"Location": f"/api/v1/attachments/{attachment.attachment_id}"}
        if (
            declared
            and declared != "application/octet-stream"
            and not same_image_type(declared, attachment.mime_type)
        ):
            headers["Warning"] = (
                f'199 trace "Content-Type {declared} ignored: the bytes are {attachment.mime_type}"'
            )
        return Response(
            AttachmentOut.of(attachment, entry_version=change.entry.version),
            status_code=201,
            headers=headers,
        )

    @get(
        "/attachments/{attachment_id:uuid}",
        responses=ERRORS,
        summary="Download an image",
        tags=["attachments"],
        operation_class=_DownloadOperation,
    )
    async def download(
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        attachment_id: FromPath[UUID],
    ) -> Stream:
        """Return the image's bytes."""
        attachment, chunks = await trace.open_attachment(principal, attachment_id)
        filename = (attachment.filename or str(attachment.attachment_id)).replace('"', "")
        ascii_name = filename.encode("ascii", "replace").decode()
        return Stream(
            chunks,
            media_type=attachment.mime_type,
            headers={
                "Cache-Control": "private, no-cache",
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'inline; filename="{ascii_name}"',
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    @delete(
        "/attachments/{attachment_id:uuid}",
        responses=ERRORS,
        summary="Delete an image",
        tags=["attachments"],
        status_code=200,
    )
    async def remove(
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        attachment_id: FromPath[UUID],
    ) -> AttachmentOut:
        """Remove the image from its entry (a new version; restorable until purged)."""
        change = await trace.delete_attachment(principal, attachment_id)
        return AttachmentOut.of(change.attachment, entry_version=change.entry.version)

    return [upload, download, remove]
