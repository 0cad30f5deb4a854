"""Attachment downloads: the bytes as a stream, or a URL the blob store serves them at."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from uuid import UUID

from trace_core.errors import InvalidInputError
from trace_core.model import Attachment, Principal
from trace_core.service._attachments import AttachmentUseCases


class DownloadUseCases(AttachmentUseCases):
    """Hand out an attachment's bytes without holding them all in memory."""

    async def open_attachment(
        self, principal: Principal, attachment_id: UUID
    ) -> tuple[Attachment, AsyncGenerator[bytes, None]]:
        """Return attachment metadata and its bytes as a stream of chunks.

        The caller iterates the chunks (and calls ``aclose()`` on them if it
        stops early, e.g. when the client went away).

        Raises:
            NotFoundError: as :meth:`get_attachment`, or its file is missing.

        """
        attachment = await self.get_attachment(principal, attachment_id)
        return attachment, await self.blobs.open_read(attachment.blob_key)

    async def presigned_attachment_url(
        self, principal: Principal, attachment_id: UUID, *, ttl_seconds: int
    ) -> tuple[Attachment, str | None]:
        """Return attachment metadata and a URL the blob store serves it at, if it does.

        The URL works for ``ttl_seconds`` without any other credential, so it is
        made only after the caller's scope and account were checked here. None
        when the blob store serves no URLs of its own (then the caller streams
        the bytes, :meth:`open_attachment`, or signs a link to its own route).

        Raises:
            NotFoundError: as :meth:`get_attachment`.
            InvalidInputError: ``ttl_seconds`` is not positive.

        """
        if ttl_seconds < 1:
            raise InvalidInputError("ttl_seconds", "must be at least 1")
        attachment = await self.get_attachment(principal, attachment_id)
        url = await self.blobs.presigned_url(
            attachment.blob_key,
            ttl_seconds=ttl_seconds,
            content_type=attachment.mime_type,
            filename=attachment.filename,
        )
        return attachment, url
