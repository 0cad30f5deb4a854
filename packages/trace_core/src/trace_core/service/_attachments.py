"""Image attachments: stored bytes first, metadata in one unit of work."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from uuid import UUID

from trace_core.errors import InvalidInputError, NotFoundError
from trace_core.images import sniff_image
from trace_core.limits import MAX_FILENAME_CHARS
from trace_core.model import Attachment, Principal, Scope
from trace_core.service._base import FacadeBase
from trace_core.service._text import clean_text


class AttachmentUseCases(FacadeBase):
    """Attach, describe and read images on live entries."""

    async def add_attachment(
        self,
        principal: Principal,
        entry_id: UUID,
        data: bytes,
        *,
        filename: str | None = None,
        captured_at: datetime | None = None,
    ) -> Attachment:
        """Attach an image (JPEG, PNG, WebP or GIF) to a live entry, after the others.

        Raises:
            NotFoundError: no such live entry in the caller's account.
            InvalidInputError: (field ``file``) not an accepted image, or too large.

        """
        self._require(principal, Scope.FULL, "add_attachment")
        if not isinstance(data, bytes | bytearray):
            raise InvalidInputError("file", "must be bytes")
        if len(data) > self.limits.max_attachment_bytes:
            raise InvalidInputError(
                "file", f"is {len(data)} bytes; at most {self.limits.max_attachment_bytes}"
            )
        info = sniff_image(bytes(data))
        attachment_id = uuid.uuid4()
        key = f"{principal.account_id}/{attachment_id}"
        async with self.storage.unit_of_work() as uow:
            await self._live_entry(uow, principal, entry_id)
        await self.blobs.put(key, bytes(data))
        try:
            async with self.storage.unit_of_work(write=True) as uow:
                await self._live_entry(uow, principal, entry_id)
                existing = await uow.attachments.list_for_entry(principal.account_id, entry_id)
                attachment = Attachment(
                    attachment_id=attachment_id,
                    account_id=principal.account_id,
                    entry_id=entry_id,
                    mime_type=info.mime_type,
                    file_size=len(data),
                    width=info.width,
                    height=info.height,
                    position=max((a.position for a in existing), default=-1) + 1,
                    captured_at=captured_at,
                    created_at=self.clock.now(),
                    blob_key=key,
                    sha256=hashlib.sha256(data).hexdigest(),
                    filename=clean_text("filename", filename, MAX_FILENAME_CHARS),
                )
                await uow.attachments.add(attachment)
        except BaseException:
            await self.blobs.delete(key)
            raise
        return attachment

    async def get_attachment(self, principal: Principal, attachment_id: UUID) -> Attachment:
        """Return attachment metadata; attachments of deleted entries are not found.

        Raises:
            NotFoundError: no such attachment on a live entry of the caller's account.

        """
        self._require(principal, Scope.READ, "get_attachment")
        async with self.storage.unit_of_work() as uow:
            attachment = await uow.attachments.get(principal.account_id, attachment_id)
            if attachment is None or (
                await uow.entries.get(principal.account_id, attachment.entry_id) is None
            ):
                raise NotFoundError("attachment", attachment_id)
        return attachment

    async def read_attachment(
        self, principal: Principal, attachment_id: UUID
    ) -> tuple[Attachment, bytes]:
        """Return attachment metadata and its bytes.

        Raises:
            NotFoundError: as :meth:`get_attachment`, or its file is missing.

        """
        attachment = await self.get_attachment(principal, attachment_id)
        return attachment, await self.blobs.get(attachment.blob_key)
