"""Entries in ``entries`` with their tags mirrored in ``entry_tags``; the shared list filter."""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from trace_core.model import Entry, EntryFilter, TagCount
from trace_core.ordering import DEFAULT_SORT, EntrySort, descending, position_key
from trace_core.ports import EntryRepository, ListPosition
from trace_sql.storage._base import BULK_ROWS, SqlRepository, chunks
from trace_sql.storage._rows import entry_tag_rows, entry_to_row, entry_words, row_to_entry
from trace_sql.tables import attachments, entries, entry_tags, entry_versions, search_words
from trace_sql.types import casefold

# Point reads built once with bound parameters: building a statement per call costs
# ~75 µs of SQLAlchemy construction and cache-key work, three times the read itself.
_ENTRY_BY_ID = sa.select(entries).where(
    entries.c.account_id == sa.bindparam("account_id"),
    entries.c.entry_id == sa.bindparam("entry_id"),
)
_LIVE_ENTRY_BY_ID = _ENTRY_BY_ID.where(entries.c.deleted_at.is_(None))
_ADD_CONFLICT = "an entry with this id already exists, or its stream is not in the account"


ENTRY_LIST_ORDER = (
    entries.c.entry_date.desc(),
    entries.c.created_at.desc(),
    entries.c.entry_id.desc(),
)
"""ORDER BY of every entry listing: entry_date, created_at, entry_id, all descending."""


def sort_columns(sort: EntrySort) -> tuple[sa.ColumnElement[Any], ...]:
    """Return the columns of ``sort``, the SQL twin of :func:`trace_core.ordering.sort_key`."""
    field = sort.removeprefix("-")
    if field == "entry_date":
        return (entries.c.entry_date, entries.c.created_at, entries.c.entry_id)
    if field == "updated":
        return (entries.c.updated_at, entries.c.entry_id)
    if field == "due_date":
        # No due date sorts after every date, in both directions (as sort_key does).
        missing = date.min if descending(sort) else date.max
        due = sa.func.coalesce(entries.c.due_date, sa.literal(missing, entries.c.due_date.type))
        return (sa.type_coerce(due, entries.c.due_date.type), entries.c.entry_id)
    return (entries.c.priority, entries.c.entry_id)


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
    if filters.due_before is not None:
        clauses.append(entries.c.due_date < filters.due_before)
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


class SqlEntryRepository(SqlRepository, EntryRepository):
    """Entries in ``entries``, with their tags mirrored in ``entry_tags``."""

    async def add(self, entry: Entry) -> None:
        """Store a new entry."""
        await self.add_many([entry])

    async def add_many(self, entries_: Sequence[Entry]) -> None:
        """Store many new entries with one executemany per table."""
        if not entries_:
            return
        info = self._conn.info
        info[BULK_ROWS] = info.get(BULK_ROWS, 0) + len(entries_)
        for run in self._scope.groups(entries_, lambda e: e.account_id):
            await self._scope.enter(run[0].account_id)
            rows = [entry_to_row(entry) for entry in run]
            await self._execute(sa.insert(entries), rows, conflict=_ADD_CONFLICT)
            tag_rows = [row for entry in run for row in entry_tag_rows(entry)]
            if tag_rows:
                await self._execute(sa.insert(entry_tags), tag_rows)
            await self._add_words(rows)

    async def _add_words(self, rows: Sequence[dict[str, Any]]) -> None:
        """Add the words of ``entries`` rows to their accounts' ``search_words`` (one executemany).

        Insert-only (ON CONFLICT DO NOTHING): a word stays a typo candidate
        until a search rebuild recomputes the table from live entries.
        """
        words = entry_words(rows)
        if not words:
            return
        await self._execute(self._words_insert(), words)

    def _words_insert(self) -> sa.Insert:
        insert = (
            postgresql.insert(search_words)
            if self._conn.dialect.name == "postgresql"
            else sqlite.insert(search_words)
        )
        return insert.on_conflict_do_nothing()

    async def get(
        self, account_id: UUID, entry_id: UUID, *, include_deleted: bool = False
    ) -> Entry | None:
        """Return the entry, or None; soft-deleted entries only with ``include_deleted``."""
        await self._scope.enter(account_id)
        query = _ENTRY_BY_ID if include_deleted else _LIVE_ENTRY_BY_ID
        result = await self._execute(query, {"account_id": account_id, "entry_id": entry_id})
        row = result.mappings().first()
        return row_to_entry(row) if row else None

    async def get_many(self, account_id: UUID, entry_ids: Sequence[UUID]) -> builtins.list[Entry]:
        """Return the live entries among ``entry_ids``."""
        await self._scope.enter(account_id)
        found: builtins.list[Entry] = []
        for chunk in chunks(builtins.list(dict.fromkeys(entry_ids))):
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
        sort: EntrySort = DEFAULT_SORT,
    ) -> builtins.list[Entry]:
        """Return live entries matching ``filters`` in ``sort`` order (``after``, then offset)."""
        await self._scope.enter(account_id)
        query = sa.select(entries).where(*entry_filter_clauses(account_id, filters))
        columns = sort_columns(sort)
        down = descending(sort)
        if after is not None:
            values = tuple(
                sa.literal(value, column.type)
                for value, column in zip(position_key(after, sort), columns, strict=True)
            )
            row, at = sa.tuple_(*columns), sa.tuple_(*values)
            query = query.where(row < at if down else row > at)
        order = [c.desc() if down else c.asc() for c in columns]
        query = query.order_by(*order).limit(limit).offset(offset)
        # Only the default order has an index to walk; the others sort the matches.
        slow = bool(filters.tags) or sort != DEFAULT_SORT
        result = await self._execute(query, slow=slow)
        return [row_to_entry(row) for row in result.mappings()]

    async def count(self, account_id: UUID, filters: EntryFilter) -> int:
        """Count live entries matching ``filters``."""
        await self._scope.enter(account_id)
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
        await self._scope.enter(entry.account_id)
        row = entry_to_row(entry)
        words = entry_words([row])
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
        tag_rows = entry_tag_rows(entry)
        if tag_rows:
            await self._execute(sa.insert(entry_tags), tag_rows)
        if words:
            await self._execute(self._words_insert(), words)
        return True

    async def list_deleted(
        self, account_id: UUID, *, limit: int, offset: int = 0
    ) -> builtins.list[Entry]:
        """Return soft-deleted entries, most recently deleted first."""
        await self._scope.enter(account_id)
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
        await self._scope.enter(account_id)
        result = await self._execute(
            sa.select(sa.func.count())
            .select_from(entries)
            .where(entries.c.account_id == account_id, entries.c.deleted_at.is_not(None))
        )
        return int(result.scalar_one())

    async def deleted_before(
        self, cutoff: datetime, *, limit: int
    ) -> builtins.list[tuple[UUID, UUID]]:
        """Return ``(account_id, entry_id)`` of entries deleted before ``cutoff`` (purge job).

        On PostgreSQL the rows are locked until the unit of work ends and rows
        another transaction holds are skipped (``FOR UPDATE SKIP LOCKED``), so
        replicas purging at once take different batches and a row cannot be
        restored between this claim and its purge. SQLite has one writer at a
        time (``BEGIN IMMEDIATE``) and compiles no locking clause.
        """
        result = await self._execute(
            sa.select(entries.c.account_id, entries.c.entry_id)
            .where(entries.c.deleted_at.is_not(None), entries.c.deleted_at < cutoff)
            .order_by(entries.c.deleted_at, entries.c.entry_id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(row.account_id, row.entry_id) for row in result]

    async def purge(self, account_id: UUID, entry_ids: Sequence[UUID]) -> None:
        """Hard-delete the entries with their tags, versions and attachment rows."""
        await self._scope.enter(account_id)
        for chunk in chunks(builtins.list(dict.fromkeys(entry_ids))):
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
        await self._scope.enter(account_id)
        mine = entry_tags.c.account_id == account_id
        counted = await self._execute(
            sa.select(
                entry_tags.c.tag_key,
                sa.func.count(sa.distinct(entry_tags.c.entry_id)).label("n"),
            )
            .where(mine)
            .group_by(entry_tags.c.tag_key)
        )
        counts = {row.tag_key: int(row.n) for row in counted}
        spelled = await self._execute(
            sa.select(entry_tags.c.tag_key, entry_tags.c.tag).where(mine).distinct()
        )
        # One row per key, shown in its smallest spelling by code point (not by the
        # database's collation); ties ordered the same way.
        spellings: dict[str, str] = {}
        for row in spelled:
            spellings[row.tag_key] = min(spellings.get(row.tag_key, row.tag), row.tag)
        ordered = sorted(
            ((spellings[key], n) for key, n in counts.items()), key=lambda t: (-t[1], t[0])
        )
        return [TagCount(tag=tag, count=n) for tag, n in ordered]

    async def tag_spellings(self, account_id: UUID, keys: Sequence[str]) -> builtins.dict[str, str]:
        """Return how the account's live entries spell the tags with these keys."""
        wanted = builtins.list(dict.fromkeys(keys))
        if not wanted:
            return {}
        await self._scope.enter(account_id)
        # One index seek per key on (account_id, tag_key, tag), all in one statement:
        # a common tag has thousands of rows, and only one spelling is wanted.
        firsts = [
            sa.select(entry_tags.c.tag)
            .where(entry_tags.c.account_id == account_id, entry_tags.c.tag_key == key)
            .order_by(entry_tags.c.tag)
            .limit(1)
            .scalar_subquery()
            for key in wanted
        ]
        row = (await self._execute(sa.select(*firsts))).one()
        return {key: tag for key, tag in zip(wanted, row, strict=True) if tag is not None}

    async def list_all(
        self, account_id: UUID, *, include_deleted: bool = True
    ) -> builtins.list[Entry]:
        """Return every entry of the account, oldest first."""
        await self._scope.enter(account_id)
        query = sa.select(entries).where(entries.c.account_id == account_id)
        if not include_deleted:
            query = query.where(entries.c.deleted_at.is_(None))
        result = await self._execute(query.order_by(entries.c.created_at, entries.c.entry_id))
        return [row_to_entry(row) for row in result.mappings()]
