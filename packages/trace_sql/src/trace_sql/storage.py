"""``SqlStorage``: every storage port of Trace on SQLAlchemy Core (SQLite and PostgreSQL).

Rows and entities are converted explicitly (``*_to_row`` / ``row_to_*``).
Every query is scoped by ``account_id``. Driver errors are translated into
:mod:`trace_core.errors` where the statement runs.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from functools import partial
from typing import Any
from uuid import UUID

import anyio
import msgspec
import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from trace_core.errors import NotFoundError
from trace_core.model import (
    Account,
    Attachment,
    Entry,
    EntryFilter,
    EntrySettings,
    EntryVersion,
    Stream,
    TagCount,
)
from trace_core.ports import (
    AccountRepository,
    AttachmentRepository,
    EntryRepository,
    ListPosition,
    Storage,
    StreamRepository,
    UnitOfWork,
    VersionRepository,
)
from trace_sql.engine import (
    BEGIN_MODE_OPTION,
    SqliteSynchronous,
    create_engine,
    create_sqlite_reader,
)
from trace_sql.errors import translated_errors
from trace_sql.tables import (
    accounts,
    attachments,
    entries,
    entry_tags,
    entry_versions,
    streams,
)
from trace_sql.types import casefold

__all__ = [
    "ENTRY_LIST_ORDER",
    "SqlAccountRepository",
    "SqlAttachmentRepository",
    "SqlEntryRepository",
    "SqlStorage",
    "SqlStreamRepository",
    "SqlUnitOfWork",
    "SqlVersionRepository",
    "account_to_row",
    "attachment_to_row",
    "create_storage",
    "entry_filter_clauses",
    "entry_to_row",
    "open_storage",
    "row_to_account",
    "row_to_attachment",
    "row_to_entry",
    "row_to_stream",
    "row_to_version",
    "stream_to_row",
    "version_to_row",
]

# Keeps IN (...) lists well under SQLite's bound-parameter limit.
_CHUNK = 500

# Bulk inserts of at least this many entries in one unit of work may refresh
# Postgres planner statistics (see _refresh_statistics).
_BULK_ROWS = "trace_bulk_rows"
_ANALYZE_MIN_ROWS = 500
_ANALYZED_TABLES = ("entries", "entry_tags", "entry_versions")

# --- row <-> entity ------------------------------------------------------------


def account_to_row(account: Account) -> dict[str, Any]:
    """Return the ``accounts`` row of an account."""
    return {
        "account_id": account.account_id,
        "email": account.email,
        "email_normalized": account.email.casefold(),
        "name": account.name,
        "password_hash": account.password_hash,
        "plan": account.plan,
        "is_active": account.is_active,
        "created_at": account.created_at,
    }


def row_to_account(row: Mapping[Any, Any]) -> Account:
    """Return the account of an ``accounts`` row."""
    return Account(
        account_id=row["account_id"],
        email=row["email"],
        name=row["name"],
        password_hash=row["password_hash"],
        plan=row["plan"],
        is_active=row["is_active"],
        created_at=row["created_at"],
    )


def stream_to_row(stream: Stream) -> dict[str, Any]:
    """Return the ``streams`` row of a stream (``entry_count`` is computed, not stored)."""
    return {
        "stream_id": stream.stream_id,
        "account_id": stream.account_id,
        "name": stream.name,
        "name_key": stream.name.casefold(),
        "description": stream.description,
        "color": stream.color,
        "icon": stream.icon,
        "is_private": stream.is_private,
        "is_archived": stream.is_archived,
        "entry_settings": msgspec.to_builtins(stream.entry_settings),
        "created_at": stream.created_at,
        "updated_at": stream.updated_at,
    }


def row_to_stream(row: Mapping[Any, Any]) -> Stream:
    """Return the stream of a ``streams`` row (with ``entry_count`` if selected)."""
    return Stream(
        stream_id=row["stream_id"],
        account_id=row["account_id"],
        name=row["name"],
        description=row["description"],
        color=row["color"],
        icon=row["icon"],
        is_private=row["is_private"],
        is_archived=row["is_archived"],
        entry_settings=msgspec.convert(row["entry_settings"], EntrySettings),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        entry_count=row.get("entry_count") or 0,
    )


def entry_to_row(entry: Entry) -> dict[str, Any]:
    """Return the ``entries`` row of an entry."""
    return {
        "entry_id": entry.entry_id,
        "account_id": entry.account_id,
        "stream_id": entry.stream_id,
        "title": entry.title,
        "content": entry.content,
        "entry_date": entry.entry_date,
        "tags": list(entry.tags),
        "status": entry.status,
        "type": entry.type,
        "priority": entry.priority,
        "rating": entry.rating,
        "due_date": entry.due_date,
        "is_pinned": entry.is_pinned,
        "is_archived": entry.is_archived,
        "latitude": entry.latitude,
        "longitude": entry.longitude,
        "place_name": entry.place_name,
        "city": entry.city,
        "country": entry.country,
        "mentions": list(entry.mentions),
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "version": entry.version,
        "last_edited_by": entry.last_edited_by,
        "deleted_at": entry.deleted_at,
    }


def row_to_entry(row: Mapping[Any, Any]) -> Entry:
    """Return the entry of an ``entries`` row."""
    return Entry(
        entry_id=row["entry_id"],
        account_id=row["account_id"],
        stream_id=row["stream_id"],
        title=row["title"],
        content=row["content"],
        entry_date=row["entry_date"],
        tags=tuple(row["tags"]),
        status=row["status"],
        type=row["type"],
        priority=row["priority"],
        rating=row["rating"],
        due_date=row["due_date"],
        is_pinned=row["is_pinned"],
        is_archived=row["is_archived"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        place_name=row["place_name"],
        city=row["city"],
        country=row["country"],
        mentions=tuple(row["mentions"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        last_edited_by=row["last_edited_by"],
        deleted_at=row["deleted_at"],
    )


def _tag_rows(entry: Entry) -> list[dict[str, Any]]:
    # Only live entries have tag rows: tag filters and counts then never need
    # to look at the trash.
    if entry.deleted_at is not None:
        return []
    return [
        {"entry_id": entry.entry_id, "account_id": entry.account_id, "tag": tag}
        for tag in dict.fromkeys(entry.tags)
    ]


def version_to_row(version: EntryVersion) -> dict[str, Any]:
    """Return the ``entry_versions`` row of a snapshot (the entry as JSON via msgspec)."""
    return {
        "account_id": version.account_id,
        "entry_id": version.entry_id,
        "version": version.version,
        "action": version.action,
        "written_by": version.written_by,
        "written_at": version.written_at,
        "snapshot": msgspec.to_builtins(version.snapshot),
    }


def row_to_version(row: Mapping[Any, Any]) -> EntryVersion:
    """Return the snapshot of an ``entry_versions`` row."""
    return EntryVersion(
        entry_id=row["entry_id"],
        account_id=row["account_id"],
        version=row["version"],
        action=row["action"],
        written_by=row["written_by"],
        written_at=row["written_at"],
        snapshot=msgspec.convert(row["snapshot"], Entry),
    )


def attachment_to_row(attachment: Attachment) -> dict[str, Any]:
    """Return the ``attachments`` row of an attachment."""
    return {
        "attachment_id": attachment.attachment_id,
        "account_id": attachment.account_id,
        "entry_id": attachment.entry_id,
        "mime_type": attachment.mime_type,
        "file_size": attachment.file_size,
        "width": attachment.width,
        "height": attachment.height,
        "position": attachment.position,
        "captured_at": attachment.captured_at,
        "created_at": attachment.created_at,
        "blob_key": attachment.blob_key,
        "sha256": attachment.sha256,
        "filename": attachment.filename,
    }


def row_to_attachment(row: Mapping[Any, Any]) -> Attachment:
    """Return the attachment of an ``attachments`` row."""
    return Attachment(
        attachment_id=row["attachment_id"],
        account_id=row["account_id"],
        entry_id=row["entry_id"],
        mime_type=row["mime_type"],
        file_size=row["file_size"],
        width=row["width"],
        height=row["height"],
        position=row["position"],
        captured_at=row["captured_at"],
        created_at=row["created_at"],
        blob_key=row["blob_key"],
        sha256=row["sha256"],
        filename=row["filename"],
    )


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- repositories ------------------------------------------------------------------


class _SqlRepository:
    """Runs statements on the unit of work's connection, translating driver errors."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._conn = connection

    async def _execute(
        self,
        statement: sa.Executable,
        params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        *,
        conflict: str | None = None,
        slow: bool = False,
    ) -> sa.CursorResult[Any]:
        # ``slow``: a read that may scan many rows. On the inline SQLite reader it
        # runs in a worker thread, so it does not hold the event loop.
        run = self._conn.execute
        if slow and isinstance(self._conn, _InlineConnection):
            run = self._conn.execute_in_thread
        with translated_errors(conflict=conflict):
            if params is None:
                return await run(statement)
            return await run(statement, params)


# Point reads built once with bound parameters: building a statement per call costs
# ~75 µs of SQLAlchemy construction and cache-key work, three times the read itself.
_ACCOUNT_BY_ID = sa.select(accounts).where(accounts.c.account_id == sa.bindparam("account_id"))
_STREAM_BY_ID = sa.select(streams).where(
    streams.c.account_id == sa.bindparam("account_id"),
    streams.c.stream_id == sa.bindparam("stream_id"),
)
_STREAMS_OF_ACCOUNT = sa.select(streams).where(streams.c.account_id == sa.bindparam("account_id"))
_LIVE_STREAMS_OF_ACCOUNT = _STREAMS_OF_ACCOUNT.where(streams.c.is_archived.is_(False))
_ENTRY_BY_ID = sa.select(entries).where(
    entries.c.account_id == sa.bindparam("account_id"),
    entries.c.entry_id == sa.bindparam("entry_id"),
)
_LIVE_ENTRY_BY_ID = _ENTRY_BY_ID.where(entries.c.deleted_at.is_(None))
_ATTACHMENTS_OF_ENTRY = (
    sa.select(attachments)
    .where(
        attachments.c.account_id == sa.bindparam("account_id"),
        attachments.c.entry_id == sa.bindparam("entry_id"),
    )
    .order_by(attachments.c.position, attachments.c.attachment_id)
)


class SqlAccountRepository(_SqlRepository, AccountRepository):
    """Accounts in the ``accounts`` table."""

    async def add(self, account: Account) -> None:
        """Store a new account; ConflictError if the email is taken."""
        await self._execute(
            sa.insert(accounts).values(account_to_row(account)),
            conflict=f"an account with email {account.email} already exists",
        )

    async def get(self, account_id: UUID) -> Account | None:
        """Return the account, or None."""
        result = await self._execute(_ACCOUNT_BY_ID, {"account_id": account_id})
        row = result.mappings().first()
        return row_to_account(row) if row else None

    async def get_by_email(self, email: str) -> Account | None:
        """Return the account with that email, compared case-insensitively."""
        result = await self._execute(
            sa.select(accounts).where(accounts.c.email_normalized == email.casefold())
        )
        row = result.mappings().first()
        return row_to_account(row) if row else None

    async def list(self) -> builtins.list[Account]:
        """Return every account, oldest first."""
        result = await self._execute(sa.select(accounts))
        # Sorted here, not in SQL: text order would follow the database's collation.
        found = [row_to_account(row) for row in result.mappings()]
        return sorted(found, key=lambda a: (a.created_at, a.email))

    async def update(self, account: Account) -> None:
        """Replace the stored account; NotFoundError if it does not exist."""
        row = account_to_row(account)
        del row["account_id"]
        result = await self._execute(
            sa.update(accounts).where(accounts.c.account_id == account.account_id).values(row),
            conflict=f"an account with email {account.email} already exists",
        )
        if result.rowcount == 0:
            raise NotFoundError("account", account.account_id)


def _entry_count_column() -> sa.Label[int]:
    return (
        sa.select(sa.func.count())
        .where(
            entries.c.account_id == streams.c.account_id,
            entries.c.stream_id == streams.c.stream_id,
            entries.c.deleted_at.is_(None),
        )
        .scalar_subquery()
        .label("entry_count")
    )


class SqlStreamRepository(_SqlRepository, StreamRepository):
    """Streams in the ``streams`` table."""

    async def add(self, stream: Stream) -> None:
        """Store a new stream."""
        await self._execute(
            sa.insert(streams).values(stream_to_row(stream)),
            conflict=f"a stream named {stream.name!r} or with id {stream.stream_id} exists",
        )

    async def get(
        self, account_id: UUID, stream_id: UUID, *, with_counts: bool = True
    ) -> Stream | None:
        """Return the stream with its live entry count, or None."""
        if with_counts:
            query = sa.select(streams, _entry_count_column()).where(
                streams.c.account_id == account_id, streams.c.stream_id == stream_id
            )
            result = await self._execute(query)
        else:
            result = await self._execute(
                _STREAM_BY_ID, {"account_id": account_id, "stream_id": stream_id}
            )
        row = result.mappings().first()
        return row_to_stream(row) if row else None

    async def list(
        self, account_id: UUID, *, include_archived: bool = False, with_counts: bool = True
    ) -> builtins.list[Stream]:
        """Return the account's streams by name (case-insensitive), with entry counts."""
        if with_counts:
            query = sa.select(streams, _entry_count_column()).where(
                streams.c.account_id == account_id
            )
            if not include_archived:
                query = query.where(streams.c.is_archived.is_(False))
            result = await self._execute(query)
        else:
            query = _STREAMS_OF_ACCOUNT if include_archived else _LIVE_STREAMS_OF_ACCOUNT
            result = await self._execute(query, {"account_id": account_id})
        # Sorted here, not in SQL: the same order whatever the database's collation
        # (and SQLite's lower() only folds ASCII).
        found = [row_to_stream(row) for row in result.mappings()]
        return sorted(found, key=lambda s: (s.name.casefold(), s.stream_id))

    async def update(self, stream: Stream) -> None:
        """Replace the stored stream; NotFoundError if it is not in the account."""
        row = stream_to_row(stream)
        del row["stream_id"], row["account_id"]
        result = await self._execute(
            sa.update(streams)
            .where(
                streams.c.account_id == stream.account_id, streams.c.stream_id == stream.stream_id
            )
            .values(row),
            conflict=f"a stream named {stream.name!r} exists",
        )
        if result.rowcount == 0:
            raise NotFoundError("stream", stream.stream_id)


ENTRY_LIST_ORDER = (
    entries.c.entry_date.desc(),
    entries.c.created_at.desc(),
    entries.c.entry_id.desc(),
)
"""ORDER BY of every entry listing: entry_date, created_at, entry_id, all descending."""


def entry_filter_clauses(
    account_id: UUID, filters: EntryFilter
) -> builtins.list[sa.ColumnElement[bool]]:
    """Return the WHERE clauses selecting the account's live entries that pass ``filters``.

    Shared with the SQL search adapters so search and listing filter alike.
    """
    clauses: builtins.list[sa.ColumnElement[bool]] = [
        entries.c.account_id == account_id,
        entries.c.deleted_at.is_(None),
    ]
    if filters.stream == "inbox":
        clauses.append(entries.c.stream_id.is_(None))
    elif isinstance(filters.stream, UUID):
        clauses.append(entries.c.stream_id == filters.stream)
    if filters.tags:
        tags = builtins.list(dict.fromkeys(filters.tags))
        tagged = sa.select(entry_tags.c.entry_id).where(
            entry_tags.c.account_id == account_id, entry_tags.c.tag.in_(tags)
        )
        if filters.tags_mode == "all" and len(tags) > 1:
            tagged = tagged.group_by(entry_tags.c.entry_id).having(sa.func.count() == len(tags))
        clauses.append(entries.c.entry_id.in_(tagged))
    if filters.status is not None:
        clauses.append(entries.c.status == filters.status)
    if filters.type is not None:
        clauses.append(entries.c.type == filters.type)
    if filters.is_archived is not None:
        clauses.append(entries.c.is_archived.is_(filters.is_archived))
    if filters.is_pinned is not None:
        clauses.append(entries.c.is_pinned.is_(filters.is_pinned))
    if filters.start_date is not None:
        clauses.append(entries.c.entry_date >= filters.start_date)
    if filters.end_date is not None:
        clauses.append(entries.c.entry_date <= filters.end_date)
    if filters.created_after is not None:
        clauses.append(entries.c.created_at >= filters.created_after)
    if filters.created_before is not None:
        clauses.append(entries.c.created_at < filters.created_before)
    if filters.updated_after is not None:
        clauses.append(entries.c.updated_at >= filters.updated_after)
    if filters.updated_before is not None:
        clauses.append(entries.c.updated_at < filters.updated_before)
    if filters.text:
        # Case-insensitive for every script (not only ASCII), wildcards literal.
        pattern = "%" + re.sub(r"([/%_])", r"/\1", filters.text) + "%"
        needle = casefold(sa.literal(pattern, sa.String()))

        def matches(column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
            return casefold(column).like(needle, escape="/")

        tag_match = sa.exists().where(
            entry_tags.c.entry_id == entries.c.entry_id, matches(entry_tags.c.tag)
        )
        clauses.append(sa.or_(matches(entries.c.title), matches(entries.c.content), tag_match))
    return clauses


class SqlEntryRepository(_SqlRepository, EntryRepository):
    """Entries in ``entries``, with their tags mirrored in ``entry_tags``."""

    async def add(self, entry: Entry) -> None:
        """Store a new entry."""
        await self.add_many([entry])

    async def add_many(self, entries_: Sequence[Entry]) -> None:
        """Store many new entries with one executemany per table."""
        if not entries_:
            return
        info = self._conn.info
        info[_BULK_ROWS] = info.get(_BULK_ROWS, 0) + len(entries_)
        await self._execute(
            sa.insert(entries),
            [entry_to_row(entry) for entry in entries_],
            conflict="an entry with this id already exists, or its stream is not in the account",
        )
        tag_rows = [row for entry in entries_ for row in _tag_rows(entry)]
        if tag_rows:
            await self._execute(sa.insert(entry_tags), tag_rows)

    async def get(
        self, account_id: UUID, entry_id: UUID, *, include_deleted: bool = False
    ) -> Entry | None:
        """Return the entry, or None; soft-deleted entries only with ``include_deleted``."""
        query = _ENTRY_BY_ID if include_deleted else _LIVE_ENTRY_BY_ID
        result = await self._execute(query, {"account_id": account_id, "entry_id": entry_id})
        row = result.mappings().first()
        return row_to_entry(row) if row else None

    async def get_many(self, account_id: UUID, entry_ids: Sequence[UUID]) -> builtins.list[Entry]:
        """Return the live entries among ``entry_ids``."""
        found: builtins.list[Entry] = []
        for chunk in _chunks(builtins.list(dict.fromkeys(entry_ids))):
            result = await self._execute(
                sa.select(entries).where(
                    entries.c.account_id == account_id,
                    entries.c.entry_id.in_(chunk),
                    entries.c.deleted_at.is_(None),
                )
            )
            found.extend(row_to_entry(row) for row in result.mappings())
        return found

    async def list(
        self,
        account_id: UUID,
        filters: EntryFilter,
        *,
        limit: int,
        offset: int = 0,
        after: ListPosition | None = None,
    ) -> builtins.list[Entry]:
        """Return live entries matching ``filters`` in list order (``after``, then offset)."""
        query = sa.select(entries).where(*entry_filter_clauses(account_id, filters))
        if after is not None:
            query = query.where(
                sa.tuple_(entries.c.entry_date, entries.c.created_at, entries.c.entry_id)
                < sa.tuple_(
                    sa.literal(after.entry_date, entries.c.entry_date.type),
                    sa.literal(after.created_at, entries.c.created_at.type),
                    sa.literal(after.entry_id, entries.c.entry_id.type),
                )
            )
        query = query.order_by(*ENTRY_LIST_ORDER).limit(limit).offset(offset)
        result = await self._execute(query, slow=bool(filters.tags))
        return [row_to_entry(row) for row in result.mappings()]

    async def count(self, account_id: UUID, filters: EntryFilter) -> int:
        """Count live entries matching ``filters``."""
        query = (
            sa.select(sa.func.count())
            .select_from(entries)
            .where(*entry_filter_clauses(account_id, filters))
        )
        # Every filter but tags is answered by a covering index; a tag filter probes
        # each of the account's entries (~60 ms at 100k for a common tag).
        return int((await self._execute(query, slow=bool(filters.tags))).scalar_one())

    async def update(self, entry: Entry, *, expected_version: int) -> bool:
        """Replace the entry with ONE conditional UPDATE on its version; True if written."""
        row = entry_to_row(entry)
        del row["entry_id"], row["account_id"]
        result = await self._execute(
            sa.update(entries)
            .where(
                entries.c.account_id == entry.account_id,
                entries.c.entry_id == entry.entry_id,
                entries.c.version == expected_version,
            )
            .values(row),
            conflict="the entry's stream is not in the account",
        )
        if result.rowcount != 1:
            return False
        # Same transaction as the UPDATE: the tag mirror never disagrees with it.
        await self._execute(
            sa.delete(entry_tags).where(
                entry_tags.c.account_id == entry.account_id,
                entry_tags.c.entry_id == entry.entry_id,
            )
        )
        tag_rows = _tag_rows(entry)
        if tag_rows:
            await self._execute(sa.insert(entry_tags), tag_rows)
        return True

    async def list_deleted(
        self, account_id: UUID, *, limit: int, offset: int = 0
    ) -> builtins.list[Entry]:
        """Return soft-deleted entries, most recently deleted first."""
        result = await self._execute(
            sa.select(entries)
            .where(entries.c.account_id == account_id, entries.c.deleted_at.is_not(None))
            .order_by(entries.c.deleted_at.desc(), entries.c.entry_id.desc())
            .limit(limit)
            .offset(offset)
        )
        return [row_to_entry(row) for row in result.mappings()]

    async def count_deleted(self, account_id: UUID) -> int:
        """Count soft-deleted entries."""
        result = await self._execute(
            sa.select(sa.func.count())
            .select_from(entries)
            .where(entries.c.account_id == account_id, entries.c.deleted_at.is_not(None))
        )
        return int(result.scalar_one())

    async def deleted_before(
        self, cutoff: datetime, *, limit: int
    ) -> builtins.list[tuple[UUID, UUID]]:
        """Return ``(account_id, entry_id)`` of entries deleted before ``cutoff`` (purge job)."""
        result = await self._execute(
            sa.select(entries.c.account_id, entries.c.entry_id)
            .where(entries.c.deleted_at.is_not(None), entries.c.deleted_at < cutoff)
            .order_by(entries.c.deleted_at, entries.c.entry_id)
            .limit(limit)
        )
        return [(row.account_id, row.entry_id) for row in result]

    async def purge(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Hard-delete the entries with their tags, versions and attachment rows."""
        for chunk in _chunks(builtins.list(dict.fromkeys(entry_ids))):
            # Children first and explicitly: correct even where foreign keys
            # are not enforced, and scoped by account like every statement.
            for table in (attachments, entry_versions, entry_tags, entries):
                await self._execute(
                    sa.delete(table).where(
                        table.c.account_id == account_id, table.c.entry_id.in_(chunk)
                    )
                )

    async def list_tags(self, account_id: UUID) -> builtins.list[TagCount]:
        """Return each tag of live entries with its count, most used first, then by name."""
        result = await self._execute(
            sa.select(entry_tags.c.tag, sa.func.count().label("n"))
            .where(entry_tags.c.account_id == account_id)
            .group_by(entry_tags.c.tag)
        )
        # Ties are ordered by code point here, not by the database's collation.
        counts = sorted(((row.tag, int(row.n)) for row in result), key=lambda t: (-t[1], t[0]))
        return [TagCount(tag=tag, count=n) for tag, n in counts]

    async def list_all(
        self, account_id: UUID, *, include_deleted: bool = True
    ) -> builtins.list[Entry]:
        """Return every entry of the account, oldest first."""
        query = sa.select(entries).where(entries.c.account_id == account_id)
        if not include_deleted:
            query = query.where(entries.c.deleted_at.is_(None))
        result = await self._execute(query.order_by(entries.c.created_at, entries.c.entry_id))
        return [row_to_entry(row) for row in result.mappings()]


class SqlVersionRepository(_SqlRepository, VersionRepository):
    """Entry snapshots in ``entry_versions``."""

    async def add(self, version: EntryVersion) -> None:
        """Store a snapshot."""
        await self.add_many([version])

    async def add_many(self, versions: Sequence[EntryVersion]) -> None:
        """Store many snapshots with one executemany."""
        if not versions:
            return
        await self._execute(
            sa.insert(entry_versions),
            [version_to_row(version) for version in versions],
            conflict="that version of the entry is stored already, or the entry does not exist",
        )

    async def list(self, account_id: UUID, entry_id: UUID) -> builtins.list[EntryVersion]:
        """Return the entry's snapshots, newest version first."""
        result = await self._execute(
            sa.select(entry_versions)
            .where(entry_versions.c.account_id == account_id, entry_versions.c.entry_id == entry_id)
            .order_by(entry_versions.c.version.desc())
        )
        return [row_to_version(row) for row in result.mappings()]

    async def list_all(self, account_id: UUID) -> builtins.list[EntryVersion]:
        """Return every snapshot of the account, oldest write first."""
        result = await self._execute(
            sa.select(entry_versions)
            .where(entry_versions.c.account_id == account_id)
            .order_by(
                entry_versions.c.written_at, entry_versions.c.entry_id, entry_versions.c.version
            )
        )
        return [row_to_version(row) for row in result.mappings()]


class SqlAttachmentRepository(_SqlRepository, AttachmentRepository):
    """Attachment metadata in ``attachments``."""

    async def add(self, attachment: Attachment) -> None:
        """Store attachment metadata."""
        await self._execute(
            sa.insert(attachments).values(attachment_to_row(attachment)),
            conflict="the attachment exists already or its entry does not",
        )

    async def get(self, account_id: UUID, attachment_id: UUID) -> Attachment | None:
        """Return the attachment, or None."""
        result = await self._execute(
            sa.select(attachments).where(
                attachments.c.account_id == account_id,
                attachments.c.attachment_id == attachment_id,
            )
        )
        row = result.mappings().first()
        return row_to_attachment(row) if row else None

    async def list_for_entry(self, account_id: UUID, entry_id: UUID) -> builtins.list[Attachment]:
        """Return the entry's attachments by position."""
        result = await self._execute(
            _ATTACHMENTS_OF_ENTRY, {"account_id": account_id, "entry_id": entry_id}
        )
        return [row_to_attachment(row) for row in result.mappings()]

    async def list_for_entries(
        self, account_id: UUID, entry_ids: Sequence[UUID]
    ) -> builtins.list[Attachment]:
        """Return the attachments of the given entries, by entry then position."""
        found: builtins.list[Attachment] = []
        for chunk in _chunks(builtins.list(dict.fromkeys(entry_ids))):
            result = await self._execute(
                sa.select(attachments).where(
                    attachments.c.account_id == account_id, attachments.c.entry_id.in_(chunk)
                )
            )
            found.extend(row_to_attachment(row) for row in result.mappings())
        order = {entry_id: index for index, entry_id in enumerate(dict.fromkeys(entry_ids))}
        found.sort(key=lambda a: (order[a.entry_id], a.position, a.attachment_id))
        return found

    async def list_all(self, account_id: UUID) -> builtins.list[Attachment]:
        """Return every attachment of the account."""
        result = await self._execute(
            sa.select(attachments)
            .where(attachments.c.account_id == account_id)
            .order_by(attachments.c.created_at, attachments.c.attachment_id)
        )
        return [row_to_attachment(row) for row in result.mappings()]


# Older names, used by sibling modules.
_ORDER = ENTRY_LIST_ORDER
_filter_clauses = entry_filter_clauses

# --- unit of work and storage ----------------------------------------------------


class SqlUnitOfWork(UnitOfWork):
    """One database transaction; every repository runs on its connection.

    ``connection`` is public so other adapters in ``trace_sql`` (credentials,
    search) can join the same transaction.
    """

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection
        self._accounts = SqlAccountRepository(connection)
        self._streams = SqlStreamRepository(connection)
        self._entries = SqlEntryRepository(connection)
        self._versions = SqlVersionRepository(connection)
        self._attachments = SqlAttachmentRepository(connection)

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.connection.dialect.name

    @property
    def accounts(self) -> SqlAccountRepository:
        """Accounts."""
        return self._accounts

    @property
    def streams(self) -> SqlStreamRepository:
        """Streams."""
        return self._streams

    @property
    def entries(self) -> SqlEntryRepository:
        """Entries."""
        return self._entries

    @property
    def versions(self) -> SqlVersionRepository:
        """Entry snapshots."""
        return self._versions

    @property
    def attachments(self) -> SqlAttachmentRepository:
        """Attachment metadata."""
        return self._attachments


async def _refresh_statistics(conn: AsyncConnection, inserted: int) -> None:
    # Postgres plans from statistics that autovacuum refreshes only later: right
    # after a bulk import into a young table the planner believes it nearly empty
    # and picks nested loops that take seconds. Analyze while a batch is a large
    # share of the table; past that, the planner scales the stats by table size.
    async with conn.begin():
        known = (
            await conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('entries')")
            )
        ).scalar()
        if known is None or known <= 0 or inserted >= 0.25 * known:
            await conn.exec_driver_sql(f"ANALYZE {', '.join(_ANALYZED_TABLES)}")


class _InlineConnection:
    """A synchronous SQLAlchemy connection behind the ``AsyncConnection`` calls repositories make.

    Statements run on the calling (event loop) thread; the awaitables never
    suspend. Results are the same buffered ``CursorResult`` objects an
    ``AsyncConnection`` returns.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._conn = connection

    @property
    def dialect(self) -> sa.Dialect:
        return self._conn.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self._conn.info

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.execute(statement, parameters, **kw)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.exec_driver_sql(statement, parameters, **kw)

    async def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.scalar(statement, parameters, **kw)

    async def execute_in_thread(self, statement: Any, parameters: Any = None) -> Any:
        """Run a statement that may scan many rows in a worker thread (the loop stays free).

        The connection is used by one task at a time, so handing it to a thread
        for the duration of the call is safe (file connections are not bound to
        their creating thread).
        """
        return await anyio.to_thread.run_sync(partial(self._conn.execute, statement, parameters))


class SqlStorage(Storage):
    """Trace storage on one SQLAlchemy async engine (SQLite or PostgreSQL).

    Args:
        engine: the async engine every write (and, on Postgres, every read) uses.
        reader: on a SQLite file, a synchronous engine for read-only units of
            work (:func:`create_sqlite_reader`); None runs reads on ``engine``.

    """

    def __init__(self, engine: AsyncEngine, reader: sa.Engine | None = None) -> None:
        self._engine = engine
        self._reader = reader

    @property
    def engine(self) -> AsyncEngine:
        """The engine (for migrations, sibling adapters and tests)."""
        return self._engine

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @property
    def reader(self) -> sa.Engine | None:
        """The synchronous engine for reads on a SQLite file (None elsewhere)."""
        return self._reader

    @asynccontextmanager
    async def connect(self, *, write: bool = False) -> AsyncIterator[AsyncConnection]:
        """Open a transaction and yield its connection (for sibling adapters in ``trace_sql``).

        Committed when the block exits cleanly, rolled back on error; driver
        errors are translated into :mod:`trace_core.errors`.
        """
        with translated_errors() as errors:
            async with self._engine.connect() as conn:
                if write and self.dialect_name == "sqlite":
                    await conn.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
                conn.info.pop(_BULK_ROWS, None)
                try:
                    async with conn.begin():
                        errors.callers_code = True
                        yield conn
                        errors.callers_code = False
                    bulk_rows = conn.info.pop(_BULK_ROWS, 0)
                finally:
                    # An invalidated connection (dropped mid-use) must not be touched:
                    # ``info`` would make SQLAlchemy reconnect outside the async bridge.
                    if not conn.invalidated:
                        conn.info.pop(_BULK_ROWS, None)
                if bulk_rows >= _ANALYZE_MIN_ROWS and self.dialect_name == "postgresql":
                    await _refresh_statistics(conn, bulk_rows)

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = False) -> AsyncIterator[SqlUnitOfWork]:
        """Open a transaction over every repository.

        Committed when the block exits cleanly, rolled back on any exception.
        ``write=True`` takes SQLite's write lock up front (``BEGIN IMMEDIATE``).
        """
        if write or self._reader is None:
            async with self.connect(write=write) as conn:
                yield SqlUnitOfWork(conn)
            return
        async with self.read() as conn:
            yield SqlUnitOfWork(conn)  # type: ignore[arg-type]

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Open a read-only transaction; on SQLite files it runs on the calling thread.

        For short reads (point lookups by key). The connection offers the
        ``AsyncConnection`` calls the repositories use (``execute``,
        ``exec_driver_sql``, ``scalar``, ``dialect``, ``info``).
        """
        if self._reader is None:
            async with self.connect() as conn:
                yield conn
            return
        with (
            translated_errors() as errors,
            self._reader.connect() as sync_conn,
            sync_conn.begin(),
        ):
            errors.callers_code = True
            yield _InlineConnection(sync_conn)  # type: ignore[misc]
            errors.callers_code = False

    async def migrate(self) -> None:
        """Upgrade the schema to the newest revision (``heads``)."""
        from trace_sql.migrate import migrate_engine

        await migrate_engine(self._engine)

    async def close(self) -> None:
        """Close every pooled connection."""
        if self._reader is not None:
            self._reader.dispose()
        await self._engine.dispose()


def create_storage(
    url: str | URL,
    *,
    echo: bool = False,
    sqlite_synchronous: SqliteSynchronous = "full",
    **engine_options: Any,
) -> SqlStorage:
    """Build a :class:`SqlStorage` for a SQLite or PostgreSQL URL (no I/O, no migration).

    Args:
        url: ``sqlite+aiosqlite:///path``, ``postgresql+asyncpg://…`` (plain
            ``sqlite:///`` and ``postgresql://`` are accepted too).
        echo: log every statement.
        sqlite_synchronous: SQLite file: ``full`` (every commit durable on power
            loss) or ``normal``; see :data:`trace_sql.engine.SqliteSynchronous`.
        **engine_options: passed on to SQLAlchemy's ``create_async_engine``.

    """
    engine = create_engine(url, echo=echo, sqlite_synchronous=sqlite_synchronous, **engine_options)
    return SqlStorage(
        engine, reader=create_sqlite_reader(engine, sqlite_synchronous=sqlite_synchronous)
    )


async def open_storage(url: str | URL, *, migrate: bool = True, echo: bool = False) -> SqlStorage:
    """Build a :class:`SqlStorage` and, unless ``migrate=False``, upgrade its schema first.

    This is what a server calls on start.
    """
    storage = create_storage(url, echo=echo)
    if migrate:
        try:
            await storage.migrate()
        except BaseException:
            await storage.close()
            raise
    return storage
