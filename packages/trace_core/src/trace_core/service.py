"""The ``Trace`` service facade: every use case, checked once for tenancy and scope.

Transports (MCP, REST, CLI) call these methods with the :class:`Principal` that
made the request. The facade checks the scope, scopes every storage call to the
principal's account, validates input against the stream's settings and writes a
version snapshot with every change, inside one unit of work.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import cast
from uuid import UUID

import msgspec

from trace_core import search as search_query
from trace_core.cursors import CursorCodec, OffsetPosition, SearchPosition, fingerprint
from trace_core.errors import (
    ConflictError,
    InsufficientScopeError,
    InvalidInputError,
    NotFoundError,
    VersionConflictError,
    quote,
)
from trace_core.images import sniff_image
from trace_core.limits import MAX_FILENAME_CHARS, MAX_VERSION, Limits
from trace_core.model import (
    UNSET,
    Account,
    Attachment,
    Entry,
    EntryDetail,
    EntryDraft,
    EntryFilter,
    EntryPatch,
    EntrySettings,
    EntryVersion,
    NewStream,
    Page,
    Principal,
    Scope,
    SearchHit,
    SearchResult,
    Stream,
    StreamPatch,
    TagCount,
    UnsetType,
    VersionAction,
)
from trace_core.ports import (
    BlobStore,
    Clock,
    ListPosition,
    SearchIndex,
    SearchRequest,
    Storage,
    UnitOfWork,
)

__all__ = ["Limits", "SystemClock", "Trace", "parse_mentions"]


def _has_text(text: object) -> bool:
    return isinstance(text, str) and bool(text.strip())


# Passed to _check_filters when the filters name no stream id: it is only
# touched to look a stream up.
_NO_UNIT_OF_WORK = cast("UnitOfWork", None)


class SystemClock:
    """The real clock: UTC now, UTC today."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)

    def today(self) -> date:
        """Return today's UTC date."""
        return self.now().date()


def _position(entry: Entry) -> ListPosition:
    return ListPosition(
        entry_date=entry.entry_date, created_at=entry.created_at, entry_id=entry.entry_id
    )


# --- validation helpers -------------------------------------------------------

_MENTION = re.compile(r"(?<![\w@./])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?)")
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_ICON = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def parse_mentions(content: str) -> tuple[str, ...]:
    """Return the ``@name`` mentions in Markdown content, first occurrence order, no duplicates."""
    seen: dict[str, None] = {}
    for match in _MENTION.finditer(content):
        seen.setdefault(match.group(1), None)
    return tuple(seen)


# Text never holds C0 control characters (NUL above all: PostgreSQL cannot store
# it, SQLite can, so an export would not move between them). Text that is a
# page of Markdown keeps tabs and line breaks; one-line text (titles, tags,
# names, statuses) has none.
_CONTROL = re.compile(r"[\x00-\x1f]")
_CONTROL_IN_PAGE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _check_length(field: str, value: str, max_chars: int) -> None:
    # Checked before any other work on the text, so that work is bounded too.
    if len(value) > max_chars:
        raise InvalidInputError(field, f"is {len(value):,} characters long; at most {max_chars:,}")


def _check_controls(field: str, value: str, *, multiline: bool = False) -> None:
    found = (_CONTROL_IN_PAGE if multiline else _CONTROL).search(value)
    if found:
        allowed = "no control characters but tabs and line breaks" if multiline else "none"
        raise InvalidInputError(
            field,
            f"holds the control character U+{ord(found.group()):04X} at position "
            f"{found.start()}; control characters allowed: {allowed}",
        )


def _clean_text(
    field: str, value: str | None, max_chars: int, *, multiline: bool = False
) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a string")
    _check_length(field, value, max_chars)
    value = value.strip()
    if not value:
        return None
    _check_controls(field, value, multiline=multiline)
    return value


class Trace:
    """The use cases of Trace. Every method taking a Principal checks scope and tenancy.

    Args:
        storage: opens units of work over the repositories.
        blobs: where attachment bytes are kept.
        search: ranked search; when None, ``search_entries`` falls back to
            substring matching in storage.
        clock: the time source (tests pass a fixed clock).
        limits: sizes and page limits.
        cursor_key: the key that signs page cursors (at least 16 bytes; the
            composition root loads it from a setting or the data directory);
            None for a random key, so cursors last as long as this facade.

    """

    def __init__(
        self,
        *,
        storage: Storage,
        blobs: BlobStore,
        search: SearchIndex | None = None,
        clock: Clock | None = None,
        limits: Limits | None = None,
        cursor_key: bytes | None = None,
    ) -> None:
        self.storage = storage
        self.blobs = blobs
        self.search = search
        self.clock: Clock = clock or SystemClock()
        self.limits = limits or Limits()
        self.cursors = CursorCodec(cursor_key)

    # --- checks ----------------------------------------------------------------

    @staticmethod
    def _require(principal: Principal, scope: Scope, operation: str) -> None:
        if not principal.has(scope):
            raise InsufficientScopeError(scope.value, operation)

    def _limit(self, field: str, value: int | None, default: int, maximum: int) -> int:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
            raise InvalidInputError(
                field, f"must be an integer from 1 to {maximum}, got {quote(value)}"
            )
        return value

    def _offset(self, value: int | None) -> int:
        if value is None:
            return 0
        maximum = self.limits.max_offset
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
            raise InvalidInputError(
                "offset",
                f"must be an integer from 0 to {maximum:,}, got {quote(value)}; "
                "page further with next_cursor",
            )
        return value

    async def _stream(
        self, uow: UnitOfWork, principal: Principal, stream_id: UUID, *, counted: bool = False
    ) -> Stream:
        # Counting a stream's entries is a scan; only answers that show the count ask.
        stream = await uow.streams.get(principal.account_id, stream_id, with_counts=counted)
        if stream is None:
            raise NotFoundError("stream", stream_id)
        return stream

    async def _live_entry(self, uow: UnitOfWork, principal: Principal, entry_id: UUID) -> Entry:
        entry = await uow.entries.get(principal.account_id, entry_id)
        if entry is None:
            raise NotFoundError("entry", entry_id)
        return entry

    # --- accounts (administrative: no principal) ---------------------------------

    async def create_account(
        self,
        email: str,
        *,
        name: str | None = None,
        password_hash: str | None = None,
        plan: str | None = None,
    ) -> Account:
        """Create an account (operator action: CLI, sign-up page).

        Raises:
            InvalidInputError: the email is not an email address.
            ConflictError: an account with that email exists.

        """
        email = email.strip().lower() if isinstance(email, str) and len(email) <= 254 else email
        if (
            not isinstance(email, str)
            or len(email) > 254
            or not _EMAIL.match(email)
            or _CONTROL.search(email)
        ):
            raise InvalidInputError("email", f"{quote(email)} is not an email address")
        account = Account(
            account_id=uuid.uuid4(),
            email=email,
            name=_clean_text("name", name, self.limits.max_stream_name_chars),
            password_hash=password_hash,
            plan=plan,
            created_at=self.clock.now(),
        )
        async with self.storage.unit_of_work(write=True) as uow:
            if await uow.accounts.get_by_email(email) is not None:
                raise ConflictError(f"an account with email {email} exists", field="email")
            await uow.accounts.add(account)
        return account

    async def get_account(self, account_id: UUID) -> Account:
        """Return an account by id.

        Raises:
            NotFoundError: no such account.

        """
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFoundError("account", account_id)
        return account

    async def get_account_by_email(self, email: str) -> Account:
        """Return an account by email (case-insensitive).

        Raises:
            NotFoundError: no such account.

        """
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get_by_email(email.strip().lower())
        if account is None:
            raise NotFoundError("account", email)
        return account

    async def list_accounts(self) -> list[Account]:
        """Return every account, oldest first."""
        async with self.storage.unit_of_work() as uow:
            return await uow.accounts.list()

    async def update_account(
        self,
        account_id: UUID,
        *,
        name: str | UnsetType | None = UNSET,
        password_hash: str | UnsetType | None = UNSET,
        plan: str | UnsetType | None = UNSET,
        is_active: bool | UnsetType = UNSET,
    ) -> Account:
        """Change an account's name, password hash, plan or active flag.

        Raises:
            NotFoundError: no such account.

        """
        changes: dict[str, object] = {}
        if not isinstance(name, UnsetType):
            changes["name"] = _clean_text("name", name, self.limits.max_stream_name_chars)
        if not isinstance(password_hash, UnsetType):
            changes["password_hash"] = password_hash
        if not isinstance(plan, UnsetType):
            changes["plan"] = plan
        if not isinstance(is_active, UnsetType):
            changes["is_active"] = is_active
        async with self.storage.unit_of_work(write=True) as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise NotFoundError("account", account_id)
            account = msgspec.structs.replace(account, **changes)
            await uow.accounts.update(account)
        return account

    @staticmethod
    def principal_for(
        account: Account,
        *,
        actor: str,
        via: str = "cli",
        scopes: frozenset[Scope] = frozenset({Scope.FULL}),
        credential_id: str | None = None,
    ) -> Principal:
        """Return a Principal acting for ``account`` (used by trusted local transports)."""
        return Principal(
            account_id=account.account_id,
            scopes=scopes,
            actor=actor,
            via=via,  # type: ignore[arg-type]
            credential_id=credential_id,
        )

    # --- streams -----------------------------------------------------------------

    def _check_settings(self, settings: EntrySettings) -> EntrySettings:
        if not isinstance(settings, EntrySettings):
            raise InvalidInputError("entry_settings", "must be an object")
        if settings.rating_type not in ("stars", "numeric"):
            raise InvalidInputError(
                "entry_settings.rating_type",
                f"{quote(settings.rating_type)} is not a rating type",
                allowed=["stars", "numeric"],
            )
        cleaned: dict[str, tuple[str, ...]] = {}
        for field in ("types", "statuses"):
            values: list[str] = []
            given = getattr(settings, field)
            if len(given) > self.limits.max_choices:
                raise InvalidInputError(
                    f"entry_settings.{field}",
                    f"has {len(given):,} values; at most {self.limits.max_choices}",
                )
            for value in given:
                text = _clean_text(f"entry_settings.{field}", value, self.limits.max_choice_chars)
                if text is None:
                    raise InvalidInputError(f"entry_settings.{field}", "values must not be empty")
                if text not in values:
                    values.append(text)
            cleaned[field] = tuple(values)
        if (
            settings.default_status is not None
            and settings.default_status not in cleaned["statuses"]
        ):
            raise InvalidInputError(
                "entry_settings.default_status",
                f"{quote(settings.default_status)} is not one of the stream's statuses",
                allowed=cleaned["statuses"],
            )
        # Templates are kept as written (a template may end in blank lines).
        for field, value, max_chars, multiline in (
            ("content_template", settings.content_template, self.limits.max_text_chars, True),
            ("title_template", settings.title_template, self.limits.max_title_chars, False),
        ):
            if value is not None:
                _check_length(f"entry_settings.{field}", value, max_chars)
                _check_controls(f"entry_settings.{field}", value, multiline=multiline)
        return msgspec.structs.replace(settings, **cleaned)

    def _check_stream_fields(
        self, *, name: str, description: str | None, color: str | None, icon: str | None
    ) -> dict[str, str | None]:
        clean_name = _clean_text("name", name, self.limits.max_stream_name_chars)
        if clean_name is None:
            raise InvalidInputError("name", "must not be empty")
        if color is not None and not (isinstance(color, str) and _COLOR.fullmatch(color)):
            raise InvalidInputError("color", f"{quote(color)} is not a hex color like #3b82f6")
        if icon is not None and not (isinstance(icon, str) and _ICON.fullmatch(icon)):
            raise InvalidInputError(
                "icon", f"{quote(icon)} is not an icon identifier (letters, digits, _ . : -)"
            )
        return {
            "name": clean_name,
            "description": _clean_text(
                "description", description, self.limits.max_text_chars, multiline=True
            ),
            "color": color,
            "icon": icon,
        }

    @staticmethod
    async def _check_unique_name(
        uow: UnitOfWork, principal: Principal, name: str, exclude: UUID | None = None
    ) -> None:
        for other in await uow.streams.list(principal.account_id, include_archived=True):
            if other.stream_id != exclude and other.name.casefold() == name.casefold():
                raise ConflictError(f"a stream named {other.name!r} exists", field="name")

    async def list_streams(
        self, principal: Principal, *, include_archived: bool = False
    ) -> list[Stream]:
        """Return the caller's streams by name, each with its entry count."""
        self._require(principal, Scope.READ, "list_streams")
        async with self.storage.unit_of_work() as uow:
            return await uow.streams.list(principal.account_id, include_archived=include_archived)

    async def get_stream(self, principal: Principal, stream_id: UUID) -> Stream:
        """Return one stream with its settings.

        Raises:
            NotFoundError: no such stream in the caller's account.

        """
        self._require(principal, Scope.READ, "get_stream")
        async with self.storage.unit_of_work() as uow:
            return await self._stream(uow, principal, stream_id, counted=True)

    async def create_stream(self, principal: Principal, new: NewStream) -> Stream:
        """Create a stream.

        Raises:
            InvalidInputError: a field is malformed.
            ConflictError: a stream of that name exists (names are unique, case-insensitive).

        """
        self._require(principal, Scope.FULL, "create_stream")
        fields = self._check_stream_fields(
            name=new.name, description=new.description, color=new.color, icon=new.icon
        )
        now = self.clock.now()
        stream = Stream(
            stream_id=uuid.uuid4(),
            account_id=principal.account_id,
            name=fields["name"] or "",
            description=fields["description"],
            color=fields["color"],
            icon=fields["icon"],
            is_private=bool(new.is_private),
            entry_settings=self._check_settings(new.entry_settings),
            created_at=now,
            updated_at=now,
        )
        async with self.storage.unit_of_work(write=True) as uow:
            await self._check_unique_name(uow, principal, stream.name)
            await uow.streams.add(stream)
        return stream

    async def update_stream(
        self, principal: Principal, stream_id: UUID, patch: StreamPatch
    ) -> Stream:
        """Change a stream's name, look, privacy, archive flag or entry settings.

        Raises:
            NotFoundError: no such stream in the caller's account.
            InvalidInputError: a field is malformed.
            ConflictError: the new name is taken.

        """
        self._require(principal, Scope.FULL, "update_stream")
        async with self.storage.unit_of_work(write=True) as uow:
            stream = await self._stream(uow, principal, stream_id, counted=True)
            fields = self._check_stream_fields(
                name=stream.name if isinstance(patch.name, UnsetType) else patch.name,
                description=stream.description
                if isinstance(patch.description, UnsetType)
                else patch.description,
                color=stream.color if isinstance(patch.color, UnsetType) else patch.color,
                icon=stream.icon if isinstance(patch.icon, UnsetType) else patch.icon,
            )
            if fields["name"] != stream.name:
                await self._check_unique_name(uow, principal, fields["name"] or "", stream_id)
            updated = msgspec.structs.replace(
                stream,
                name=fields["name"] or stream.name,
                description=fields["description"],
                color=fields["color"],
                icon=fields["icon"],
                is_private=stream.is_private
                if isinstance(patch.is_private, UnsetType)
                else bool(patch.is_private),
                is_archived=stream.is_archived
                if isinstance(patch.is_archived, UnsetType)
                else bool(patch.is_archived),
                entry_settings=stream.entry_settings
                if isinstance(patch.entry_settings, UnsetType)
                else self._check_settings(patch.entry_settings),
                updated_at=self.clock.now(),
            )
            await uow.streams.update(updated)
        return updated

    async def archive_stream(
        self, principal: Principal, stream_id: UUID, *, archived: bool = True
    ) -> Stream:
        """Archive (hide from ``list_streams``) or unarchive a stream; its entries stay."""
        return await self.update_stream(principal, stream_id, StreamPatch(is_archived=archived))

    # --- entry validation ----------------------------------------------------------

    def _check_content(self, content: object) -> str:
        if not isinstance(content, str):
            raise InvalidInputError("content", "must be a string of Markdown")
        maximum = self.limits.max_content_bytes
        # A character is at least one byte: the length alone can refuse most
        # oversized texts before anything walks them.
        if len(content) > maximum:
            raise InvalidInputError(
                "content", f"is {len(content):,} characters long; at most {maximum:,} bytes"
            )
        if not content.strip():
            raise InvalidInputError("content", "must not be empty")
        size = len(content.encode("utf-8"))
        if size > maximum:
            raise InvalidInputError("content", f"is {size:,} bytes; at most {maximum:,} bytes")
        _check_controls("content", content, multiline=True)
        return content

    def _check_tags(self, tags: Sequence[str]) -> tuple[str, ...]:
        if isinstance(tags, str) or not isinstance(tags, Sequence):
            raise InvalidInputError("tags", "must be a list of strings")
        if len(tags) > self.limits.max_tags:
            raise InvalidInputError(
                "tags", f"has {len(tags):,} tags; at most {self.limits.max_tags}"
            )
        cleaned: list[str] = []
        for tag in tags:
            if not isinstance(tag, str):
                raise InvalidInputError("tags", f"{quote(tag)} is not a string")
            if len(tag) > self.limits.max_tag_chars:
                raise InvalidInputError(
                    "tags",
                    f"tag {quote(tag)} is longer than {self.limits.max_tag_chars} characters",
                )
            text = unicodedata.normalize("NFC", tag.strip())
            text = text.removeprefix("#").strip()
            if not text:
                continue
            _check_controls("tags", text)
            if text not in cleaned:
                cleaned.append(text)
        return tuple(cleaned)

    def _check_choice(
        self, field: str, value: str | None, allowed: tuple[str, ...], stream: Stream | None
    ) -> str | None:
        value = _clean_text(field, value, self.limits.max_choice_chars)
        if value is None:
            return None
        if stream is not None and allowed and value not in allowed:
            raise InvalidInputError(
                field,
                f"{quote(value)} is not allowed in stream {stream.name!r}",
                allowed=allowed,
            )
        return value

    @staticmethod
    def _check_priority(value: int | None) -> int:
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            raise InvalidInputError(
                "priority",
                f"{quote(value)} is not a priority (0 none, 1 low, 2 medium, 3 high, 4 urgent)",
                allowed=[0, 1, 2, 3, 4],
            )
        return value

    @staticmethod
    def _check_rating(value: float | None, stream: Stream | None) -> int | None:
        """Convert a rating in display units to the stored 0-10 value."""
        if value is None:
            return None
        settings = stream.entry_settings if stream else EntrySettings(rating_type="numeric")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError("rating", f"{quote(value)} is not a number")
        maximum = settings.rating_max
        if settings.rating_type == "stars":
            stored = value * 2
            if not 0 <= value <= maximum or stored != int(stored):
                raise InvalidInputError(
                    "rating",
                    f"{quote(value)} is not a star rating: 0 to {maximum} in steps of 0.5",
                )
            return int(stored)
        if not 0 <= value <= maximum or value != int(value):
            raise InvalidInputError(
                "rating", f"{quote(value)} is not a whole number from 0 to {maximum}"
            )
        return int(value)

    @staticmethod
    def _check_date(field: str, value: object) -> date | None:
        if value is None:
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidInputError(field, f"{quote(value)} is not a date (YYYY-MM-DD)")
        return value

    # --- entries: reads ------------------------------------------------------------

    def _check_query(self, field: str, text: object) -> None:
        if isinstance(text, str):
            _check_length(field, text, self.limits.max_query_chars)
            _check_controls(field, text, multiline=True)

    async def _check_filters(
        self, uow: UnitOfWork, principal: Principal, filters: EntryFilter
    ) -> EntryFilter:
        if not isinstance(filters.stream, UUID) and filters.stream not in ("all", "inbox"):
            raise InvalidInputError(
                "stream_id",
                f"{quote(filters.stream)} is not a stream id",
                allowed=["all", "inbox"],
            )
        if filters.tags_mode not in ("any", "all"):
            raise InvalidInputError("tags_mode", "must be any or all", allowed=["any", "all"])
        if filters.start_date and filters.end_date and filters.start_date > filters.end_date:
            raise InvalidInputError("start_date", "is after end_date")
        for field in ("status", "type"):
            value = getattr(filters, field)
            if value is not None:
                if not isinstance(value, str):
                    raise InvalidInputError(field, "must be a string")
                _check_length(field, value, self.limits.max_choice_chars)
                _check_controls(field, value)
        tags = self._check_tags(filters.tags)
        self._check_query("query", filters.text)
        text = filters.text.strip() if isinstance(filters.text, str) else None
        if isinstance(filters.stream, UUID):
            await self._stream(uow, principal, filters.stream)
        return msgspec.structs.replace(filters, tags=tags, text=text or None)

    async def list_entries(
        self,
        principal: Principal,
        filters: EntryFilter | None = None,
        *,
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
    ) -> Page[Entry]:
        """Return a page of live entries, newest ``entry_date`` first.

        Pass ``next_cursor`` from a page as ``cursor`` for the next one; ``offset``
        also works (and counts from the cursor when both are given).

        With ``filters.text`` and a search index configured, the index decides
        what matches (every word, with the same stemming and prefixes as
        ``search_entries``) and entries come best match first; ``total``
        counts every match.

        Raises:
            NotFoundError: the stream filter names a stream not in the caller's account.
            InvalidInputError: bad limit, offset, cursor or filter.

        """
        self._require(principal, Scope.READ, "list_entries")
        limit = self._limit(
            "limit", limit, self.limits.list_default_limit, self.limits.list_max_limit
        )
        offset = self._offset(offset)
        if self.search is not None and filters is not None and _has_text(filters.text):
            return await self._list_by_search(principal, filters, limit, offset, cursor)
        async with self.storage.unit_of_work() as uow:
            filters = await self._check_filters(uow, principal, filters or EntryFilter())
            scope = fingerprint(principal.account_id, filters)
            after = (
                self.cursors.decode(cursor, "entries", scope, ListPosition)
                if cursor is not None
                else None
            )
            rows = await uow.entries.list(
                principal.account_id, filters, limit=limit + 1, offset=offset, after=after
            )
            if after is None and offset == 0 and len(rows) <= limit:
                # The first page holds every match: no need to count them again.
                total = len(rows)
            else:
                total = await uow.entries.count(principal.account_id, filters)
        items = rows[:limit]
        next_cursor = (
            self.cursors.encode("entries", scope, _position(items[-1]))
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
            async with self.storage.unit_of_work() as uow:
                filters = await self._check_filters(uow, principal, filters)
        else:
            filters = await self._check_filters(_NO_UNIT_OF_WORK, principal, filters)
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
        async with self.storage.unit_of_work() as uow:
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
        async with self.storage.unit_of_work() as uow:
            streams = await uow.streams.list(
                principal.account_id, include_archived=True, with_counts=False
            )
        return {s.stream_id: s for s in streams}

    async def list_tags(self, principal: Principal) -> list[TagCount]:
        """Return the tags on the caller's live entries with counts, most used first."""
        self._require(principal, Scope.READ, "list_tags")
        async with self.storage.unit_of_work() as uow:
            return await uow.entries.list_tags(principal.account_id)

    async def search_entries(
        self,
        principal: Principal,
        query: str,
        *,
        filters: EntryFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> SearchResult:
        """Ranked full-text search over the caller's live entries.

        Every word is required first; when that finds nothing, any word is
        enough and the result says ``relaxed``.

        Raises:
            InvalidInputError: empty query, bad limit or cursor.
            UnavailableError: the search engine is down.

        """
        self._require(principal, Scope.READ, "search_entries")
        self._check_query("query", query)
        parsed = search_query.parse_query(query, max_chars=self.limits.max_query_chars)
        limit = self._limit(
            "limit", limit, self.limits.search_default_limit, self.limits.search_max_limit
        )
        filters = filters or EntryFilter()
        # Only a stream id needs the database (does the stream exist in this
        # account?). With a search index that is asked only when the search
        # finds nothing: a hit is an entry of this account in that stream, so
        # the stream exists, and the lookup's transaction costs as much as the
        # search itself.
        stream_id = filters.stream if isinstance(filters.stream, UUID) else None
        if stream_id is not None and self.search is not None:
            filters = await self._check_filters(
                _NO_UNIT_OF_WORK, principal, msgspec.structs.replace(filters, stream="all")
            )
            filters = msgspec.structs.replace(filters, stream=stream_id)
        elif stream_id is not None:
            async with self.storage.unit_of_work() as uow:
                filters = await self._check_filters(uow, principal, filters)
        else:
            filters = await self._check_filters(_NO_UNIT_OF_WORK, principal, filters)
        # The cursor remembers the offset, whether page one had to relax to any
        # word (later pages must too, or they would skip hits), and which
        # query and filters it belongs to.
        scope = fingerprint(principal.account_id, parsed, filters)
        position = (
            self.cursors.decode(cursor, "search", scope, SearchPosition)
            if cursor is not None
            else SearchPosition(offset=0, match="all")
        )

        def next_cursor(more: bool, match: search_query.Match) -> str | None:
            if not more:
                return None
            following = SearchPosition(position.offset + limit, match)
            return self.cursors.encode("search", scope, following)

        if self.search is None:
            # No index configured: the reference's substring match, newest first.
            page = await self.list_entries(
                principal,
                msgspec.structs.replace(filters, text=parsed.text),
                limit=limit,
                offset=position.offset,
            )
            hits = [
                SearchHit(
                    entry=e,
                    score=0.0,
                    snippet=search_query.highlight_snippet(e.content, parsed.terms),
                )
                for e in page.items
            ]
            return SearchResult(
                hits=hits,
                query=parsed.text,
                limit=limit,
                next_cursor=next_cursor(page.next_cursor is not None, "all"),
            )
        match = position.match
        request = SearchRequest(
            query=parsed.text, filters=filters, limit=limit + 1, offset=position.offset, match=match
        )
        hits = await self.search.search(principal.account_id, request)
        if not hits and stream_id is not None:
            async with self.storage.unit_of_work() as uow:
                await self._stream(uow, principal, stream_id)
        if not hits and match == "all" and position.offset == 0 and len(parsed.terms) > 1:
            match = "any"
            hits = await self.search.search(
                principal.account_id, msgspec.structs.replace(request, match=match)
            )
        return SearchResult(
            hits=hits[:limit],
            query=parsed.text,
            limit=limit,
            next_cursor=next_cursor(len(hits) > limit, match),
            relaxed=match == "any",
        )

    # --- entries: writes -----------------------------------------------------------

    def _snapshot(self, entry: Entry, action: VersionAction, principal: Principal) -> EntryVersion:
        return EntryVersion(
            entry_id=entry.entry_id,
            account_id=entry.account_id,
            version=entry.version,
            action=action,
            written_by=principal.actor,
            written_at=entry.updated_at,
            snapshot=entry,
        )

    async def _index(self, entries: Sequence[Entry]) -> None:
        """Tell a search index that lives outside the database about changed entries."""
        if self.search is not None and not getattr(self.search, "indexed_by_storage", False):
            await self.search.index(entries)

    async def create_entry(self, principal: Principal, draft: EntryDraft) -> Entry:
        """Create an entry in a stream or the Inbox (``stream_id`` None).

        ``status`` defaults to the stream's ``default_status``; ``entry_date`` to
        today; ``rating`` is in the stream's display units (stars 0-5 in halves,
        or 0-10).

        Raises:
            NotFoundError: the stream is not in the caller's account.
            InvalidInputError: a value is malformed or not allowed by the stream.

        """
        self._require(principal, Scope.FULL, "create_entry")
        content = self._check_content(draft.content)
        now = self.clock.now()
        async with self.storage.unit_of_work(write=True) as uow:
            stream = (
                await self._stream(uow, principal, draft.stream_id) if draft.stream_id else None
            )
            settings = stream.entry_settings if stream else EntrySettings()
            status = draft.status
            if status is None and stream is not None:
                status = settings.default_status
            entry = Entry(
                entry_id=uuid.uuid4(),
                account_id=principal.account_id,
                stream_id=stream.stream_id if stream else None,
                title=_clean_text("title", draft.title, self.limits.max_title_chars),
                content=content,
                entry_date=self._check_date("entry_date", draft.entry_date) or self.clock.today(),
                tags=self._check_tags(draft.tags),
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
        if not isinstance(patch.title, UnsetType):
            changes["title"] = _clean_text("title", patch.title, self.limits.max_title_chars)
        if not isinstance(patch.content, UnsetType):
            changes["content"] = self._check_content(patch.content)
            changes["mentions"] = parse_mentions(patch.content)
        if not isinstance(patch.tags, UnsetType):
            changes["tags"] = self._check_tags(patch.tags or ())
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
        return changes

    async def _write(
        self,
        principal: Principal,
        entry_id: UUID,
        expected_version: int | None,
        action: VersionAction,
        patch: EntryPatch | None = None,
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
            async with self.storage.unit_of_work(write=True) as uow:
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
                else:
                    changes = {"deleted_at": None}
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

        Raises:
            NotFoundError: no such live entry (or target stream) in the caller's account.
            VersionConflictError: ``expected_version`` is not the current version.
            InvalidInputError: a value is malformed or not allowed by the stream.

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

    async def restore_entry(self, principal: Principal, entry_id: UUID) -> Entry:
        """Bring an entry back from the trash (into the Inbox if its stream is gone).

        Raises:
            NotFoundError: no such entry in the caller's account.
            ConflictError: the entry is not in the trash.

        """
        self._require(principal, Scope.FULL, "restore_entry")
        return await self._write(principal, entry_id, None, "restore")

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
        async with self.storage.unit_of_work() as uow:
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
        async with self.storage.unit_of_work() as uow:
            if await uow.entries.get(principal.account_id, entry_id, include_deleted=True) is None:
                raise NotFoundError("entry", entry_id)
            return await uow.versions.list(principal.account_id, entry_id)

    async def purge_expired_trash(self, *, now: datetime | None = None, batch: int = 500) -> int:
        """Delete for good every entry deleted longer ago than the retention period.

        Removes the entries, their versions, attachment rows and attachment blobs,
        in every account (an operator/background job, no principal). Returns how
        many entries were purged.
        """
        cutoff = (now or self.clock.now()) - timedelta(days=self.limits.trash_retention_days)
        purged = 0
        while True:
            async with self.storage.unit_of_work(write=True) as uow:
                expired = await uow.entries.deleted_before(cutoff, limit=batch)
                by_account: dict[UUID, list[UUID]] = {}
                for account_id, entry_id in expired:
                    by_account.setdefault(account_id, []).append(entry_id)
                blob_keys: list[str] = []
                for account_id, entry_ids in by_account.items():
                    attachments = await uow.attachments.list_for_entries(account_id, entry_ids)
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
                return purged

    # --- attachments ----------------------------------------------------------------

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
                    filename=_clean_text("filename", filename, MAX_FILENAME_CHARS),
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
