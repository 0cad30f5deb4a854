"""What ``/api/v1`` answers with, and the bodies it takes that are not an arguments Struct as is.

Request bodies are the core's arguments Structs (``CreateEntryArgs``,
``CreateStreamArgs`` ...), the ones the MCP tools take. Where the MCP tool's
Struct also holds the id the URL names (``entry_id`` of ``update_entry``), the
body is that Struct without it, generated from it by :func:`without`, so limits,
descriptions and "null clears" cannot drift from the tool's.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import Meta

from trace_core.credentials import ApiKey
from trace_core.inputs import UpdateEntryArgs, UpdateStreamArgs
from trace_core.model import (
    Account,
    Attachment,
    Entry,
    EntrySettings,
    EntryVersion,
    Stream,
    TagCount,
)

__all__ = [
    "AccountChanges",
    "AccountOut",
    "ApiKeyOut",
    "AttachmentOut",
    "CreatedApiKeyOut",
    "EntryChanges",
    "EntryDetailOut",
    "EntryOut",
    "EntryPage",
    "ImportOut",
    "NewApiKey",
    "PasswordChange",
    "SearchHitOut",
    "SearchPage",
    "StreamChanges",
    "StreamOut",
    "TagOut",
    "VersionOut",
    "without",
]


def without(struct: type[msgspec.Struct], name: str, *drop: str) -> type[msgspec.Struct]:
    """Return a Struct type named ``name`` with ``struct``'s fields except ``drop``."""
    fields: list[Any] = []
    for f in msgspec.structs.fields(struct):
        if f.name in drop:
            continue
        if f.default is not msgspec.NODEFAULT:
            fields.append((f.name, f.type, f.default))
        else:
            fields.append((f.name, f.type))
    return msgspec.defstruct(
        name,
        fields,
        kw_only=True,
        frozen=True,
        forbid_unknown_fields=True,
        module=__name__,
    )


EntryChanges = without(UpdateEntryArgs, "EntryChanges", "entry_id", "expected_version")
"""``update_entry``'s arguments without the id (the URL's) and version (``If-Match``)."""
StreamChanges = without(UpdateStreamArgs, "StreamChanges", "stream_id")
"""``update_stream``'s arguments without the id (the URL's)."""


class StreamOut(msgspec.Struct, frozen=True, kw_only=True):
    """A stream."""

    stream_id: UUID
    name: str
    description: str | None
    color: str | None
    icon: str | None
    is_private: bool
    is_archived: bool
    entry_settings: EntrySettings
    created_at: datetime
    updated_at: datetime
    entry_count: int

    @classmethod
    def of(cls, s: Stream) -> StreamOut:
        """Return the API form of a stream."""
        return cls(
            stream_id=s.stream_id,
            name=s.name,
            description=s.description,
            color=s.color,
            icon=s.icon,
            is_private=s.is_private,
            is_archived=s.is_archived,
            entry_settings=s.entry_settings,
            created_at=s.created_at,
            updated_at=s.updated_at,
            entry_count=s.entry_count,
        )


def _cut(content: str, limit: int | None) -> str:
    return content if limit is None or len(content) <= limit else content[:limit] + "..."


def _settings(stream: Stream | None) -> EntrySettings:
    return stream.entry_settings if stream is not None else EntrySettings(rating_type="numeric")


class EntryOut(msgspec.Struct, frozen=True, kw_only=True):
    """An entry: ``rating`` in the stream's display units (``rating_max``); ``version`` = ETag."""

    entry_id: UUID
    stream_id: UUID | None
    title: str | None
    content: str | None
    content_truncated: bool
    content_length: int
    entry_date: date
    tags: list[str]
    status: str | None
    type: str | None
    priority: int
    rating: float | None
    rating_raw: int | None
    rating_max: int
    due_date: date | None
    is_pinned: bool
    is_archived: bool
    mentions: list[str]
    created_at: datetime
    updated_at: datetime
    version: int
    last_edited_by: str | None
    deleted_at: datetime | None
    image_count: int | None = None

    @classmethod
    def of(
        cls,
        e: Entry,
        stream: Stream | None,
        *,
        include_content: bool = True,
        content_limit: int | None = None,
        image_count: int | None = None,
    ) -> EntryOut:
        """Return the API form of an entry (``stream``: its stream, for the rating's units)."""
        settings = _settings(stream)
        rating: float | None = None
        if e.rating is not None:
            rating = e.rating / 2 if settings.rating_type == "stars" else float(e.rating)
        return cls(
            entry_id=e.entry_id,
            stream_id=e.stream_id,
            title=e.title,
            content=_cut(e.content, content_limit) if include_content else None,
            content_truncated=content_limit is not None and len(e.content) > content_limit,
            content_length=len(e.content),
            entry_date=e.entry_date,
            tags=list(e.tags),
            status=e.status,
            type=e.type,
            priority=e.priority,
            rating=rating,
            rating_raw=e.rating,
            rating_max=settings.rating_max,
            due_date=e.due_date,
            is_pinned=e.is_pinned,
            is_archived=e.is_archived,
            mentions=list(e.mentions),
            created_at=e.created_at,
            updated_at=e.updated_at,
            version=e.version,
            last_edited_by=e.last_edited_by,
            deleted_at=e.deleted_at,
            image_count=image_count,
        )


class AttachmentOut(msgspec.Struct, frozen=True, kw_only=True):
    """An image attached to an entry; ``url`` downloads it (same credentials)."""

    attachment_id: UUID
    entry_id: UUID
    mime_type: str
    file_size: int
    width: int | None
    height: int | None
    position: int
    filename: str | None
    created_at: datetime
    url: str
    entry_version: int | None = None

    @classmethod
    def of(cls, a: Attachment, *, entry_version: int | None = None) -> AttachmentOut:
        """Return the API form of an attachment."""
        return cls(
            attachment_id=a.attachment_id,
            entry_id=a.entry_id,
            mime_type=a.mime_type,
            file_size=a.file_size,
            width=a.width,
            height=a.height,
            position=a.position,
            filename=a.filename,
            created_at=a.created_at,
            url=f"/api/v1/attachments/{a.attachment_id}",
            entry_version=entry_version,
        )


class EntryDetailOut(msgspec.Struct, frozen=True, kw_only=True):
    """An entry with its stream and images."""

    entry: EntryOut
    stream: StreamOut | None
    attachments: list[AttachmentOut]


class EntryPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of entries; ``next_cursor`` (also in the ``Link`` header) fetches the next."""

    items: list[EntryOut]
    total: int
    limit: int
    offset: int
    next_cursor: str | None


class SearchHitOut(msgspec.Struct, frozen=True, kw_only=True):
    """One search hit: the entry, its score and a snippet around the match.

    ``relaxed``: the entry has only some of the words (ranked below every full match).
    """

    entry: EntryOut
    score: float
    snippet: str
    relaxed: bool = False


class SearchPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of search hits, best first.

    ``total`` counts the entries with every word (typo corrections included),
    up to the server's cap (1,000 by default): ``total_more`` says more match;
    ``corrected`` maps a typed word the account has no entry with to the near
    spellings that were searched too; ``suggestions`` say what to try when
    nothing was found.
    """

    hits: list[SearchHitOut]
    query: str
    limit: int
    next_cursor: str | None
    relaxed: bool
    total: int | None = None
    total_more: bool = False
    corrected: dict[str, list[str]] = msgspec.field(default_factory=dict)
    suggestions: list[str] = msgspec.field(default_factory=list)


class TagOut(msgspec.Struct, frozen=True, kw_only=True):
    """A tag and how many live entries carry it."""

    tag: str
    count: int

    @classmethod
    def of(cls, t: TagCount) -> TagOut:
        """Return the API form of a tag count."""
        return cls(tag=t.tag, count=t.count)


class VersionOut(msgspec.Struct, frozen=True, kw_only=True):
    """One stored version of an entry: what was done, by whom, and the entry as it was."""

    entry_id: UUID
    version: int
    action: str
    written_by: str
    written_at: datetime
    entry: EntryOut
    attachment_id: UUID | None = None

    @classmethod
    def of(cls, v: EntryVersion, stream: Stream | None, *, include_content: bool) -> VersionOut:
        """Return the API form of a version."""
        return cls(
            entry_id=v.entry_id,
            version=v.version,
            action=v.action,
            written_by=v.written_by,
            written_at=v.written_at,
            entry=EntryOut.of(v.snapshot, stream, include_content=include_content),
            attachment_id=v.attachment.attachment_id if v.attachment is not None else None,
        )


class AccountOut(msgspec.Struct, frozen=True, kw_only=True):
    """The caller's account (never its password)."""

    account_id: UUID
    email: str
    name: str | None
    plan: str | None
    time_zone: str
    created_at: datetime
    has_password: bool

    @classmethod
    def of(cls, a: Account) -> AccountOut:
        """Return the API form of an account."""
        return cls(
            account_id=a.account_id,
            email=a.email,
            name=a.name,
            plan=a.plan,
            time_zone=a.time_zone,
            created_at=a.created_at,
            has_password=a.password_hash is not None,
        )


class AccountChanges(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What to change in the caller's account: its name, its time zone, or both."""

    name: (
        Annotated[str, Meta(max_length=200, description="The name shown; null clears.")]
        | msgspec.UnsetType
        | None
    ) = msgspec.UNSET
    time_zone: (
        Annotated[
            str,
            Meta(
                max_length=64,
                description="An IANA zone such as Europe/Paris: 'today' for new entries "
                "and the overdue filter follow it.",
            ),
        ]
        | msgspec.UnsetType
    ) = msgspec.UNSET


class PasswordChange(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A new password; ``current_password`` is required when the account has one."""

    new_password: Annotated[str, Meta(min_length=1, max_length=1024)]
    current_password: Annotated[str, Meta(max_length=1024)] | None = None


class ApiKeyOut(msgspec.Struct, frozen=True, kw_only=True):
    """An API key as listed (its secret is never shown again)."""

    key_id: UUID
    name: str
    prefix: str
    scope: Literal["read", "full"]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    expires_at: datetime | None

    @classmethod
    def of(cls, k: ApiKey) -> ApiKeyOut:
        """Return the API form of a key."""
        return cls(
            key_id=k.key_id,
            name=k.name,
            prefix=k.prefix,
            scope="full" if k.scope.value == "full" else "read",
            created_at=k.created_at,
            last_used_at=k.last_used_at,
            revoked_at=k.revoked_at,
            expires_at=k.expires_at,
        )


class CreatedApiKeyOut(msgspec.Struct, frozen=True, kw_only=True):
    """A new key and its secret, shown this once."""

    key: ApiKeyOut
    secret: str


class NewApiKey(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A key to create."""

    name: Annotated[str, Meta(min_length=1, max_length=100)]
    scope: Literal["read", "full"] = "read"


class ImportOut(msgspec.Struct, frozen=True, kw_only=True):
    """What an import wrote."""

    streams: int
    entries: int
    versions: int
    attachments: int
