"""Entities, value objects and use-case inputs of Trace.

Entities are frozen ``msgspec.Struct``s: adapters convert rows to and from them
explicitly. Inputs that patch an entity use :data:`msgspec.UNSET` for "not given",
so ``None`` can mean "clear this field".
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "UNSET",
    "Account",
    "AccountProfile",
    "Attachment",
    "AttachmentChange",
    "AttachmentRef",
    "Entry",
    "EntryDetail",
    "EntryDraft",
    "EntryFilter",
    "EntryPatch",
    "EntrySettings",
    "EntryVersion",
    "NewStream",
    "Page",
    "Principal",
    "RatingType",
    "Scope",
    "SearchHit",
    "SearchResult",
    "Stream",
    "StreamPatch",
    "StreamSelector",
    "TagCount",
    "TrashPolicy",
    "UnsetType",
    "VersionAction",
    "Via",
]

T = TypeVar("T")

RatingType = Literal["stars", "numeric"]
VersionAction = Literal[
    "create",
    "update",
    "delete",
    "restore",
    "import",
    "attachment_added",
    "attachment_removed",
    "attachment_restored",
    "version_restored",
]
"""What a write did to an entry; the ``attachment_*`` ones name the image in ``attachment``."""
StreamSelector = UUID | Literal["all", "inbox"]
"""Which entries a listing covers: one stream, only the Inbox, or every stream."""


class Scope(enum.StrEnum):
    """What a credential may do. ``full`` includes ``read``."""

    READ = "read"
    FULL = "full"

    def includes(self, other: Scope) -> bool:
        """Return whether holding this scope grants ``other``."""
        return self is Scope.FULL or self is other


Via = Literal["api_key", "oauth", "cli", "web", "stdio", "system"]
"""The way a principal came in: a credential kind or a local transport."""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """Who is calling: an account, the scopes granted, and the credential used.

    ``actor`` is the human-readable name recorded as ``last_edited_by`` and in
    version snapshots: the API key's name, the OAuth client's name, ``cli`` ...
    """

    account_id: UUID
    scopes: frozenset[Scope]
    actor: str
    via: Via = "cli"
    credential_id: str | None = None

    def has(self, scope: Scope) -> bool:
        """Return whether any granted scope includes ``scope``."""
        return any(s.includes(scope) for s in self.scopes)


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """A person (tenant) who owns streams and entries."""

    account_id: UUID
    email: str
    name: str | None = None
    password_hash: str | None = None
    plan: str | None = None
    is_active: bool = True
    created_at: datetime
    time_zone: str = "UTC"
    """IANA name of the person's zone: which day "today" is (entry dates, overdue)."""


class AccountProfile(msgspec.Struct, frozen=True, kw_only=True):
    """What the signed-in person may read about their own account (no secrets)."""

    account_id: UUID
    email: str
    name: str | None = None
    plan: str | None = None
    time_zone: str = "UTC"
    created_at: datetime

    @classmethod
    def of(cls, account: Account) -> AccountProfile:
        """Return the profile of ``account`` (its password hash left out)."""
        return cls(
            account_id=account.account_id,
            email=account.email,
            name=account.name,
            plan=account.plan,
            time_zone=account.time_zone,
            created_at=account.created_at,
        )


class EntrySettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Per-stream switches and allowed values for entry attributes."""

    use_rating: bool = False
    use_status: bool = False
    use_priority: bool = False
    use_location: bool = False
    use_photos: bool = False
    use_duedates: bool = False
    use_type: bool = False
    types: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    default_status: str | None = None
    rating_type: RatingType = "stars"
    content_template: str | None = None
    title_template: str | None = None

    @property
    def rating_max(self) -> int:
        """The largest rating in display units (5 stars, or 10)."""
        return 5 if self.rating_type == "stars" else 10


class Stream(msgspec.Struct, frozen=True, kw_only=True):
    """A notebook of entries. ``entry_count`` is computed by the store on read."""

    stream_id: UUID
    account_id: UUID
    name: str
    description: str | None = None
    color: str | None = None
    icon: str | None = None
    is_private: bool = False
    is_archived: bool = False
    entry_settings: EntrySettings = EntrySettings()
    created_at: datetime
    updated_at: datetime
    entry_count: int = 0


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A note, journal page or task. ``rating`` is stored 0-10."""

    entry_id: UUID
    account_id: UUID
    stream_id: UUID | None = None
    title: str | None = None
    content: str
    entry_date: date
    tags: tuple[str, ...] = ()
    status: str | None = None
    type: str | None = None
    priority: int = 0
    rating: int | None = None
    due_date: date | None = None
    is_pinned: bool = False
    is_archived: bool = False
    latitude: float | None = None
    longitude: float | None = None
    place_name: str | None = None
    city: str | None = None
    country: str | None = None
    mentions: tuple[str, ...] = ()
    created_at: datetime
    updated_at: datetime
    version: int = 1
    last_edited_by: str | None = None
    deleted_at: datetime | None = None


class Attachment(msgspec.Struct, frozen=True, kw_only=True):
    """An image on an entry; the bytes live in a ``BlobStore`` under ``blob_key``.

    ``removed_at`` is set when the image was removed from its entry: it is then
    hidden everywhere, and its row and bytes are purged once the trash retention
    period has passed (or with the entry), so a removal can be undone until then.
    """

    attachment_id: UUID
    account_id: UUID
    entry_id: UUID
    mime_type: str
    file_size: int
    width: int | None = None
    height: int | None = None
    position: int = 0
    captured_at: datetime | None = None
    created_at: datetime
    blob_key: str
    sha256: str
    filename: str | None = None
    removed_at: datetime | None = None


class AttachmentRef(msgspec.Struct, frozen=True, kw_only=True):
    """Which image a version's write added, removed or restored (kept in the history)."""

    attachment_id: UUID
    mime_type: str
    filename: str | None = None


class EntryVersion(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of an entry as one write left it, and who made that write."""

    entry_id: UUID
    account_id: UUID
    version: int
    action: VersionAction
    written_by: str
    written_at: datetime
    snapshot: Entry
    attachment: AttachmentRef | None = None
    """The image an ``attachment_*`` action concerns; None for other actions."""


class AttachmentChange(msgspec.Struct, frozen=True, kw_only=True):
    """What an attachment write answers: the attachment and its entry as the write left it.

    The entry's ``version`` went up by one (adding or removing an image is a
    write in the entry's history), so pass it as ``expected_version`` next.
    """

    attachment: Attachment
    entry: Entry


class EntryDetail(msgspec.Struct, frozen=True, kw_only=True):
    """An entry with its stream (None for the Inbox) and attachment metadata."""

    entry: Entry
    stream: Stream | None
    attachments: list[Attachment]


class TagCount(msgspec.Struct, frozen=True, kw_only=True):
    """A tag and how many live entries carry it."""

    tag: str
    count: int


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """One page of a listing: ``next_cursor`` is set while more items follow."""

    items: list[T]
    total: int
    limit: int
    offset: int = 0
    next_cursor: str | None = None

    @property
    def has_more(self) -> bool:
        """Whether more items follow this page."""
        return self.next_cursor is not None


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    """One ranked search result with a highlighted snippet.

    ``relaxed`` marks a hit that matches only some of the query's words,
    ranked below every hit that matches them all (it fills a page the full
    matches leave short).
    """

    entry: Entry
    score: float
    snippet: str
    relaxed: bool = False


class SearchResult(msgspec.Struct, frozen=True, kw_only=True):
    """Ranked hits of a search.

    Attributes:
        hits: this page, full matches first, then (``relaxed``) partial ones.
        query: the query as given.
        limit: the page size.
        next_cursor: where the next page starts, if there is one.
        relaxed: some hits of the page match only some of the words.
        total: how many entries match every word (typo corrections
            included), when known; partial matches are not counted.
        total_more: counting stopped at ``total`` (``Limits.search_total_cap``):
            more entries than that match every word.
        corrected: ``(typed, near spelling)`` pairs that were searched too
            because the typed word was not in the account's notes.
        suggestions: what to try when the search found nothing (fewer words,
            without a filter, a word that no entry has).

    """

    hits: list[SearchHit]
    query: str
    limit: int
    next_cursor: str | None = None
    relaxed: bool = False
    total: int | None = None
    total_more: bool = False
    corrected: tuple[tuple[str, str], ...] = ()
    suggestions: tuple[str, ...] = ()


class TrashPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """How long deleted entries stay restorable."""

    retention_days: int = 30


# --- inputs -------------------------------------------------------------------


class NewStream(msgspec.Struct, frozen=True, kw_only=True):
    """Input of ``create_stream``."""

    name: str
    description: str | None = None
    color: str | None = None
    icon: str | None = None
    is_private: bool = False
    entry_settings: EntrySettings = EntrySettings()


class StreamPatch(msgspec.Struct, frozen=True, kw_only=True):
    """Input of ``update_stream``: only the given fields change."""

    name: str | UnsetType = UNSET
    description: str | UnsetType | None = UNSET
    color: str | UnsetType | None = UNSET
    icon: str | UnsetType | None = UNSET
    is_private: bool | UnsetType = UNSET
    is_archived: bool | UnsetType = UNSET
    entry_settings: EntrySettings | UnsetType = UNSET


class EntryDraft(msgspec.Struct, frozen=True, kw_only=True):
    """Input of ``create_entry``. ``rating`` is in the stream's display units."""

    content: str
    title: str | None = None
    stream_id: UUID | None = None
    tags: tuple[str, ...] = ()
    status: str | None = None
    entry_date: date | None = None
    priority: int | None = None
    rating: float | None = None
    type: str | None = None
    due_date: date | None = None
    is_pinned: bool = False


class EntryPatch(msgspec.Struct, frozen=True, kw_only=True):
    """Input of ``update_entry``: UNSET leaves a field, ``None`` clears it.

    ``clear_disallowed`` is not a field: with it, moving the entry to a stream that
    does not use some of its values (a status where ``use_status`` is off, a type
    not in its ``types``...) clears them instead of refusing the move.
    """

    title: str | UnsetType | None = UNSET
    content: str | UnsetType = UNSET
    stream_id: UUID | UnsetType | None = UNSET
    tags: tuple[str, ...] | UnsetType = UNSET
    status: str | UnsetType | None = UNSET
    entry_date: date | UnsetType = UNSET
    is_archived: bool | UnsetType = UNSET
    is_pinned: bool | UnsetType = UNSET
    priority: int | UnsetType | None = UNSET
    rating: float | UnsetType | None = UNSET
    type: str | UnsetType | None = UNSET
    due_date: date | UnsetType | None = UNSET
    clear_disallowed: bool = False


class EntryFilter(msgspec.Struct, frozen=True, kw_only=True):
    """Filters shared by ``list_entries`` and search.

    ``text`` is a plain case-insensitive substring match on title, content and
    tags (the reference's behaviour); ranked search goes through ``SearchIndex``.
    ``is_archived``/``is_pinned`` of ``None`` mean "either". ``start_date`` and
    ``end_date`` are inclusive, ``due_before`` is strict; the timestamp ranges are half-open:
    ``created_after <= created_at < created_before`` (likewise ``updated_*``).
    """

    stream: StreamSelector = "all"
    tags: tuple[str, ...] = ()
    tags_mode: Literal["any", "all"] = "any"
    status: str | None = None
    type: str | None = None
    is_archived: bool | None = False
    is_pinned: bool | None = None
    start_date: date | None = None
    end_date: date | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    text: str | None = None
    due_before: date | None = None
    """Only entries with a ``due_date`` strictly before this day (none without one)."""
