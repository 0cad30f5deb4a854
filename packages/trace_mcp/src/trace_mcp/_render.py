"""Turning core entities into compact, model-friendly JSON and readable text.

Answers spend the model's context, so they say each thing once:

- an entry's JSON leaves out what is empty or at its default (no ``tags`` key
  without tags, no ``priority`` at 0, no ``is_pinned`` unless pinned, no
  ``stream_id`` in the Inbox); ratings are in the stream's display units;
- a stream's rules (:func:`stream_context`) appear once per answer, in a
  ``streams`` map keyed by stream id, never per entry;
- content can be left out, cut (``content_truncated``) or reduced to a short
  ``preview``; and :func:`fit` keeps any answer under the size cap.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from trace_core.model import Attachment, Entry, EntrySettings, EntryVersion, Stream

__all__ = [
    "PREVIEW_CHARS",
    "PRIORITY_LABELS",
    "attachment_dict",
    "attachment_text",
    "context_text",
    "entry_dict",
    "entry_text",
    "fit",
    "iso",
    "json_size",
    "preview",
    "rating_scale",
    "settings_dict",
    "shrink_content",
    "stream_context",
    "stream_dict",
    "stream_text",
    "streams_named",
    "streams_text",
    "version_dict",
]

PRIORITY_LABELS = ("none", "low", "medium", "high", "urgent")
ELLIPSIS = "..."
PREVIEW_CHARS = 100
"""Characters of an entry's opening that a search hit shows without content."""


def iso(value: datetime | date | None) -> str | None:
    """Return an ISO 8601 string (UTC datetimes end in ``Z``), or None."""
    if value is None:
        return None
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    return value.isoformat()


def json_size(value: Any) -> int:
    """Return the length of ``value`` encoded as JSON."""
    return len(msgspec.json.encode(value))


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def _settings(stream: Stream | None) -> EntrySettings:
    return stream.entry_settings if stream is not None else EntrySettings(rating_type="numeric")


def rating_scale(settings: EntrySettings) -> str:
    """Name a stream's rating scale in display units (``stars 0-5`` or ``0-10``)."""
    return "stars 0-5" if settings.rating_type == "stars" else f"0-{settings.rating_max}"


def stream_context(stream: Stream) -> dict[str, Any]:
    """Return what a model needs to write a valid entry in ``stream``, settings that are on only.

    ``uses`` lists the optional fields the stream's entries take; ``statuses``
    (with ``default_status``), ``types`` and ``rating_scale`` appear only when
    that field is used.
    """
    s = stream.entry_settings
    used = [
        name
        for name, on in (
            ("status", s.use_status),
            ("type", s.use_type),
            ("priority", s.use_priority),
            ("rating", s.use_rating),
            ("due_date", s.use_duedates),
            ("location", s.use_location),
            ("photos", s.use_photos),
        )
        if on
    ]
    out: dict[str, Any] = {"name": stream.name, "uses": used}
    if s.use_status:
        out["statuses"] = list(s.statuses)
        if s.default_status:
            out["default_status"] = s.default_status
    if s.use_type:
        out["types"] = list(s.types)
    if s.use_rating:
        out["rating_scale"] = rating_scale(s)
    return out


def streams_named(
    stream_ids: Iterable[UUID | None], streams: Mapping[UUID, Stream]
) -> dict[str, dict[str, Any]]:
    """Return the context of each stream ``stream_ids`` name, once, keyed by stream id."""
    out: dict[str, dict[str, Any]] = {}
    for stream_id in stream_ids:
        if stream_id is None or str(stream_id) in out:
            continue
        stream = streams.get(stream_id)
        if stream is not None:
            out[str(stream_id)] = stream_context(stream)
    return out


def _cut(content: str, limit: int | None) -> tuple[str, bool]:
    if limit is None or len(content) <= limit:
        return content, False
    return content[:limit] + ELLIPSIS, True


_MARKUP = re.compile(r"(^|\s)(#{1,6}|[-*+>]|\d+\.|- \[[ xX]\])\s+")
_SPACE = re.compile(r"\s+")


def preview(content: str, chars: int = PREVIEW_CHARS) -> str:
    """Return the opening of ``content`` on one line (block markers dropped), cut at a word."""
    # Only the opening is read: markup and runs of spaces seldom take 3 in 4 characters.
    text = _SPACE.sub(" ", _MARKUP.sub(r"\1", content[: chars * 4])).strip()
    if len(text) <= chars and len(content) <= chars * 4:
        return text
    cut = text[:chars]
    space = cut.rfind(" ")
    return (cut[:space] if space > chars // 2 else cut).rstrip() + ELLIPSIS


def entry_dict(
    entry: Entry,
    stream: Stream | None,
    *,
    include_content: bool = True,
    content_limit: int | None = None,
    detail: bool = False,
) -> dict[str, Any]:
    """Return the compact JSON form of an entry (empty and default values left out).

    ``content_length`` is there when the content is not (left out or cut).

    Args:
        entry: the entry.
        stream: its stream (None for the Inbox, or when the stream is gone).
        include_content: False leaves ``content`` out (``content_length`` stays).
        content_limit: cut content to this many characters and append ``...``.
        detail: add what only a single-entry answer needs (``updated_at``,
            ``created_at``, ``last_edited_by``, ``mentions``).

    """
    out: dict[str, Any] = {"entry_id": str(entry.entry_id)}
    if entry.title:
        out["title"] = entry.title
    if entry.stream_id is not None:
        out["stream_id"] = str(entry.stream_id)
    out["entry_date"] = iso(entry.entry_date)
    if entry.tags:
        out["tags"] = list(entry.tags)
    if entry.status:
        out["status"] = entry.status
    if entry.type:
        out["type"] = entry.type
    if entry.priority:
        out["priority"] = entry.priority
    if entry.rating is not None:
        stars = _settings(stream).rating_type == "stars"
        out["rating"] = _number(entry.rating / 2) if stars else entry.rating
    if entry.due_date is not None:
        out["due_date"] = iso(entry.due_date)
    if entry.is_pinned:
        out["is_pinned"] = True
    if entry.is_archived:
        out["is_archived"] = True
    for name in ("latitude", "longitude", "place_name", "city", "country"):
        value = getattr(entry, name)
        if value is not None:
            out[name] = value
    out["version"] = entry.version
    if detail:
        out["updated_at"] = iso(entry.updated_at)
        out["created_at"] = iso(entry.created_at)
        if entry.last_edited_by:
            out["last_edited_by"] = entry.last_edited_by
        if entry.mentions:
            out["mentions"] = list(entry.mentions)
    if entry.deleted_at is not None:
        out["deleted_at"] = iso(entry.deleted_at)
    if include_content:
        content, truncated = _cut(entry.content, content_limit)
        out["content"] = content
        if truncated:
            out["content_truncated"] = True
            out["content_length"] = len(entry.content)
    else:
        out["content_length"] = len(entry.content)
    return out


def shrink_content(item: dict[str, Any], budget: int) -> dict[str, Any]:
    """Cut ``item['content']`` so the item's JSON fits in ``budget`` characters, if it can."""
    content = item.get("content")
    size = json_size(item)
    if not isinstance(content, str) or size <= budget:
        return item
    full = item.get("content_length", len(content))
    keep = max(0, len(content) - (size - budget) - len(ELLIPSIS) - 32)
    # JSON escaping can make characters longer than one; shrink until it fits.
    while True:
        cut = content[:keep] + ELLIPSIS
        shrunk = {**item, "content": cut, "content_truncated": True, "content_length": full}
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
    }
    if attachment.width is not None:
        out["width"] = attachment.width
        out["height"] = attachment.height
    out["position"] = attachment.position
    if attachment.filename:
        out["filename"] = attachment.filename
    if attachment.captured_at is not None:
        out["captured_at"] = iso(attachment.captured_at)
    return out


def attachment_text(item: dict[str, Any]) -> str:
    """Describe an attachment dict in one line."""
    parts = [item["mime_type"], f"{item['file_size']:,} bytes"]
    if item.get("width") is not None:
        parts.append(f"{item['width']}x{item['height']} px")
    if item.get("filename"):
        parts.append(item["filename"])
    parts.append(f"position {item['position']}")
    if item.get("captured_at"):
        parts.append(f"taken {item['captured_at']}")
    return f"image {item['attachment_id']} of entry {item['entry_id']}: " + ", ".join(parts)


def settings_dict(settings: EntrySettings) -> dict[str, Any]:
    """Return the entry settings that are on, in ``update_stream``'s vocabulary."""
    out: dict[str, Any] = {
        name: True
        for name in settings.__struct_fields__
        if name.startswith("use_")
        if getattr(settings, name)
    }
    if settings.use_status:
        out["statuses"] = list(settings.statuses)
        if settings.default_status:
            out["default_status"] = settings.default_status
    if settings.use_type:
        out["types"] = list(settings.types)
    if settings.use_rating:
        out["rating_type"] = settings.rating_type
        out["rating_max"] = settings.rating_max
    for template in ("content_template", "title_template"):
        if getattr(settings, template) is not None:
            out[template] = getattr(settings, template)
    return out


def stream_dict(stream: Stream, *, with_settings: bool = False) -> dict[str, Any]:
    """Return the compact JSON form of a stream; ``with_settings`` adds ``entry_settings``.

    ``entry_settings`` holds only the settings that are on (``use_*`` flags that
    are true, and the values they bring), in ``update_stream``'s vocabulary.
    """
    out: dict[str, Any] = {
        "stream_id": str(stream.stream_id),
        "name": stream.name,
        "entry_count": stream.entry_count,
    }
    if stream.description:
        out["description"] = stream.description
    if stream.is_private:
        out["is_private"] = True
    if stream.is_archived:
        out["is_archived"] = True
    if with_settings:
        if stream.color:
            out["color"] = stream.color
        if stream.icon:
            out["icon"] = stream.icon
        out["entry_settings"] = settings_dict(stream.entry_settings)
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
    snapshot = entry_dict(
        version.snapshot, stream, include_content=include_content, content_limit=content_limit
    )
    # The version and the time are the snapshot's own, said once above.
    snapshot.pop("version", None)
    snapshot.pop("updated_at", None)
    out["snapshot"] = snapshot
    return out


# --- readable text ----------------------------------------------------------------


def _facts(item: dict[str, Any], streams: Mapping[str, Mapping[str, Any]]) -> list[str]:
    stream = streams.get(item.get("stream_id") or "")
    if item.get("stream_id"):
        facts = [f"stream {stream['name']}" if stream else f"stream {item['stream_id']}"]
    else:
        facts = ["Inbox"]
    if item.get("tags"):
        facts.append("tags " + ", ".join(item["tags"]))
    for name in ("status", "type"):
        if item.get(name):
            facts.append(f"{name} {item[name]}")
    if item.get("priority"):
        p = item["priority"]
        facts.append(f"priority {PRIORITY_LABELS[p] if 0 <= p < len(PRIORITY_LABELS) else p}")
    if item.get("rating") is not None:
        scale = stream.get("rating_scale") if stream else None
        facts.append(f"rating {item['rating']}" + (f" ({scale})" if scale else ""))
    if item.get("due_date"):
        facts.append(f"due {item['due_date']}")
    if item.get("place_name") or item.get("city"):
        facts.append("at " + ", ".join(str(item[k]) for k in ("place_name", "city") if item.get(k)))
    if item.get("is_pinned"):
        facts.append("pinned")
    if item.get("is_archived"):
        facts.append("archived")
    if item.get("image_count"):
        facts.append(f"{item['image_count']} image" + ("s" if item["image_count"] > 1 else ""))
    if item.get("deleted_at"):
        facts.append(f"deleted {item['deleted_at']}")
    if item.get("restorable_until"):
        facts.append(f"restorable until {item['restorable_until']}")
    if "version" in item:
        facts.append(f"v{item['version']}")
    if "content" not in item and "content_length" in item:
        facts.append(f"{item['content_length']:,} characters")
    return facts


def entry_text(item: dict[str, Any], streams: Mapping[str, Mapping[str, Any]] | None = None) -> str:
    """Render an entry dict (from :func:`entry_dict`) as a short Markdown block.

    ``streams`` (stream id → :func:`stream_context`) gives stream names and rating scales.
    """
    head = " · ".join(
        (
            item.get("title") or "(untitled)",
            item.get("entry_date") or "",
            f"id {item['entry_id']}",
        )
    )
    lines = [f"### {head}", " · ".join(_facts(item, streams or {}))]
    if item.get("snippet"):
        lines.append(f"> {item['snippet']}")
    if item.get("preview"):
        lines.append(f"Starts: {item['preview']}")
    if "content" in item:
        lines.append("")
        lines.append(item["content"])
        if item.get("content_truncated"):
            lines.append(f"[content cut: {item['content_length']:,} characters in full]")
    return "\n".join(lines)


def streams_text(streams: Mapping[str, Mapping[str, Any]]) -> str:
    """Describe the streams an answer names, one line each (their rules for writing)."""
    return "\n".join(f"- {context_text(c)} (id {sid})" for sid, c in streams.items())


def context_text(context: Mapping[str, Any]) -> str:
    """Describe one stream context in a line."""
    line = f"{context['name']}: uses " + (", ".join(context["uses"]) or "no optional fields")
    if context.get("statuses"):
        line += "; statuses " + ", ".join(context["statuses"])
        if context.get("default_status"):
            line += f" (default {context['default_status']})"
    if context.get("types"):
        line += "; types " + ", ".join(context["types"])
    if context.get("rating_scale"):
        line += f"; rating {context['rating_scale']}"
    return line


def stream_text(item: dict[str, Any]) -> str:
    """Render a stream dict as one line (plus its settings when present)."""
    line = f"- {item['name']} (id {item['stream_id']}): {item['entry_count']} entries"
    for flag in ("is_private", "is_archived"):
        if item.get(flag):
            line += ", " + flag.removeprefix("is_")
    if item.get("description"):
        line += f" — {item['description']}"
    for name in ("color", "icon"):
        if item.get(name):
            line += f"; {name} {item[name]}"
    settings = item.get("entry_settings")
    if settings is not None:
        used = [k for k, v in settings.items() if k.startswith("use_") and v is True]
        line += "\n  settings on: " + (", ".join(used) or "none")
        if settings.get("statuses") is not None:
            line += "; statuses " + ", ".join(settings["statuses"])
            if settings.get("default_status"):
                line += f" (default_status {settings['default_status']})"
        if settings.get("types") is not None:
            line += "; types " + ", ".join(settings["types"])
        if settings.get("rating_type"):
            line += f"; rating_type {settings['rating_type']} (rating_max {settings['rating_max']})"
    return line
