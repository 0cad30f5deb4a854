"""Builders and helpers shared by the storage contract suites.

The suites need a ``storage`` fixture that yields a fresh, empty
:class:`~trace_core.ports.Storage`, and an ``anyio_backend`` fixture.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from trace_core.model import (
    Account,
    Attachment,
    Entry,
    EntrySettings,
    EntryVersion,
    Stream,
    VersionAction,
)
from trace_core.ports import Storage

__all__ = [
    "T0",
    "add_account",
    "add_entries",
    "add_stream",
    "later",
    "make_account",
    "make_attachment",
    "make_entry",
    "make_stream",
    "make_version",
]

T0 = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
"""A fixed instant with microseconds, so round-trips are checked to the microsecond."""


def make_account(email: str | None = None, *, created_at: datetime = T0, **fields: Any) -> Account:
    """Build an account with a unique email unless one is given."""
    account_id = fields.pop("account_id", uuid4())
    return Account(
        account_id=account_id,
        email=email or f"person-{account_id.hex[:12]}@example.org",
        created_at=created_at,
        **fields,
    )


def make_stream(
    account_id: UUID, name: str = "Journal", *, created_at: datetime = T0, **fields: Any
) -> Stream:
    """Build a stream of ``account_id``."""
    return Stream(
        stream_id=fields.pop("stream_id", uuid4()),
        account_id=account_id,
        name=name,
        created_at=created_at,
        updated_at=fields.pop("updated_at", created_at),
        **fields,
    )


def make_entry(
    account_id: UUID,
    content: str = "A plain note.",
    *,
    entry_date: date = date(2026, 3, 1),
    created_at: datetime = T0,
    **fields: Any,
) -> Entry:
    """Build a live entry of ``account_id`` (in the Inbox unless ``stream_id`` is given)."""
    return Entry(
        entry_id=fields.pop("entry_id", uuid4()),
        account_id=account_id,
        content=content,
        entry_date=entry_date,
        created_at=created_at,
        updated_at=fields.pop("updated_at", created_at),
        **fields,
    )


def make_version(
    entry: Entry, *, action: VersionAction = "create", written_at: datetime | None = None
) -> EntryVersion:
    """Build the snapshot of ``entry`` at its version."""
    return EntryVersion(
        entry_id=entry.entry_id,
        account_id=entry.account_id,
        version=entry.version,
        action=action,
        written_by="contract-test",
        written_at=written_at or entry.updated_at,
        snapshot=entry,
    )


def make_attachment(
    entry: Entry, *, position: int = 0, created_at: datetime = T0, **fields: Any
) -> Attachment:
    """Build attachment metadata on ``entry``."""
    attachment_id = fields.pop("attachment_id", uuid4())
    return Attachment(
        attachment_id=attachment_id,
        account_id=entry.account_id,
        entry_id=entry.entry_id,
        mime_type=fields.pop("mime_type", "image/png"),
        file_size=fields.pop("file_size", 1234),
        position=position,
        created_at=created_at,
        blob_key=fields.pop("blob_key", f"{entry.account_id.hex}/{attachment_id.hex}"),
        sha256=fields.pop("sha256", "0" * 64),
        **fields,
    )


async def add_account(storage: Storage, email: str | None = None, **fields: Any) -> Account:
    """Store and return a new account."""
    account = make_account(email, **fields)
    async with storage.unit_of_work(write=True) as uow:
        await uow.accounts.add(account)
    return account


async def add_stream(
    storage: Storage,
    account_id: UUID,
    name: str = "Journal",
    *,
    settings: EntrySettings | None = None,
    **fields: Any,
) -> Stream:
    """Store and return a new stream."""
    stream = make_stream(account_id, name, entry_settings=settings or EntrySettings(), **fields)
    async with storage.unit_of_work(write=True) as uow:
        await uow.streams.add(stream)
    return stream


async def add_entries(storage: Storage, *entries: Entry) -> list[Entry]:
    """Store ``entries`` in one unit of work and return them."""
    async with storage.unit_of_work(write=True) as uow:
        for entry in entries:
            await uow.entries.add(entry)
    return list(entries)


def later(minutes: float) -> datetime:
    """Return ``T0`` plus some minutes."""
    return T0 + timedelta(minutes=minutes)
