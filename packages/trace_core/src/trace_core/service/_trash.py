"""The trash and version history: listing, purge times, history, purging for good."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from trace_core.cursors import OffsetPosition, fingerprint
from trace_core.errors import NotFoundError
from trace_core.model import Entry, EntryVersion, Page, Principal, Scope
from trace_core.service._base import FacadeBase


class TrashUseCases(FacadeBase):
    """Deleted entries, their purge, and every entry's versions."""

    async def list_trash(
        self,
        principal: Principal,
        *,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
    ) -> Page[Entry]:
        """Return deleted entries, most recently deleted first.

        Pass ``next_cursor`` from a page as ``cursor`` for the next one; ``offset``
        also works (and counts from the cursor when both are given).

        Raises:
            InvalidInputError: bad limit, offset or cursor.

        """
        self._require(principal, Scope.READ, "list_trash")
        limit = self._limit(
            "limit", limit, self.limits.list_default_limit, self.limits.list_max_limit
        )
        offset = self._offset(offset)
        scope = fingerprint(principal.account_id)
        start = offset
        if cursor is not None:
            start += self.cursors.decode(cursor, "trash", scope, OffsetPosition).offset
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            rows = await uow.entries.list_deleted(
                principal.account_id, limit=limit + 1, offset=start
            )
            total = await uow.entries.count_deleted(principal.account_id)
        items = rows[:limit]
        more = len(rows) > limit
        return Page(
            items=items,
            total=total,
            limit=limit,
            offset=start,
            next_cursor=self.cursors.encode("trash", scope, OffsetPosition(start + limit))
            if more
            else None,
        )

    def purge_at(self, entry: Entry) -> datetime | None:
        """When a deleted entry will be purged for good (None if not deleted)."""
        if entry.deleted_at is None:
            return None
        return entry.deleted_at + timedelta(days=self.limits.trash_retention_days)

    async def entry_history(self, principal: Principal, entry_id: UUID) -> list[EntryVersion]:
        """Return every stored version of an entry (deleted ones too), newest first.

        Raises:
            NotFoundError: no such entry in the caller's account.

        """
        self._require(principal, Scope.READ, "get_entry_history")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            if await uow.entries.get(principal.account_id, entry_id, include_deleted=True) is None:
                raise NotFoundError("entry", entry_id)
            return await uow.versions.list(principal.account_id, entry_id)

    async def purge_expired_trash(self, *, now: datetime | None = None, batch: int = 500) -> int:
        """Delete for good every entry deleted longer ago than the retention period.

        Removes the entries, their versions, attachment rows and attachment blobs,
        in every account (an operator/background job, no principal); then the
        images removed from live entries as long ago (``purge_removed_attachments``).
        Returns how many entries were purged.
        """
        cutoff = (now or self.clock.now()) - timedelta(days=self.limits.trash_retention_days)
        purged = 0
        while True:
            async with self.storage.unit_of_work(write=True, all_accounts=True) as uow:
                expired = await uow.entries.deleted_before(cutoff, limit=batch)
                by_account: dict[UUID, list[UUID]] = {}
                for account_id, entry_id in expired:
                    by_account.setdefault(account_id, []).append(entry_id)
                blob_keys: list[str] = []
                for account_id, entry_ids in by_account.items():
                    attachments = await uow.attachments.list_for_entries(
                        account_id, entry_ids, include_removed=True
                    )
                    blob_keys.extend(a.blob_key for a in attachments)
                    await uow.entries.purge(account_id, entry_ids)
            # Blobs go after the commit: a crash in between leaves orphan files, never
            # rows that point at missing files.
            for key in blob_keys:
                await self.blobs.delete(key)
            if self.search is not None:
                for account_id, entry_ids in by_account.items():
                    await self.search.remove(account_id, entry_ids)
            purged += len(expired)
            if len(expired) < batch:
                break
        await self.purge_removed_attachments(now=now, batch=batch)
        return purged

    async def purge_removed_attachments(
        self, *, now: datetime | None = None, batch: int = 500
    ) -> int:
        """Delete for good the images removed longer ago than the trash retention period.

        Every account (a background job, no principal); rows first, bytes after
        the commit. Returns how many were purged.
        """
        cutoff = (now or self.clock.now()) - timedelta(days=self.limits.trash_retention_days)
        purged = 0
        while True:
            async with self.storage.unit_of_work(write=True, all_accounts=True) as uow:
                expired = await uow.attachments.removed_before(cutoff, limit=batch)
                by_account: dict[UUID, list[UUID]] = {}
                for a in expired:
                    by_account.setdefault(a.account_id, []).append(a.attachment_id)
                for account_id, ids in by_account.items():
                    await uow.attachments.purge(account_id, ids)
            for a in expired:
                await self.blobs.delete(a.blob_key)
            purged += len(expired)
            if len(expired) < batch:
                return purged
