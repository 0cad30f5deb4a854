"""Parsing of loosely typed transport input (JSON, CLI flags) into core values.

Every transport turns strings into ids and dates the same way, and every failure
names the field, so a person or model learns exactly what to fix. A failure
quotes at most a short prefix of the bad value (:func:`~trace_core.errors.quote`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from uuid import UUID

from trace_core.errors import InvalidInputError, quote
from trace_core.limits import MAX_DATE_CHARS, MAX_ID_CHARS

__all__ = ["parse_date", "parse_datetime", "parse_uuid", "split_tags"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_uuid(field: str, value: object) -> UUID:
    """Return ``value`` as a UUID, or raise an error naming ``field``."""
    if isinstance(value, UUID):
        return value
    if isinstance(value, str) and len(value) <= MAX_ID_CHARS:
        try:
            return UUID(value.strip())
        except ValueError:
            pass
    raise InvalidInputError(field, f"{quote(value)} is not a valid id (expected a UUID)")


def parse_date(field: str, value: object) -> date:
    """Return ``value`` (``YYYY-MM-DD``) as a date, or raise an error naming ``field``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value) <= MAX_DATE_CHARS and _DATE.match(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInputError(field, f"{quote(value)} is not a valid date (expected YYYY-MM-DD)")


def parse_datetime(field: str, value: object) -> datetime:
    """Return an ISO 8601 timestamp as an aware UTC datetime (naive means UTC)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= MAX_DATE_CHARS:
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidInputError(
                field, f"{quote(value)} is not a valid timestamp (expected ISO 8601)"
            ) from None
    else:
        raise InvalidInputError(
            field, f"{quote(value)} is not a valid timestamp (expected ISO 8601)"
        )
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def split_tags(value: str) -> tuple[str, ...]:
    """Split a comma-separated tag list (CLI style) into tags, dropping blanks."""
    return tuple(t.strip() for t in value.split(",") if t.strip())
