"""Turn the pages' form fields into the facade's typed inputs, naming the field on errors."""

from __future__ import annotations

import uuid
from datetime import date

import msgspec
from msgspec import UNSET

from trace_core.errors import InvalidInputError
from trace_core.model import EntryDraft, EntryFilter, EntryPatch, EntrySettings, StreamSelector

__all__ = [
    "entry_draft",
    "entry_filter",
    "entry_patch",
    "entry_settings",
    "optional_int",
    "optional_uuid",
]


def _text(form: dict[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def optional_uuid(form: dict[str, str], name: str) -> uuid.UUID | None:
    """Return a UUID field, None when blank."""
    value = _text(form, name)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidInputError(name, f"{value!r} is not an id") from None


def optional_int(form: dict[str, str], name: str) -> int | None:
    """Return a whole-number field, None when blank."""
    value = _text(form, name)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise InvalidInputError(name, f"{value!r} is not a whole number") from None


def _float(form: dict[str, str], name: str) -> float | None:
    value = _text(form, name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise InvalidInputError(name, f"{value!r} is not a number") from None


def _date(form: dict[str, str], name: str) -> date | None:
    value = _text(form, name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(name, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _tags(form: dict[str, str]) -> tuple[str, ...]:
    return tuple(t.strip() for t in form.get("tags", "").split(",") if t.strip())


def entry_draft(form: dict[str, str]) -> EntryDraft:
    """Return ``create_entry``'s input from the new-entry form."""
    return EntryDraft(
        content=form.get("content", ""),
        title=_text(form, "title"),
        stream_id=optional_uuid(form, "stream_id"),
        tags=_tags(form),
        status=_text(form, "status"),
        type=_text(form, "type"),
        entry_date=_date(form, "entry_date"),
        due_date=_date(form, "due_date"),
        priority=optional_int(form, "priority"),
        rating=_float(form, "rating"),
        is_pinned=form.get("is_pinned") == "on",
    )


def entry_patch(form: dict[str, str]) -> EntryPatch:
    """Return ``update_entry``'s input from the edit form (every field it shows)."""
    entry_date = _date(form, "entry_date")
    return EntryPatch(
        content=form.get("content", ""),
        title=_text(form, "title"),
        stream_id=optional_uuid(form, "stream_id"),
        tags=_tags(form),
        status=_text(form, "status"),
        type=_text(form, "type"),
        entry_date=entry_date if entry_date is not None else UNSET,
        due_date=_date(form, "due_date"),
        priority=optional_int(form, "priority"),
        rating=_float(form, "rating"),
        is_pinned=form.get("is_pinned") == "on",
    )


def _choices(form: dict[str, str], name: str) -> tuple[str, ...]:
    seen: list[str] = []
    for line in form.get(name, "").replace(",", "\n").splitlines():
        value = line.strip()
        if value and value not in seen:
            seen.append(value)
    return tuple(seen)


def entry_settings(form: dict[str, str], base: EntrySettings | None = None) -> EntrySettings:
    """Return a stream's entry settings from the stream form (others kept from ``base``)."""
    rating_type = form.get("rating_type", "stars")
    if rating_type not in ("stars", "numeric"):
        raise InvalidInputError(
            "rating_type", f"{rating_type!r} is not a rating type", allowed=["stars", "numeric"]
        )
    statuses = _choices(form, "statuses")
    default_status = _text(form, "default_status")
    return msgspec.structs.replace(
        base or EntrySettings(),
        use_rating=form.get("use_rating") == "on",
        use_status=bool(statuses) or form.get("use_status") == "on",
        use_priority=form.get("use_priority") == "on",
        use_duedates=form.get("use_duedates") == "on",
        use_type=bool(_choices(form, "types")) or form.get("use_type") == "on",
        statuses=statuses,
        types=_choices(form, "types"),
        default_status=default_status,
        rating_type="numeric" if rating_type == "numeric" else "stars",
        content_template=form.get("content_template") or None,
    )


def entry_filter(query: dict[str, str], stream: StreamSelector = "all") -> EntryFilter:
    """Return ``list_entries``/search filters from a page's query string."""
    tags = _tags({"tags": query.get("tag", "")})
    pinned = query.get("pinned")
    archived = query.get("archived")
    return EntryFilter(
        stream=stream,
        tags=tags,
        status=_text(query, "status"),
        type=_text(query, "type"),
        is_pinned=True if pinned == "yes" else None,
        is_archived=None if archived == "any" else archived == "yes",
        start_date=_date(query, "from"),
        end_date=_date(query, "to"),
        text=_text(query, "q"),
    )
