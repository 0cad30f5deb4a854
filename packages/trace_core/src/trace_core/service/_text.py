"""Checks on text shared by every use case: length first, control characters, trimming."""

from __future__ import annotations

import re

from trace_core.errors import InvalidInputError


def has_text(text: object) -> bool:
    """Whether ``text`` is a string with something besides white space."""
    return isinstance(text, str) and bool(text.strip())


MENTION = re.compile(r"(?<![\w@./])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9_])?)")
COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
ICON = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


def parse_mentions(content: str) -> tuple[str, ...]:
    """Return the ``@name`` mentions in Markdown content, first occurrence order, no duplicates."""
    seen: dict[str, None] = {}
    for match in MENTION.finditer(content):
        seen.setdefault(match.group(1), None)
    return tuple(seen)


# Text never holds C0 control characters (NUL above all: PostgreSQL cannot store
# it, SQLite can, so an export would not move between them). Text that is a
# page of Markdown keeps tabs and line breaks; one-line text (titles, tags,
# names, statuses) has none.
CONTROL = re.compile(r"[\x00-\x1f]")
CONTROL_IN_PAGE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_length(field: str, value: str, max_chars: int) -> None:
    """Refuse ``value`` longer than ``max_chars``, naming ``field``."""
    # Checked before any other work on the text, so that work is bounded too.
    if len(value) > max_chars:
        raise InvalidInputError(field, f"is {len(value):,} characters long; at most {max_chars:,}")


def check_controls(field: str, value: str, *, multiline: bool = False) -> None:
    """Refuse control characters (tabs and line breaks too unless ``multiline``)."""
    found = (CONTROL_IN_PAGE if multiline else CONTROL).search(value)
    if found:
        allowed = "no control characters but tabs and line breaks" if multiline else "none"
        raise InvalidInputError(
            field,
            f"holds the control character U+{ord(found.group()):04X} at position "
            f"{found.start()}; control characters allowed: {allowed}",
        )


def clean_text(
    field: str, value: str | None, max_chars: int, *, multiline: bool = False
) -> str | None:
    """Return ``value`` trimmed (None if blank), after the length and control checks."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(field, "must be a string")
    check_length(field, value, max_chars)
    value = value.strip()
    if not value:
        return None
    check_controls(field, value, multiline=multiline)
    return value
