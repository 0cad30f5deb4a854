"""JSON-ready views of entities, shared by every transport (MCP, REST, CLI).

The reference service's response shapes live here once: ``stream_context`` on
every entry, ratings in display units next to the stored value, content
truncation with ``content_truncated``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from trace_core.model import Attachment, Entry, EntryVersion, Stream

__all__ = [
    "attachment_view",
    "entry_view",
    "rating_fields",
    "stream_context",
    "stream_view",
    "version_view",
]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def stream_context(stream: Stream | None) -> dict[str, Any] | None:
    """Return what an assistant needs to write valid values here (None for the Inbox)."""
    if stream is None:
        return None
    s = stream.entry_settings
    return {
        "stream_id": str(stream.stream_id),
        "stream_name": stream.name,
        "rating_type": s.rating_type,
        "rating_max": s.rating_max,
        "types": list(s.types),
        "statuses": list(s.statuses),
        "default_status": s.default_status,
        "enabled": {
            "rating": s.use_rating,
            "status": s.use_status,
            "priority": s.use_priority,
            "location": s.use_location,
            "photos": s.use_photos,
            "due_dates": s.use_duedates,
            "type": s.use_type,
        },
    }


def rating_fields(entry: Entry, stream: Stream | None) -> dict[str, Any]:
    """Return ``rating`` in display units with ``rating_max``, ``rating_type``, ``rating_raw``.

    Stars streams show 0-5 (stored 0-10, so 7 stored is 3.5 stars); numeric
    streams and the Inbox show 0-10.
    """
    rating_type = stream.entry_settings.rating_type if stream else "numeric"
    raw = entry.rating
    shown: float | int | None
    if raw is None:
        shown = None
    elif rating_type == "stars":
        shown = raw // 2 if raw % 2 == 0 else raw / 2
    else:
        shown = raw
    return {
        "rating": shown,
        "rating_max": 5 if rating_type == "stars" else 10,
        "rating_type": rating_type,
        "rating_raw": raw,
    }


def entry_view(
    entry: Entry,
    stream: Stream | None,
    *,
    include_content: bool = True,
    content_limit: int | None = None,
    attachments: list[Attachment] | None = None,
    retention_days: int | None = None,
) -> dict[str, Any]:
    """Return an entry as the reference returns it, with ``stream_context`` and rating fields."""
    view: dict[str, Any] = {
        "entry_id": str(entry.entry_id),
        "stream_id": str(entry.stream_id) if entry.stream_id else None,
        "title": entry.title,
    }
    if include_content:
        content = entry.content
        truncated = content_limit is not None and len(content) > content_limit
        if truncated and content_limit is not None:
            content = content[:content_limit] + "..."
        view["content"] = content
        view["content_truncated"] = truncated
    view.update(
        {
            "entry_date": entry.entry_date.isoformat(),
            "tags": list(entry.tags),
            "status": entry.status,
            "type": entry.type,
            "priority": entry.priority,
            **rating_fields(entry, stream),
            "due_date": entry.due_date.isoformat() if entry.due_date else None,
            "is_pinned": entry.is_pinned,
            "is_archived": entry.is_archived,
            "latitude": entry.latitude,
            "longitude": entry.longitude,
            "place_name": entry.place_name,
            "city": entry.city,
            "country": entry.country,
            "mentions": list(entry.mentions),
            "created_at": _iso(entry.created_at),
            "updated_at": _iso(entry.updated_at),
            "version": entry.version,
            "last_edited_by": entry.last_edited_by,
        }
    )
    if entry.deleted_at is not None:
        view["deleted_at"] = _iso(entry.deleted_at)
        if retention_days is not None:
            view["purge_after"] = _iso(entry.deleted_at + timedelta(days=retention_days))
    if attachments is not None:
        view["attachments"] = [attachment_view(a) for a in attachments]
    context = stream_context(stream)
    if context is not None:
        view["stream_context"] = context
    return view


def stream_view(stream: Stream) -> dict[str, Any]:
    """Return a stream with its full ``entry_settings`` and ``entry_count``."""
    s = stream.entry_settings
    return {
        "stream_id": str(stream.stream_id),
        "name": stream.name,
        "description": stream.description,
        "color": stream.color,
        "icon": stream.icon,
        "is_private": stream.is_private,
        "is_archived": stream.is_archived,
        "entry_count": stream.entry_count,
        "created_at": _iso(stream.created_at),
        "updated_at": _iso(stream.updated_at),
        "entry_settings": {
            "use_rating": s.use_rating,
            "use_status": s.use_status,
            "use_priority": s.use_priority,
            "use_location": s.use_location,
            "use_photos": s.use_photos,
            "use_duedates": s.use_duedates,
            "use_type": s.use_type,
            "types": list(s.types),
            "statuses": list(s.statuses),
            "default_status": s.default_status,
            "rating_type": s.rating_type,
            "rating_max": s.rating_max,
            "content_template": s.content_template,
            "title_template": s.title_template,
        },
    }


def attachment_view(attachment: Attachment) -> dict[str, Any]:
    """Return attachment metadata (never the blob key or bytes)."""
    return {
        "attachment_id": str(attachment.attachment_id),
        "entry_id": str(attachment.entry_id),
        "mime_type": attachment.mime_type,
        "file_size": attachment.file_size,
        "width": attachment.width,
        "height": attachment.height,
        "position": attachment.position,
        "captured_at": _iso(attachment.captured_at),
        "filename": attachment.filename,
    }


def version_view(version: EntryVersion, *, include_content: bool = True) -> dict[str, Any]:
    """Return one history item: who wrote which version, when, and the snapshot."""
    snapshot = entry_view(version.snapshot, None, include_content=include_content)
    snapshot.pop("rating", None)
    snapshot.pop("rating_max", None)
    snapshot.pop("rating_type", None)
    return {
        "version": version.version,
        "action": version.action,
        "written_by": version.written_by,
        "written_at": _iso(version.written_at),
        "snapshot": snapshot,
    }
