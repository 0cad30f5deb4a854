"""Turning core entities into compact, model-friendly JSON and readable text.

Ratings are shown in the stream's display units (``rating``, ``rating_max``,
``rating_type``) next to the stored 0-10 value (``rating_raw``); every entry
carries its ``stream_context`` (None in the Inbox); content can be left out or
cut (``content_truncated``); and :func:`fit` keeps any answer under the size cap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from trace_core.model import Attachment, Entry, EntrySettings, EntryVersion, Stream

__all__ = [
    "PRIORITY_LABELS",
    "attachment_dict",
    "entry_dict",
    "entry_text",
    "fit",
    "iso",
    "json_size",
    "stream_context",
    "stream_dict",
    "stream_text",
    "version_dict",
]

PRIORITY_LABELS = ("none", "low", "medium", "high", "urgent")
ELLIPSIS = "..."


def iso(value: datetime | date | None) -> str | None:
    """Return an ISO 8601 string (UTC datetimes end in ``Z``), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value.isoformat()


def _id(value: UUID | None) -> str | None:
    return str(value) if value is not None else None


def json_size(value: Any) -> int:
    """Return the length of ``value`` encoded as JSON."""
    return len(msgspec.json.encode(value))


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _settings(stream: Stream | None) -> EntrySettings:
    return stream.entry_settings if stream is not None else EntrySettings(rating_type="numeric")


def stream_context(stream: Stream | None) -> dict[str, Any] | None:
    """Return what a model needs to write a valid entry in ``stream`` (None for the Inbox)."""
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


def _cut(content: str, limit: int | None) -> tuple[str, bool]:
    if limit is None or len(content) <= limit:
        return content, False
    return content[:limit] + ELLIPSIS, True


def entry_dict(
    entry: Entry,
    stream: Stream | None,
    *,
    include_content: bool = True,
    content_limit: int | None = None,
    with_context: bool = True,
) -> dict[str, Any]:
    """Return the JSON form of an entry.

    Args:
        entry: the entry.
        stream: its stream (None for the Inbox, or when the stream is gone).
        include_content: False leaves ``content`` out (``content_length`` stays).
        content_limit: cut content to this many characters and append ``...``.
        with_context: add ``stream_context``.

    """
    settings = _settings(stream)
    rating: float | int | None = None
    if entry.rating is not None:
        rating = _number(entry.rating / 2) if settings.rating_type == "stars" else entry.rating
    out: dict[str, Any] = {
        "entry_id": str(entry.entry_id),
        "stream_id": _id(entry.stream_id),
        "stream_name": stream.name if stream is not None else None,
        "title": entry.title,
    }
    if include_content:
        content, truncated = _cut(entry.content, content_limit)
        out["content"] = content
        out["content_truncated"] = truncated
    out["content_length"] = len(entry.content)
    out.update(
        {
            "entry_date": iso(entry.entry_date),
            "tags": list(entry.tags),
            "status": entry.status,
            "type": entry.type,
            "priority": entry.priority,
            "priority_label": PRIORITY_LABELS[entry.priority]
            if 0 <= entry.priority < len(PRIORITY_LABELS)
            else str(entry.priority),
            "rating": rating,
            "rating_max": settings.rating_max,
            "rating_type": settings.rating_type,
            "rating_raw": entry.rating,
            "due_date": iso(entry.due_date),
            "is_pinned": entry.is_pinned,
            "is_archived": entry.is_archived,
        }
    )
    for name in ("latitude", "longitude", "place_name", "city", "country"):
        value = getattr(entry, name)
        if value is not None:
            out[name] = value
    out.update(
        {
            "mentions": list(entry.mentions),
            "created_at": iso(entry.created_at),
            "updated_at": iso(entry.updated_at),
            "version": entry.version,
            "last_edited_by": entry.last_edited_by,
        }
    )
    if entry.deleted_at is not None:
        out["deleted_at"] = iso(entry.deleted_at)
    if with_context:
        out["stream_context"] = stream_context(stream)
    return out


def shrink_content(item: dict[str, Any], budget: int) -> dict[str, Any]:
    """Cut ``item['content']`` so the item's JSON fits in ``budget`` characters, if it can."""
    content = item.get("content")
    size = json_size(item)
    if not isinstance(content, str) or size <= budget:
        return item
    keep = max(0, len(content) - (size - budget) - len(ELLIPSIS) - 16)
    # JSON escaping can make characters longer than one; shrink until it fits.
    while True:
        cut = content[:keep] + ELLIPSIS
        shrunk = {**item, "content": cut, "content_truncated": True}
        if json_size(shrunk) <= budget or keep == 0:
            return shrunk
        keep = max(0, keep - max(64, (json_size(shrunk) - budget) * 2))


def fit(items: Sequence[dict[str, Any]], budget: int) -> tuple[list[dict[str, Any]], bool]:
    """Keep the leading items whose JSON fits in ``budget`` characters.

    A single item that is too big on its own keeps a cut version of its content,
    so an answer is never empty just because one entry is long.

    Returns:
        The items kept, and whether any were dropped or cut.

    """
    kept: list[dict[str, Any]] = []
    used = 2
    for item in items:
        size = json_size(item) + 1
        if used + size > budget:
            if not kept:
                shrunk = shrink_content(item, budget - used)
                kept.append(shrunk)
            return kept, True
        kept.append(item)
        used += size
    return kept, False


def attachment_dict(attachment: Attachment) -> dict[str, Any]:
    """Return attachment metadata (never the bytes or storage key)."""
    out: dict[str, Any] = {
        "attachment_id": str(attachment.attachment_id),
        "entry_id": str(attachment.entry_id),
        "mime_type": attachment.mime_type,
        "file_size": attachment.file_size,
        "width": attachment.width,
        "height": attachment.height,
        "position": attachment.position,
        "captured_at": iso(attachment.captured_at),
        "created_at": iso(attachment.created_at),
    }
    if attachment.filename:
        out["filename"] = attachment.filename
    return out


def stream_dict(stream: Stream, *, with_settings: bool = False) -> dict[str, Any]:
    """Return the JSON form of a stream; ``with_settings`` adds ``entry_settings``."""
    out: dict[str, Any] = {
        "stream_id": str(stream.stream_id),
        "name": stream.name,
        "description": stream.description,
        "color": stream.color,
        "icon": stream.icon,
        "is_private": stream.is_private,
        "is_archived": stream.is_archived,
        "entry_count": stream.entry_count,
        "created_at": iso(stream.created_at),
        "updated_at": iso(stream.updated_at),
    }
    if with_settings:
        out["entry_settings"] = settings_dict(stream.entry_settings)
    return out


def settings_dict(s: EntrySettings) -> dict[str, Any]:
    """Return a stream's entry settings, describing only the attributes it uses.

    Every ``use_*`` switch is there; the details of one that is off (the rating
    scale without ``use_rating``, ``types`` without ``use_type``, ``statuses`` and
    ``default_status`` without ``use_status``) are left out: entries there cannot
    hold those values, so describing them would only mislead.
    """
    out: dict[str, Any] = {
        name: value for name, value in msgspec.structs.asdict(s).items() if name.startswith("use_")
    }
    if s.use_rating:
        out["rating_type"] = s.rating_type
        out["rating_max"] = s.rating_max
    if s.use_type:
        out["types"] = list(s.types)
    if s.use_status:
        out["statuses"] = list(s.statuses)
        out["default_status"] = s.default_status
    for template in ("content_template", "title_template"):
        if getattr(s, template) is not None:
            out[template] = getattr(s, template)
    return out


def version_dict(
    version: EntryVersion,
    stream: Stream | None,
    *,
    include_content: bool,
    content_limit: int | None,
) -> dict[str, Any]:
    """Return one history snapshot with who wrote it (and the image an attachment action named)."""
    out: dict[str, Any] = {
        "version": version.version,
        "action": version.action,
        "written_by": version.written_by,
        "written_at": iso(version.written_at),
    }
    if version.attachment is not None:
        ref = version.attachment
        out["attachment"] = {"attachment_id": str(ref.attachment_id), "mime_type": ref.mime_type}
        if ref.filename:
            out["attachment"]["filename"] = ref.filename
    out["snapshot"] = entry_dict(
        version.snapshot,
        stream,
        include_content=include_content,
        content_limit=content_limit,
        with_context=False,
    )
    return out


# --- readable text ----------------------------------------------------------------


def _rating_text(item: dict[str, Any]) -> str | None:
    if item.get("rating") is None:
        return None
    if item.get("rating_type") == "stars":
        return f"rating {item['rating']}/{item['rating_max']} stars"
    return f"rating {item['rating']}/{item['rating_max']}"


def entry_text(item: dict[str, Any]) -> str:
    """Render an entry dict (from :func:`entry_dict`) as a short Markdown block."""
    head = " · ".join(
        part
        for part in (
            item.get("entry_date"),
            item.get("title") or "(untitled)",
            f"id {item['entry_id']}",
        )
        if part
    )
    facts: list[str] = [
        f"stream {item['stream_name']}" if item.get("stream_name") else "Inbox",
    ]
    if item.get("tags"):
        facts.append("tags " + ", ".join(item["tags"]))
    for name in ("status", "type"):
        if item.get(name):
            facts.append(f"{name} {item[name]}")
    if item.get("priority"):
        facts.append(f"priority {item['priority_label']}")
    rating = _rating_text(item)
    if rating:
        facts.append(rating)
    if item.get("due_date"):
        facts.append(f"due {item['due_date']}")
    if item.get("is_pinned"):
        facts.append("pinned")
    if item.get("is_archived"):
        facts.append("archived")
    if item.get("image_count"):
        facts.append(f"{item['image_count']} image" + ("s" if item["image_count"] > 1 else ""))
    if item.get("deleted_at"):
        facts.append(f"deleted {item['deleted_at']}")
    facts.append(f"version {item['version']}")
    lines = [f"### {head}", " · ".join(facts)]
    if item.get("snippet"):
        lines.append(f"> {item['snippet']}")
    if "content" in item:
        lines.append("")
        lines.append(item["content"])
        if item.get("content_truncated"):
            lines.append(f"[content cut: {item['content_length']} characters in full]")
    return "\n".join(lines)


def stream_text(item: dict[str, Any]) -> str:
    """Render a stream dict as one line (plus settings when present)."""
    line = f"- {item['name']} (id {item['stream_id']}): {item['entry_count']} entries"
    if item.get("is_archived"):
        line += ", archived"
    if item.get("description"):
        line += f" — {item['description']}"
    settings = item.get("entry_settings")
    if settings:
        enabled = [
            k.removeprefix("use_") for k, v in settings.items() if k.startswith("use_") and v
        ]
        line += "\n  enabled: " + (", ".join(enabled) or "nothing extra")
        if "rating_type" in settings:
            line += f"; rating {settings['rating_type']} (max {settings['rating_max']})"
        if settings.get("types"):
            line += "; types " + ", ".join(settings["types"])
        if settings.get("statuses"):
            line += "; statuses " + ", ".join(settings["statuses"])
            if settings.get("default_status"):
                line += f" (default {settings['default_status']})"
    return line


def join_blocks(blocks: Sequence[str], render: Callable[[str], str] = str) -> str:
    """Join text blocks with blank lines."""
    return "\n\n".join(render(b) for b in blocks)
