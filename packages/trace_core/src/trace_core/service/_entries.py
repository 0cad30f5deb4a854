"""Entries: listing, reading and the writes that keep a version per change."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec

from trace_core import search as search_query
from trace_core.cursors import OffsetPosition, fingerprint
from trace_core.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
    quote,
)
from trace_core.limits import MAX_VERSION
from trace_core.model import (
    Entry,
    EntryDetail,
    EntryDraft,
    EntryFilter,
    EntryPatch,
    EntrySettings,
    EntryVersion,
    Page,
    Principal,
    Scope,
    Stream,
    TagCount,
    UnsetType,
    VersionAction,
)
from trace_core.ordering import DEFAULT_SORT, SORTS, EntrySort
from trace_core.ports import ListPosition, SearchRequest, UnitOfWork
from trace_core.service._base import NO_UNIT_OF_WORK
from trace_core.service._text import clean_text, has_text, parse_mentions
from trace_core.service._validation import SETTING_OF, EntryValidation

RESTORED_FIELDS = (
    "title",
    "content",
    "mentions",
    "stream_id",
    "tags",
    "status",
    "type",
    "priority",
    "rating",
    "due_date",
    "entry_date",
    "is_pinned",
    "is_archived",
    "latitude",
    "longitude",
    "place_name",
    "city",
    "country",
)
"""The fields ``restore_version`` takes from the old version (everything a write can change)."""


def _position(entry: Entry, sort: EntrySort = DEFAULT_SORT) -> ListPosition:
    if sort == DEFAULT_SORT:
        # The same cursor as before sorts existed.
        return ListPosition(
            entry_date=entry.entry_date, created_at=entry.created_at, entry_id=entry.entry_id
        )
    return ListPosition(
        entry_date=entry.entry_date,
        created_at=entry.created_at,
        entry_id=entry.entry_id,
        updated_at=entry.updated_at,
        due_date=entry.due_date,
        priority=entry.priority,
    )


class EntryUseCases(EntryValidation):
    """Read, list, create, change, delete and restore entries."""

    async def list_entries(
        self,
        principal: Principal,
        filters: EntryFilter | None = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
        sort: EntrySort = DEFAULT_SORT,
        overdue: bool = False,
    ) -> Page[Entry]:
        """Return a page of live entries, newest ``entry_date`` first unless ``sort`` says.

        Pass ``next_cursor`` from a page as ``cursor`` for the next one; ``offset``
        also works (and counts from the cursor when both are given). ``sort`` is one
        of :data:`trace_core.ordering.SORTS` (``-`` first for descending; ties by
        id). ``overdue`` keeps entries due before today in the account's time zone
        (with ``filters.due_before``, the earlier of the two days).

        With ``filters.text`` and a search index configured, the index decides
        what matches (every word, with the same stemming and prefixes as
        ``search_entries``) and entries come best match first; ``total``
        counts every match.

        Raises:
            NotFoundError: the stream filter names a stream not in the caller's account.
            InvalidInputError: bad limit, offset, cursor, sort or filter.

        """
        self._require(principal, Scope.READ, "list_entries")
        limit = self._limit(
            "limit", limit, self.limits.list_default_limit, self.limits.list_max_limit
        )
        offset = self._offset(offset)
        if sort not in SORTS:
            raise InvalidInputError("sort", f"{quote(sort)} is not a sort order", allowed=SORTS)
        if not isinstance(overdue, bool):
            raise InvalidInputError("overdue", "must be true or false")
        # A sort or a due-date filter is the storage's to answer: the search index
        # ranks by relevance and knows no due dates, so the query is then a plain
        # substring match, as without an index.
        plain = sort != DEFAULT_SORT or overdue or (filters and filters.due_before)
        if self.search is not None and filters is not None and has_text(filters.text) and not plain:
            return await self._list_by_search(principal, filters, limit, offset, cursor)
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            filters = await self._check_filters(uow, principal, filters or EntryFilter())
            if filters.due_before is not None:
                self._check_date("due_before", filters.due_before)
            if overdue:
                today = await self._today(uow, principal)
                due_before = min(filters.due_before or today, today)
                filters = msgspec.structs.replace(filters, due_before=due_before)
            scope = (
                fingerprint(principal.account_id, filters)
                if sort == DEFAULT_SORT
                else fingerprint(principal.account_id, filters, sort)
            )
            after = (
                self.cursors.decode(cursor, "entries", scope, ListPosition)
                if cursor is not None
                else None
            )
            rows = await uow.entries.list(
                principal.account_id,
                filters,
                limit=limit + 1,
                offset=offset,
                after=after,
                sort=sort,
            )
            if after is None and offset == 0 and len(rows) <= limit:
                # The first page holds every match: no need to count them again.
                total = len(rows)
            else:
                total = await uow.entries.count(principal.account_id, filters)
        items = rows[:limit]
        next_cursor = (
            self.cursors.encode("entries", scope, _position(items[-1], sort))
            if len(rows) > limit
            else None
        )
        return Page(items=items, total=total, limit=limit, offset=offset, next_cursor=next_cursor)

    async def _list_by_search(
        self,
        principal: Principal,
        filters: EntryFilter,
        limit: int,
        offset: int,
        cursor: str | None,
    ) -> Page[Entry]:
        # list_entries with a query: the search index decides what matches (the
        # same words, stems and prefixes as search_entries, every word required,
        # best match first), so a query never means two different things.
        assert self.search is not None
        if isinstance(filters.stream, UUID):
            async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
                filters = await self._check_filters(uow, principal, filters)
        else:
            filters = await self._check_filters(NO_UNIT_OF_WORK, principal, filters)
        parsed = search_query.parse_query(filters.text, max_chars=self.limits.max_query_chars)
        base = msgspec.structs.replace(filters, text=None)
        scope = fingerprint(principal.account_id, parsed, base)
        start = offset
        if cursor is not None:
            start += self.cursors.decode(cursor, "entries-search", scope, OffsetPosition).offset
        request = SearchRequest(query=parsed.text, filters=base, limit=limit + 1, offset=start)
        hits = await self.search.search(principal.account_id, request)
        total = await self.search.count(principal.account_id, request)
        next_cursor = None
        if len(hits) > limit:
            next_cursor = self.cursors.encode(
                "entries-search", scope, OffsetPosition(start + limit)
            )
        items = [hit.entry for hit in hits[:limit]]
        return Page(items=items, total=total, limit=limit, offset=offset, next_cursor=next_cursor)

    async def get_entry(self, principal: Principal, entry_id: UUID) -> EntryDetail:
        """Return a live entry with its stream and attachment metadata.

        Raises:
            NotFoundError: no such live entry in the caller's account.

        """
        self._require(principal, Scope.READ, "get_entry")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            entry = await self._live_entry(uow, principal, entry_id)
            # The stream is there for its name and settings (stream_context): not counted.
            stream = (
                await uow.streams.get(principal.account_id, entry.stream_id, with_counts=False)
                if entry.stream_id
                else None
            )
            attachments = await uow.attachments.list_for_entry(principal.account_id, entry_id)
        return EntryDetail(entry=entry, stream=stream, attachments=attachments)

    async def streams_by_id(self, principal: Principal) -> dict[UUID, Stream]:
        """Return the caller's streams keyed by id, for rendering many entries.

        Entry counts are not computed (``entry_count`` is 0): rendering needs only
        names and settings, and counting costs a scan per stream.
        """
        self._require(principal, Scope.READ, "list_streams")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            streams = await uow.streams.list(
                principal.account_id, include_archived=True, with_counts=False
            )
        return {s.stream_id: s for s in streams}

    async def list_tags(self, principal: Principal) -> list[TagCount]:
        """Return the tags on the caller's live entries with counts, most used first."""
        self._require(principal, Scope.READ, "list_tags")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            return await uow.entries.list_tags(principal.account_id)

    async def create_entry(self, principal: Principal, draft: EntryDraft) -> Entry:
        """Create an entry in a stream or the Inbox (``stream_id`` None).

        ``status`` defaults to the stream's ``default_status`` (when it uses
        statuses); ``entry_date`` to today in the account's time zone; ``rating`` is
        in the stream's display units (stars 0-5 in halves, or 0-10).

        Raises:
            NotFoundError: the stream is not in the caller's account.
            InvalidInputError: a value is malformed or not allowed by the stream, or
                set for a field the stream does not use (the error names the
                setting, e.g. ``use_status``).

        """
        self._require(principal, Scope.FULL, "create_entry")
        content = self._check_content(draft.content)
        now = self.clock.now()
        async with self.storage.unit_of_work(write=True, account_id=principal.account_id) as uow:
            stream = (
                await self._stream(uow, principal, draft.stream_id) if draft.stream_id else None
            )
            settings = stream.entry_settings if stream else EntrySettings()
            for field in SETTING_OF:
                self._check_used(field, getattr(draft, field), stream)
            status = draft.status
            if status is None and stream is not None and settings.use_status:
                status = settings.default_status
            entry = Entry(
                entry_id=uuid.uuid4(),
                account_id=principal.account_id,
                stream_id=stream.stream_id if stream else None,
                title=clean_text("title", draft.title, self.limits.max_title_chars),
                content=content,
                entry_date=self._check_date("entry_date", draft.entry_date)
                or await self._today(uow, principal),
                tags=await self._spelled(uow, principal, self._check_tags(draft.tags)),
                status=self._check_choice("status", status, settings.statuses, stream),
                type=self._check_choice("type", draft.type, settings.types, stream),
                priority=self._check_priority(draft.priority),
                rating=self._check_rating(draft.rating, stream),
                due_date=self._check_date("due_date", draft.due_date),
                is_pinned=bool(draft.is_pinned),
                mentions=parse_mentions(content),
                created_at=now,
                updated_at=now,
                version=1,
                last_edited_by=principal.actor,
            )
            await uow.entries.add(entry)
            await uow.versions.add(self._snapshot(entry, "create", principal))
        await self._index([entry])
        return entry

    async def _apply_patch(
        self, uow: UnitOfWork, principal: Principal, current: Entry, patch: EntryPatch
    ) -> dict[str, object]:
        changes: dict[str, object] = {}
        stream_id = current.stream_id
        if not isinstance(patch.stream_id, UnsetType):
            stream_id = patch.stream_id
            changes["stream_id"] = stream_id
        stream = await self._stream(uow, principal, stream_id) if stream_id else None
        settings = stream.entry_settings if stream else EntrySettings()
        for field in SETTING_OF:
            value = getattr(patch, field)
            if not isinstance(value, UnsetType):
                self._check_used(field, value, stream)
        if not isinstance(patch.title, UnsetType):
            changes["title"] = clean_text("title", patch.title, self.limits.max_title_chars)
        if not isinstance(patch.content, UnsetType):
            changes["content"] = self._check_content(patch.content)
            changes["mentions"] = parse_mentions(patch.content)
        if not isinstance(patch.tags, UnsetType):
            changes["tags"] = await self._spelled(
                uow, principal, self._check_tags(patch.tags or ())
            )
        if not isinstance(patch.status, UnsetType):
            changes["status"] = self._check_choice(
                "status", patch.status, settings.statuses, stream
            )
        if not isinstance(patch.type, UnsetType):
            changes["type"] = self._check_choice("type", patch.type, settings.types, stream)
        if not isinstance(patch.entry_date, UnsetType):
            entry_date = self._check_date("entry_date", patch.entry_date)
            if entry_date is None:
                raise InvalidInputError("entry_date", "cannot be cleared")
            changes["entry_date"] = entry_date
        if not isinstance(patch.due_date, UnsetType):
            changes["due_date"] = self._check_date("due_date", patch.due_date)
        if not isinstance(patch.priority, UnsetType):
            changes["priority"] = self._check_priority(patch.priority)
        if not isinstance(patch.rating, UnsetType):
            changes["rating"] = self._check_rating(patch.rating, stream)
        for flag in ("is_archived", "is_pinned"):
            value = getattr(patch, flag)
            if not isinstance(value, UnsetType):
                if not isinstance(value, bool):
                    raise InvalidInputError(flag, "must be true or false")
                changes[flag] = value
        if stream_id != current.stream_id:
            self._clear_or_refuse_move(current, changes, stream, patch.clear_disallowed)
        return changes

    def _clear_or_refuse_move(
        self,
        current: Entry,
        changes: dict[str, object],
        stream: Stream | None,
        clear_disallowed: bool,
    ) -> None:
        """Refuse moving values the target stream does not take, or clear them if asked."""
        reasons = self._disallowed_on_move(current, changes, stream)
        if not reasons:
            return
        assert stream is not None
        if clear_disallowed is True:
            for field in reasons:
                changes[field] = self._cleared(field)
            return
        listed = "; ".join(f"{field} ({why})" for field, why in reasons.items())
        clears = ", ".join(f"{field}: null" for field in reasons)
        raise InvalidInputError(
            "stream_id",
            f"stream {stream.name!r} does not take this entry's {listed}. Clear them in the "
            f"same update ({clears}) or pass clear_disallowed: true to clear them",
            fields_to_clear=list(reasons),
        )

    async def _write(
        self,
        principal: Principal,
        entry_id: UUID,
        expected_version: int | None,
        action: VersionAction,
        patch: EntryPatch | None = None,
        restored: Entry | None = None,
    ) -> Entry:
        """Read, change and conditionally write an entry, with a snapshot, atomically.

        Without ``expected_version`` a lost race with another writer is retried
        on the fresh entry; with it, the race is a version conflict.
        """
        if expected_version is not None and (
            isinstance(expected_version, bool)
            or not isinstance(expected_version, int)
            or not 1 <= expected_version <= MAX_VERSION
        ):
            raise InvalidInputError(
                "expected_version", f"must be an integer from 1 to {MAX_VERSION:,}"
            )
        for _attempt in range(5):
            async with self.storage.unit_of_work(
                write=True, account_id=principal.account_id
            ) as uow:
                current = await uow.entries.get(
                    principal.account_id, entry_id, include_deleted=True
                )
                if current is None or (action != "restore" and current.deleted_at is not None):
                    raise NotFoundError("entry", entry_id)
                if action == "restore" and current.deleted_at is None:
                    raise ConflictError(f"entry {entry_id} is not in the trash", field="entry_id")
                if expected_version is not None and current.version != expected_version:
                    raise VersionConflictError(entry_id, expected_version, current.version)
                now = max(self.clock.now(), current.updated_at)
                changes: dict[str, object]
                if action == "update":
                    assert patch is not None
                    changes = await self._apply_patch(uow, principal, current, patch)
                elif action == "delete":
                    changes = {"deleted_at": now}
                elif action == "version_restored":
                    assert restored is not None
                    changes = {name: getattr(restored, name) for name in RESTORED_FIELDS}
                    if restored.stream_id and not await uow.streams.get(
                        principal.account_id, restored.stream_id
                    ):
                        changes["stream_id"] = None
                else:
                    changes = {"deleted_at": None}
                    # Back among the live entries: its tags take the spellings in use.
                    spelled = await self._spelled(uow, principal, current.tags)
                    if spelled != current.tags:
                        changes["tags"] = spelled
                    if current.stream_id and not await uow.streams.get(
                        principal.account_id, current.stream_id
                    ):
                        changes["stream_id"] = None
                new = msgspec.structs.replace(
                    current,
                    **changes,
                    version=current.version + 1,
                    updated_at=now,
                    last_edited_by=principal.actor,
                )
                if await uow.entries.update(new, expected_version=current.version):
                    await uow.versions.add(self._snapshot(new, action, principal))
                    break
                if expected_version is not None:
                    fresh = await uow.entries.get(
                        principal.account_id, entry_id, include_deleted=True
                    )
                    raise VersionConflictError(
                        entry_id, expected_version, fresh.version if fresh else expected_version + 1
                    )
        else:
            raise ConflictError(f"entry {entry_id} is changing too fast; retry", field="entry_id")
        await self._index([new])
        return new

    async def update_entry(
        self,
        principal: Principal,
        entry_id: UUID,
        patch: EntryPatch,
        *,
        expected_version: int | None = None,
    ) -> Entry:
        """Change an entry; only fields set in ``patch`` change (tags replace the list).

        Values the entry already holds are never rewritten, even if its stream's
        settings changed since; but moving it (``stream_id``) to a stream that does
        not take some of them is refused, naming them in ``fields_to_clear``, unless
        ``patch.clear_disallowed`` asks to clear them.

        Raises:
            NotFoundError: no such live entry (or target stream) in the caller's account.
            VersionConflictError: ``expected_version`` is not the current version.
            InvalidInputError: a value is malformed or not allowed by the stream, set
                for a field the stream does not use, or a move the target refuses.

        """
        self._require(principal, Scope.FULL, "update_entry")
        return await self._write(principal, entry_id, expected_version, "update", patch)

    async def delete_entry(
        self, principal: Principal, entry_id: UUID, *, expected_version: int | None = None
    ) -> Entry:
        """Move an entry to the trash (restorable for the retention period).

        Raises:
            NotFoundError: no such live entry in the caller's account.

        """
        self._require(principal, Scope.FULL, "delete_entry")
        return await self._write(principal, entry_id, expected_version, "delete")

    async def restore_version(
        self,
        principal: Principal,
        entry_id: UUID,
        version: int,
        expected_version: int | None = None,
    ) -> Entry:
        """Bring a live entry's fields back to what they were at ``version``.

        The restore is a write like any other: the entry gets a new version
        (``version_restored`` in its history), older versions stay. Images are
        not part of a version and are left as they are; an entry whose old
        stream is gone goes to the Inbox.

        Raises:
            NotFoundError: no such live entry, or no such version of it, in the
                caller's account.
            VersionConflictError: ``expected_version`` is not the current version.

        """
        self._require(principal, Scope.FULL, "restore_version")
        snapshot = await self.get_entry_version(principal, entry_id, version)
        return await self._write(
            principal, entry_id, expected_version, "version_restored", restored=snapshot.snapshot
        )

    async def get_entry_version(
        self, principal: Principal, entry_id: UUID, version: int
    ) -> EntryVersion:
        """Return one stored version of an entry (deleted entries' too).

        Raises:
            NotFoundError: no such entry or version in the caller's account.

        """
        self._require(principal, Scope.READ, "get_entry_history")
        async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
            if await uow.entries.get(principal.account_id, entry_id, include_deleted=True) is None:
                raise NotFoundError("entry", entry_id)
            versions = await uow.versions.list(principal.account_id, entry_id)
        for found in versions:
            if found.version == version:
                return found
        raise NotFoundError("version", f"{version} of entry {entry_id}")

    async def restore_entry(self, principal: Principal, entry_id: UUID) -> Entry:
        """Bring an entry back from the trash (into the Inbox if its stream is gone).

        Raises:
            NotFoundError: no such entry in the caller's account.
            ConflictError: the entry is not in the trash.

        """
        self._require(principal, Scope.FULL, "restore_entry")
        return await self._write(principal, entry_id, None, "restore")
