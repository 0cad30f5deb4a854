"""Meilisearch documents: an entry, its filter fields, its stream's name and its file names.

The stream's name and the attachments' file names are not part of an
:class:`~trace_core.model.Entry`: :func:`read_documents` looks them up in the
unit of work the entries were read in, as they are *now*. A stream rename or an
attachment added, removed or restored reaches the index because the storage
records the affected entries in the search outbox (triggers of migrations
``0100_search`` and ``0520_meili_outbox_fields``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from trace_core.model import Attachment, Entry, Stream
from trace_core.ports import UnitOfWork

__all__ = ["day", "document_entry", "entry_document", "read_documents", "timestamp"]


def timestamp(value: datetime) -> float:
    """Return a datetime as epoch seconds (how documents store and filters compare times)."""
    return value.timestamp()


def day(value: date) -> int:
    """Return a date as its ordinal (how documents store and filters compare days)."""
    return value.toordinal()


def entry_document(
    entry: Entry, *, stream_name: str | None = None, attachment_names: Sequence[str] = ()
) -> dict[str, Any]:
    """Return the Meilisearch document of a live entry: the entry plus filter and search fields.

    Args:
        entry: the entry.
        stream_name: its stream's current name (None in the inbox).
        attachment_names: the file names of its live attachments.

    """
    document: dict[str, Any] = msgspec.to_builtins(entry)
    document.update(
        id=str(entry.entry_id),
        stream=str(entry.stream_id) if entry.stream_id else "inbox",
        stream_name=stream_name or "",
        attachment_names=[name for name in attachment_names if name],
        entry_day=day(entry.entry_date),
        created_ts=timestamp(entry.created_at),
        updated_ts=timestamp(entry.updated_at),
    )
    return document


_ENTRY_FIELDS = frozenset(Entry.__struct_fields__)


def document_entry(document: dict[str, Any]) -> Entry:
    """Return the entry stored in a document."""
    return msgspec.convert(
        {k: v for k, v in document.items() if k in _ENTRY_FIELDS}, Entry, strict=False
    )


def documents_with(
    entries: Iterable[Entry], streams: Iterable[Stream], attachments: Iterable[Attachment]
) -> list[dict[str, Any]]:
    """Return the documents of the live ``entries`` given their account's streams and attachments.

    Removed attachments and attachments without a file name add nothing.
    """
    names = {stream.stream_id: stream.name for stream in streams}
    files: dict[UUID, list[str]] = {}
    for attachment in attachments:
        if attachment.removed_at is None and attachment.filename:
            files.setdefault(attachment.entry_id, []).append(attachment.filename)
    return [
        entry_document(
            entry,
            stream_name=names.get(entry.stream_id) if entry.stream_id else None,
            attachment_names=files.get(entry.entry_id, ()),
        )
        for entry in entries
        if entry.deleted_at is None
    ]


async def read_documents(uow: UnitOfWork, entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """Return the documents of the live ``entries``, names read in ``uow``.

    Two reads per account in the batch (its streams, the entries' attachments),
    whatever the number of entries.
    """
    by_account: dict[UUID, list[Entry]] = {}
    for entry in entries:
        if entry.deleted_at is None:
            by_account.setdefault(entry.account_id, []).append(entry)
    documents: list[dict[str, Any]] = []
    for account_id, mine in by_account.items():
        streams: list[Stream] = []
        if any(entry.stream_id for entry in mine):
            streams = await uow.streams.list(account_id, include_archived=True, with_counts=False)
        attachments = await uow.attachments.list_for_entries(
            account_id, [entry.entry_id for entry in mine]
        )
        documents.extend(documents_with(mine, streams, attachments))
    return documents
