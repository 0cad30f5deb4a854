"""Export and import of one account as a versioned JSON document.

The document holds everything a person owns: streams, entries (trashed ones
too), every version snapshot and every attachment with its bytes (base64 in
JSON). Importing it into an empty database reproduces the data exactly: same
ids, dates and versions. Records carry no ``account_id`` (nor blob keys, which
embed it): the importing account owns them, so a dump moves between accounts
and servers.

Import writes through the repositories' bulk ``add_many`` methods, one unit of
work per batch, which is what makes it fast (thousands of entries a second on
SQLite) without holding one huge transaction.

Import drops NUL characters from every text it writes. The facade refuses NUL
(PostgreSQL cannot store it), but SQLite stored it before that rule, so an
export made there may hold some; dropping them lets every export import into
every backend. Other control characters are kept: both databases store them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import msgspec

from trace_core.errors import ConflictError, InvalidInputError
from trace_core.model import (
    Account,
    Attachment,
    AttachmentRef,
    Entry,
    EntrySettings,
    EntryVersion,
    Stream,
    VersionAction,
)
from trace_core.ports import BlobStore, ProgressCallback, SearchIndex, Storage, UnitOfWork
from trace_core.tags import tag_key
from trace_core.timezones import check_time_zone

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "AccountRecord",
    "AttachmentRecord",
    "EntryRecord",
    "ExportDocument",
    "ImportSummary",
    "StreamRecord",
    "VersionRecord",
    "blob_key",
    "decode_document",
    "encode_document",
    "export_account",
    "import_account",
    "record_field_drift",
]

EXPORT_FORMAT = "trace-export"
EXPORT_VERSION = 1
DEFAULT_BATCH_SIZE = 1000


class AccountRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Who the dump came from.

    Informational, except ``time_zone``: import sets the target account's time
    zone from it (dumps written before it existed carry none and change nothing).
    """

    email: str
    name: str | None = None
    created_at: datetime
    time_zone: str | None = None


class StreamRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A :class:`~trace_core.model.Stream` without its owner and computed count."""

    stream_id: UUID
    name: str
    description: str | None = None
    color: str | None = None
    icon: str | None = None
    is_private: bool = False
    is_archived: bool = False
    entry_settings: EntrySettings = EntrySettings()
    created_at: datetime
    updated_at: datetime


class EntryRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An :class:`~trace_core.model.Entry` without its owner."""

    entry_id: UUID
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


class VersionRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An :class:`~trace_core.model.EntryVersion` without its owner."""

    entry_id: UUID
    version: int
    action: VersionAction
    written_by: str
    written_at: datetime
    snapshot: EntryRecord
    attachment: AttachmentRef | None = None


class AttachmentRecord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """An :class:`~trace_core.model.Attachment` without its owner, with its bytes."""

    attachment_id: UUID
    entry_id: UUID
    mime_type: str
    file_size: int
    width: int | None = None
    height: int | None = None
    position: int = 0
    captured_at: datetime | None = None
    created_at: datetime
    sha256: str
    filename: str | None = None
    removed_at: datetime | None = None
    data: bytes
    """The file's bytes (base64 in JSON)."""


class ExportDocument(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One account's data, ready for JSON."""

    format: Literal["trace-export"] = "trace-export"
    version: int = EXPORT_VERSION
    exported_at: datetime
    account: AccountRecord
    streams: list[StreamRecord] = []
    entries: list[EntryRecord] = []
    versions: list[VersionRecord] = []
    attachments: list[AttachmentRecord] = []


class ImportSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What an import wrote."""

    streams: int
    entries: int
    versions: int
    attachments: int


# --- conversions, by field name: a model field missing from its record fails loudly
# here and in the test of record_field_drift(), never silently drops data ---


def _fields(obj: msgspec.Struct, *drop: str) -> dict[str, Any]:
    """Return the struct's fields as a dict (shallow), without the names in ``drop``."""
    fields = msgspec.structs.asdict(obj)
    for name in drop:
        del fields[name]
    return fields


def _entry_record(entry: Entry) -> EntryRecord:
    return EntryRecord(**_fields(entry, "account_id"))


def _without_nul(value: Any) -> Any:
    """Return ``value`` with NUL characters dropped from its text (strings, lists, settings)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, tuple) and any(isinstance(v, str) and "\x00" in v for v in value):
        # Tags and mentions: "a\x00" and "a" become one, and "\x00" none.
        return tuple(dict.fromkeys(t for t in (_without_nul(v) for v in value) if t))
    if isinstance(value, EntrySettings):
        return EntrySettings(**_clean_fields(value))
    return value


def _clean_fields(obj: msgspec.Struct, *drop: str) -> dict[str, Any]:
    """Return :func:`_fields` of an imported record with NUL dropped from its text."""
    return {name: _without_nul(value) for name, value in _fields(obj, *drop).items()}


def _entry(record: EntryRecord, account_id: UUID) -> Entry:
    return Entry(account_id=account_id, **_clean_fields(record))


def _version_record(version: EntryVersion) -> VersionRecord:
    fields = _fields(version, "account_id", "snapshot")
    return VersionRecord(snapshot=_entry_record(version.snapshot), **fields)


def _version(record: VersionRecord, account_id: UUID) -> EntryVersion:
    fields = _clean_fields(record, "snapshot")
    return EntryVersion(
        account_id=account_id, snapshot=_entry(record.snapshot, account_id), **fields
    )


def _stream_record(stream: Stream) -> StreamRecord:
    return StreamRecord(**_fields(stream, "account_id", "entry_count"))


def _stream(record: StreamRecord, account_id: UUID) -> Stream:
    return Stream(account_id=account_id, **_clean_fields(record))


def _attachment_record(attachment: Attachment, data: bytes) -> AttachmentRecord:
    return AttachmentRecord(data=data, **_fields(attachment, "account_id", "blob_key"))


def blob_key(account_id: UUID, attachment_id: UUID) -> str:
    """Return where an imported attachment's bytes are stored (the facade's layout)."""
    return f"{account_id}/{attachment_id}"


def _attachment(record: AttachmentRecord, account_id: UUID) -> Attachment:
    return Attachment(
        account_id=account_id,
        blob_key=blob_key(account_id, record.attachment_id),
        **_clean_fields(record, "data"),
    )


# --- export -------------------------------------------------------------------------


async def export_account(
    storage: Storage,
    blobs: BlobStore,
    account: Account,
    *,
    exported_at: datetime,
    progress: ProgressCallback | None = None,
) -> ExportDocument:
    """Collect everything ``account`` owns into an :class:`ExportDocument`.

    Records are sorted (streams and entries by creation, versions by entry and
    number, attachments by entry and position), so exporting the same data twice
    gives the same document.

    Args:
        storage: where the data is.
        blobs: where the attachment bytes are.
        account: whose data to export.
        exported_at: the timestamp written into the document.
        progress: called with (attachments read, attachments total).

    Returns:
        The document; encode it with :func:`encode_document`.

    """
    account_id = account.account_id
    async with storage.unit_of_work(account_id=account_id) as uow:
        streams = await uow.streams.list(account_id, include_archived=True)
        entries = await uow.entries.list_all(account_id, include_deleted=True)
        versions = await uow.versions.list_all(account_id)
        attachments = await uow.attachments.list_all(account_id)

    entries.sort(key=lambda e: (e.created_at, str(e.entry_id)))
    order = {e.entry_id: i for i, e in enumerate(entries)}
    streams.sort(key=lambda s: (s.created_at, str(s.stream_id)))
    versions.sort(key=lambda v: (order.get(v.entry_id, len(order)), str(v.entry_id), v.version))
    attachments.sort(
        key=lambda a: (order.get(a.entry_id, len(order)), a.position, str(a.attachment_id))
    )

    attachment_records = []
    for done, attachment in enumerate(attachments, 1):
        data = await blobs.get(attachment.blob_key)
        attachment_records.append(_attachment_record(attachment, data))
        if progress is not None:
            progress(done, len(attachments))

    return ExportDocument(
        exported_at=exported_at,
        account=AccountRecord(
            email=account.email,
            name=account.name,
            created_at=account.created_at,
            time_zone=account.time_zone,
        ),
        streams=[_stream_record(s) for s in streams],
        entries=[_entry_record(e) for e in entries],
        versions=[_version_record(v) for v in versions],
        attachments=attachment_records,
    )


def encode_document(document: ExportDocument) -> bytes:
    """Encode the document as JSON (bytes as base64)."""
    return msgspec.json.encode(document)


def decode_document(data: bytes | str) -> ExportDocument:
    """Decode and validate an export document.

    Raises:
        InvalidInputError: not JSON, not a Trace export, a version this code
            does not know, or a malformed record (the message names the path).

    """
    try:
        head = msgspec.json.decode(data, type=_Head)
    except msgspec.ValidationError as exc:
        raise InvalidInputError("document", f"not a Trace export: {exc}") from None
    except msgspec.DecodeError as exc:
        raise InvalidInputError("document", f"not valid JSON: {exc}") from None
    if head.format != EXPORT_FORMAT:
        raise InvalidInputError(
            "format", f"{head.format!r} is not a Trace export", allowed=[EXPORT_FORMAT]
        )
    if head.version != EXPORT_VERSION:
        raise InvalidInputError(
            "version", f"export version {head.version} is not supported", allowed=[EXPORT_VERSION]
        )
    try:
        return msgspec.json.decode(data, type=ExportDocument)
    except msgspec.ValidationError as exc:
        raise InvalidInputError("document", str(exc)) from None


class _Head(msgspec.Struct, frozen=True):
    """Just enough of a document to check what it is before decoding the rest."""

    format: str
    version: int


# --- import -------------------------------------------------------------------------


def _check_references(document: ExportDocument) -> None:
    """Refuse a document whose records point at ids it does not contain."""
    stream_ids = {s.stream_id for s in document.streams}
    entry_ids = {e.entry_id for e in document.entries}
    for e in document.entries:
        if e.stream_id is not None and e.stream_id not in stream_ids:
            raise InvalidInputError(
                "entries", f"entry {e.entry_id} is in unknown stream {e.stream_id}"
            )
    for v in document.versions:
        if v.entry_id not in entry_ids:
            raise InvalidInputError("versions", f"version of unknown entry {v.entry_id}")
    for a in document.attachments:
        if a.entry_id not in entry_ids:
            raise InvalidInputError("attachments", f"attachment on unknown entry {a.entry_id}")


async def import_account(
    storage: Storage,
    blobs: BlobStore,
    account_id: UUID,
    document: ExportDocument,
    *,
    search: SearchIndex | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressCallback | None = None,
    atomic: bool = False,
) -> ImportSummary:
    """Write the document's data into ``account_id``, keeping every id, date and version.

    Streams go first (one unit of work), then entries with their versions and
    attachments in batches of ``batch_size`` entries, one unit of work each.
    Attachment bytes are stored before the metadata that points at them.

    Args:
        storage: where to write.
        blobs: where to put attachment bytes.
        account_id: the (existing) account that will own the data.
        document: a decoded export.
        search: the search index to feed; skipped when it is ``indexed_by_storage``
            (written in the storage transaction, like the SQL adapters).
        batch_size: entries per unit of work.
        progress: called with (entries written, entries total) after each batch.
        atomic: write everything in one unit of work (``batch_size`` and
            ``progress`` are then unused), so a failure leaves nothing behind:
            the rows roll back and the attachment bytes stored first are deleted.

    Returns:
        Counts of what was written.

    Raises:
        InvalidInputError: the document references ids it does not contain.
        ConflictError: some id already exists in the database.

    """
    _check_references(document)
    if batch_size < 1:
        raise InvalidInputError("batch_size", "must be at least 1")
    zone = document.account.time_zone
    if zone is not None:
        zone = check_time_zone(zone, "account.time_zone")
    all_entries = [_entry(r, account_id) for r in document.entries]
    spelling = await _tag_spellings(storage, account_id, all_entries)
    if atomic:
        return await _import_at_once(
            storage,
            blobs,
            account_id,
            document,
            [_spell_tags(e, spelling) for e in all_entries],
            zone,
            search=search,
        )

    versions_of: defaultdict[UUID, list[VersionRecord]] = defaultdict(list)
    for v in document.versions:
        versions_of[v.entry_id].append(v)
    attachments_of: defaultdict[UUID, list[AttachmentRecord]] = defaultdict(list)
    for a in document.attachments:
        attachments_of[a.entry_id].append(a)

    if document.streams or zone is not None:
        async with storage.unit_of_work(write=True, account_id=account_id) as uow:
            await _set_zone(uow, account_id, zone)
            for s in document.streams:
                await uow.streams.add(_stream(s, account_id))

    total = len(document.entries)
    done = 0
    if progress is not None:
        progress(0, total)
    for start in range(0, total, batch_size):
        records = document.entries[start : start + batch_size]
        entries = [_spell_tags(e, spelling) for e in all_entries[start : start + batch_size]]
        versions = [
            _version(v, account_id) for r in records for v in versions_of.get(r.entry_id, ())
        ]
        attachments = [a for r in records for a in attachments_of.get(r.entry_id, ())]
        for a in attachments:
            await blobs.put(blob_key(account_id, a.attachment_id), a.data)
        async with storage.unit_of_work(write=True, account_id=account_id) as uow:
            await uow.entries.add_many(entries)
            if versions:
                await uow.versions.add_many(versions)
            for a in attachments:
                await uow.attachments.add(_attachment(a, account_id))
        if search is not None and not getattr(search, "indexed_by_storage", False):
            await search.index(entries)
        done += len(records)
        if progress is not None:
            progress(done, total)

    return ImportSummary(
        streams=len(document.streams),
        entries=total,
        versions=len(document.versions),
        attachments=len(document.attachments),
    )


async def _set_zone(uow: UnitOfWork, account_id: UUID, zone: str | None) -> None:
    """Give the account the document's time zone (when it has one)."""
    if zone is None:
        return
    target = await uow.accounts.get(account_id)
    if target is not None and target.time_zone != zone:
        await uow.accounts.update(msgspec.structs.replace(target, time_zone=zone))


async def _import_at_once(
    storage: Storage,
    blobs: BlobStore,
    account_id: UUID,
    document: ExportDocument,
    entries: list[Entry],
    zone: str | None,
    *,
    search: SearchIndex | None,
) -> ImportSummary:
    """Import the whole document in one unit of work: all of it, or nothing."""
    stored: list[str] = []
    for a in document.attachments:
        # Never overwrite bytes that are there (and would be deleted on failure).
        if await blobs.exists(blob_key(account_id, a.attachment_id)):
            raise ConflictError(
                f"attachment {a.attachment_id} exists in this account", field="attachments"
            )
    try:
        for a in document.attachments:
            key = blob_key(account_id, a.attachment_id)
            await blobs.put(key, a.data)
            stored.append(key)
        async with storage.unit_of_work(write=True, account_id=account_id) as uow:
            await _set_zone(uow, account_id, zone)
            for s in document.streams:
                await uow.streams.add(_stream(s, account_id))
            if entries:
                await uow.entries.add_many(entries)
            if document.versions:
                await uow.versions.add_many([_version(v, account_id) for v in document.versions])
            for a in document.attachments:
                await uow.attachments.add(_attachment(a, account_id))
    except BaseException:
        # Bytes went first so no row ever points at missing bytes; the rows are gone now.
        for key in stored:
            await blobs.delete(key)
        raise
    if search is not None and not getattr(search, "indexed_by_storage", False):
        await search.index(entries)
    return ImportSummary(
        streams=len(document.streams),
        entries=len(document.entries),
        versions=len(document.versions),
        attachments=len(document.attachments),
    )


async def _tag_spellings(
    storage: Storage, account_id: UUID, entries: Sequence[Entry]
) -> dict[str, str]:
    """Map each tag key of the document to one spelling: the account's, else the first seen.

    Tags compare without case (:mod:`trace_core.tags`); a dump written before that
    rule may spell one tag several ways, and the account may already use one.
    """
    keys = {tag_key(t): t for e in entries for t in e.tags}
    if not keys:
        return {}
    async with storage.unit_of_work(account_id=account_id) as uow:
        known = await uow.entries.tag_spellings(account_id, list(keys))
    first: dict[str, str] = {}
    for entry in sorted(entries, key=lambda e: (e.created_at, e.entry_id)):
        for tag in entry.tags:
            first.setdefault(tag_key(tag), tag)
    return {**first, **known}


def _spell_tags(entry: Entry, spelling: dict[str, str]) -> Entry:
    tags = tuple(dict.fromkeys(spelling.get(tag_key(t), t) for t in entry.tags))
    return entry if tags == entry.tags else msgspec.structs.replace(entry, tags=tags)


def record_field_drift() -> dict[str, set[str]]:
    """Return model fields missing from their export record (for a test to keep them in step)."""
    pairs: Sequence[tuple[type[msgspec.Struct], type[msgspec.Struct], set[str]]] = (
        (Stream, StreamRecord, {"account_id", "entry_count"}),
        (Entry, EntryRecord, {"account_id"}),
        (EntryVersion, VersionRecord, {"account_id"}),
        (Attachment, AttachmentRecord, {"account_id", "blob_key"}),
    )
    drift: dict[str, set[str]] = {}
    for model, record, dropped in pairs:
        missing = set(model.__struct_fields__) - set(record.__struct_fields__) - dropped
        if missing:
            drift[model.__name__] = missing
    return drift
