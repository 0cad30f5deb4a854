"""Image attachments: checked before anything is stored, and each change a version of its entry.

Adding, removing and restoring an image are writes to its entry like any other:
the entry's ``version`` goes up, ``last_edited_by`` names the caller, and a
version snapshot records the action with the image's id, type and file name.
A snapshot holds the entry's fields, not its images, so restoring an older
version never points at an image that is gone.

Removing an image hides it at once and keeps its bytes for the trash retention
period (``Limits.trash_retention_days``), so a removal can be undone with
:meth:`AttachmentUseCases.restore_attachment`; the trash purge then deletes the
row and the bytes (or sooner, with the entry, if the entry is purged first).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from uuid import UUID

import msgspec

from trace_core.errors import ConflictError, InvalidInputError, NotFoundError
from trace_core.images import check_image, check_size
from trace_core.limits import MAX_FILENAME_CHARS
from trace_core.model import (
    Attachment,
    AttachmentChange,
    AttachmentRef,
    Entry,
    EntryVersion,
    Principal,
    Scope,
    VersionAction,
)
from trace_core.ports import UnitOfWork
from trace_core.service._base import FacadeBase
from trace_core.service._text import clean_text


def _ref(attachment: Attachment) -> AttachmentRef:
    return AttachmentRef(
        attachment_id=attachment.attachment_id,
        mime_type=attachment.mime_type,
        filename=attachment.filename,
    )


class AttachmentUseCases(FacadeBase):
    """Attach, remove, restore, describe and read images on live entries."""

    def _check_upload(self, data: object, field: str) -> bytes:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise InvalidInputError(field, "must be the file's bytes")
        data = bytes(data)
        check_size(len(data), self.limits.max_attachment_bytes, field=field)
        return data

    async def add_attachment(
        self,
        principal: Principal,
        entry_id: UUID,
        data: bytes,
        *,
        filename: str | None = None,
        captured_at: datetime | None = None,
        field: str = "file",
    ) -> AttachmentChange:
        """Attach an image (JPEG, PNG, WebP or GIF) to a live entry, after the others.

        The type comes from the bytes (a declared media type is not trusted);
        the file must be within ``Limits.max_attachment_bytes`` and its header
        must declare at most ``Limits.max_image_side`` pixels a side and
        ``Limits.max_image_pixels`` in all. Nothing is stored when a check fails.
        The entry's version goes up by one, with an ``attachment_added`` snapshot.

        Args:
            principal: the caller (full scope).
            entry_id: the entry to attach to.
            data: the file's bytes.
            filename: the file's name, kept as metadata.
            captured_at: when the picture was taken, if known.
            field: what the transport calls the bytes, named in errors
                (``file``; the MCP tool's ``data``).

        Raises:
            NotFoundError: no such live entry in the caller's account.
            InvalidInputError: (``field``) not an accepted image, a truncated or
                corrupt header, too many bytes or pixels; (``filename``) too long.

        """
        self._require(principal, Scope.FULL, "add_attachment")
        data = self._check_upload(data, field)
        info = check_image(
            data,
            max_pixels=self.limits.max_image_pixels,
            max_side=self.limits.max_image_side,
            field=field,
        )
        name = clean_text("filename", filename, MAX_FILENAME_CHARS)
        attachment_id = uuid.uuid4()
        key = f"{principal.account_id}/{attachment_id}"
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            await self._live_entry(uow, principal, entry_id)
        attachment = Attachment(
            attachment_id=attachment_id,
            account_id=principal.account_id,
            entry_id=entry_id,
            mime_type=info.mime_type,
            file_size=len(data),
            width=info.width,
            height=info.height,
            captured_at=captured_at,
            created_at=self.clock.now(),
            blob_key=key,
            sha256=hashlib.sha256(data).hexdigest(),
            filename=name,
        )
        placed = attachment

        async def add(uow: UnitOfWork, entry: Entry) -> Attachment:
            nonlocal placed
            # Removed images keep their positions, so one restored later does not collide.
            every = await uow.attachments.list_for_entries(
                principal.account_id, [entry.entry_id], include_removed=True
            )
            placed = msgspec.structs.replace(
                attachment, position=max((a.position for a in every), default=-1) + 1
            )
            await uow.attachments.add(placed)
            return placed

        # Bytes first, then the rows pointing at them; a failed write deletes the bytes.
        await self.blobs.put(key, data)
        try:
            entry = await self._attachment_write(principal, entry_id, "attachment_added", add)
        except BaseException:
            await self.blobs.delete(key)
            raise
        return AttachmentChange(attachment=placed, entry=entry)

    async def delete_attachment(
        self, principal: Principal, attachment_id: UUID
    ) -> AttachmentChange:
        """Remove an image from its entry: a write in the entry's history.

        The image disappears from the entry at once; its bytes are kept for the
        trash retention period (``restore_attachment`` brings it back), then purged.

        Raises:
            NotFoundError: no such attachment on a live entry of the caller's account
                (removed already counts as not found).

        """
        self._require(principal, Scope.FULL, "delete_attachment")
        return await self._set_removed(principal, attachment_id, removing=True)

    async def restore_attachment(
        self, principal: Principal, attachment_id: UUID
    ) -> AttachmentChange:
        """Put a removed image back on its entry (until the trash purge took it).

        Raises:
            NotFoundError: no such removed attachment on a live entry of the
                caller's account (purged, or its entry is in the trash).
            ConflictError: the attachment was not removed.

        """
        self._require(principal, Scope.FULL, "restore_attachment")
        return await self._set_removed(principal, attachment_id, removing=False)

    async def _set_removed(
        self, principal: Principal, attachment_id: UUID, *, removing: bool
    ) -> AttachmentChange:
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            found = await uow.attachments.get(
                principal.account_id, attachment_id, include_removed=True
            )
        if found is None or (removing and found.removed_at is not None):
            raise NotFoundError("attachment", attachment_id)
        if not removing and found.removed_at is None:
            raise ConflictError(
                f"attachment {attachment_id} is on its entry already", field="attachment_id"
            )
        changed = found

        async def change(uow: UnitOfWork, entry: Entry) -> Attachment:
            nonlocal changed
            at = entry.updated_at if removing else None
            if not await uow.attachments.set_removed(principal.account_id, attachment_id, at):
                # Removed or restored by someone else meanwhile.
                raise NotFoundError("attachment", attachment_id)
            changed = msgspec.structs.replace(found, removed_at=at)
            return changed

        action: VersionAction = "attachment_removed" if removing else "attachment_restored"
        try:
            entry = await self._attachment_write(principal, found.entry_id, action, change)
        except NotFoundError:
            raise NotFoundError("attachment", attachment_id) from None
        return AttachmentChange(attachment=changed, entry=entry)

    async def _attachment_write(
        self,
        principal: Principal,
        entry_id: UUID,
        action: VersionAction,
        change: Callable[[UnitOfWork, Entry], Awaitable[Attachment]],
    ) -> Entry:
        """Bump a live entry's version and apply ``change`` with a snapshot, in one unit of work.

        The entry's conditional update comes first: when another writer won the
        race nothing was written yet, and the whole step is tried again on the
        fresh entry.
        """
        for _attempt in range(5):
            async with self.storage.unit_of_work(
                write=True, account_id=principal.account_id
            ) as uow:
                current = await self._live_entry(uow, principal, entry_id)
                new = msgspec.structs.replace(
                    current,
                    version=current.version + 1,
                    updated_at=max(self.clock.now(), current.updated_at),
                    last_edited_by=principal.actor,
                )
                if not await uow.entries.update(new, expected_version=current.version):
                    continue
                attachment = await change(uow, new)
                await uow.versions.add(
                    EntryVersion(
                        entry_id=new.entry_id,
                        account_id=new.account_id,
                        version=new.version,
                        action=action,
                        written_by=principal.actor,
                        written_at=new.updated_at,
                        snapshot=new,
                        attachment=_ref(attachment),
                    )
                )
                break
        else:
            raise ConflictError(f"entry {entry_id} is changing too fast; retry", field="entry_id")
        await self._index([new])
        return new

    async def get_attachment(self, principal: Principal, attachment_id: UUID) -> Attachment:
        """Return attachment metadata; removed ones and those of deleted entries are not found.

        Raises:
            NotFoundError: no such attachment on a live entry of the caller's account.

        """
        self._require(principal, Scope.READ, "get_attachment")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
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

    async def image_counts(
        self, principal: Principal, entry_ids: Sequence[UUID]
    ) -> dict[UUID, int]:
        """Return how many images each of the given entries has (entries without any left out).

        One query for a page of entries, for listings that show the count.
        """
        self._require(principal, Scope.READ, "list_entries")
        if not entry_ids:
            return {}
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            return await uow.attachments.count_for_entries(principal.account_id, entry_ids)
