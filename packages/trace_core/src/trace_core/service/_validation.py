"""Entry values checked against limits and the stream's settings, and list filters."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import msgspec

from trace_core.errors import InvalidInputError, quote
from trace_core.model import Entry, EntryFilter, EntrySettings, Principal, Stream
from trace_core.ports import UnitOfWork
from trace_core.service._base import FacadeBase
from trace_core.service._text import check_controls, check_length, clean_text
from trace_core.tags import tag_key

SETTING_OF: dict[str, str] = {
    "status": "use_status",
    "type": "use_type",
    "rating": "use_rating",
    "priority": "use_priority",
    "due_date": "use_duedates",
}
"""The entry fields a stream switches on and off, with the setting that does it."""

_CLEARED: dict[str, object] = {"priority": 0}
"""What a field holds when cleared (None unless named here)."""


def has_value(field: str, value: object) -> bool:
    """Whether ``value`` of ``field`` is something a stream setting would have to allow."""
    return value is not None and value != _CLEARED.get(field)


def forbidden_by(stream: Stream, field: str, value: object) -> str | None:
    """Say why ``stream`` does not take ``value`` for ``field`` (None when it does).

    A field whose setting is off takes nothing; a status or type must also be
    one of the stream's listed values when it lists any.
    """
    if not has_value(field, value):
        return None
    settings = stream.entry_settings
    setting = SETTING_OF.get(field)
    if setting is not None and not getattr(settings, setting):
        return f"{setting} is off"
    allowed = {"status": settings.statuses, "type": settings.types}.get(field)
    if allowed and value not in allowed:
        return f"{quote(value)} is not one of its {field}s ({', '.join(allowed)})"
    return None


class EntryValidation(FacadeBase):
    """Checks on entry fields and filters; each error names the field."""

    @staticmethod
    def _check_used(field: str, value: object, stream: Stream | None) -> None:
        """Refuse a value for a field the stream does not use (the Inbox takes any)."""
        if stream is None or not has_value(field, value):
            return
        setting = SETTING_OF[field]
        if not getattr(stream.entry_settings, setting):
            raise InvalidInputError(
                field,
                f"stream {stream.name!r} does not use {field} (its setting {setting} is off): "
                f"leave {field} out, or turn {setting} on with update_stream",
                setting=setting,
            )

    def _disallowed_on_move(
        self, current: Entry, changes: dict[str, object], stream: Stream | None
    ) -> dict[str, str]:
        """Return the fields a moved entry keeps whose values ``stream`` does not take.

        Only values the update does not set itself count (those were checked as
        they came); the Inbox takes every value.
        """
        if stream is None:
            return {}
        reasons: dict[str, str] = {}
        for field in SETTING_OF:
            if field in changes:
                continue
            reason = forbidden_by(stream, field, getattr(current, field))
            if reason is not None:
                reasons[field] = reason
        return reasons

    @staticmethod
    def _cleared(field: str) -> object:
        return _CLEARED.get(field)

    def _check_content(self, content: object) -> str:
        if not isinstance(content, str):
            raise InvalidInputError("content", "must be a string of Markdown")
        maximum = self.limits.max_content_bytes
        # A character is at least one byte: the length alone can refuse most
        # oversized texts before anything walks them.
        if len(content) > maximum:
            raise InvalidInputError(
                "content", f"is {len(content):,} characters long; at most {maximum:,} bytes"
            )
        if not content.strip():
            raise InvalidInputError("content", "must not be empty")
        size = len(content.encode("utf-8"))
        if size > maximum:
            raise InvalidInputError("content", f"is {size:,} bytes; at most {maximum:,} bytes")
        check_controls("content", content, multiline=True)
        return content

    def _check_tags(self, tags: Sequence[str]) -> tuple[str, ...]:
        if isinstance(tags, str) or not isinstance(tags, Sequence):
            raise InvalidInputError("tags", "must be a list of strings")
        if len(tags) > self.limits.max_tags:
            raise InvalidInputError(
                "tags", f"has {len(tags):,} tags; at most {self.limits.max_tags}"
            )
        cleaned: list[str] = []
        keys: set[str] = set()
        for tag in tags:
            if not isinstance(tag, str):
                raise InvalidInputError("tags", f"{quote(tag)} is not a string")
            if len(tag) > self.limits.max_tag_chars:
                raise InvalidInputError(
                    "tags",
                    f"tag {quote(tag)} is longer than {self.limits.max_tag_chars} characters",
                )
            text = unicodedata.normalize("NFC", tag.strip())
            text = text.removeprefix("#").strip()
            if not text:
                continue
            check_controls("tags", text)
            key = tag_key(text)
            if key not in keys:
                keys.add(key)
                cleaned.append(text)
        return tuple(cleaned)

    async def _spelled(
        self, uow: UnitOfWork, principal: Principal, tags: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Return checked ``tags`` in the spellings the account already uses for them."""
        if not tags:
            return tags
        known = await uow.entries.tag_spellings(principal.account_id, [tag_key(t) for t in tags])
        return tuple(dict.fromkeys(known.get(tag_key(tag), tag) for tag in tags))

    def _check_choice(
        self, field: str, value: str | None, allowed: tuple[str, ...], stream: Stream | None
    ) -> str | None:
        value = clean_text(field, value, self.limits.max_choice_chars)
        if value is None:
            return None
        if stream is not None and allowed and value not in allowed:
            raise InvalidInputError(
                field,
                f"{quote(value)} is not allowed in stream {stream.name!r}",
                allowed=allowed,
            )
        return value

    @staticmethod
    def _check_priority(value: int | None) -> int:
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 4:
            raise InvalidInputError(
                "priority",
                f"{quote(value)} is not a priority (0 none, 1 low, 2 medium, 3 high, 4 urgent)",
                allowed=[0, 1, 2, 3, 4],
            )
        return value

    @staticmethod
    def _check_rating(value: float | None, stream: Stream | None) -> int | None:
        """Convert a rating in display units to the stored 0-10 value."""
        if value is None:
            return None
        settings = stream.entry_settings if stream else EntrySettings(rating_type="numeric")
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInputError("rating", f"{quote(value)} is not a number")
        maximum = settings.rating_max
        if settings.rating_type == "stars":
            stored = value * 2
            if not 0 <= value <= maximum or stored != int(stored):
                raise InvalidInputError(
                    "rating",
                    f"{quote(value)} is not a star rating: 0 to {maximum} in steps of 0.5",
                )
            return int(stored)
        if not 0 <= value <= maximum or value != int(value):
            raise InvalidInputError(
                "rating", f"{quote(value)} is not a whole number from 0 to {maximum}"
            )
        return int(value)

    @staticmethod
    def _check_date(field: str, value: object) -> date | None:
        if value is None:
            return None
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidInputError(field, f"{quote(value)} is not a date (YYYY-MM-DD)")
        return value

    def _check_query(self, field: str, text: object) -> None:
        if isinstance(text, str):
            check_length(field, text, self.limits.max_query_chars)
            check_controls(field, text, multiline=True)

    async def _check_filters(
        self, uow: UnitOfWork, principal: Principal, filters: EntryFilter
    ) -> EntryFilter:
        if not isinstance(filters.stream, UUID) and filters.stream not in ("all", "inbox"):
            raise InvalidInputError(
                "stream_id",
                f"{quote(filters.stream)} is not a stream id",
                allowed=["all", "inbox"],
            )
        if filters.tags_mode not in ("any", "all"):
            raise InvalidInputError("tags_mode", "must be any or all", allowed=["any", "all"])
        if filters.start_date and filters.end_date and filters.start_date > filters.end_date:
            raise InvalidInputError("start_date", "is after end_date")
        for field in ("status", "type"):
            value = getattr(filters, field)
            if value is not None:
                if not isinstance(value, str):
                    raise InvalidInputError(field, "must be a string")
                check_length(field, value, self.limits.max_choice_chars)
                check_controls(field, value)
        tags = self._check_tags(filters.tags)
        if tags:
            # Filters compare stored spellings: ask for the account's spelling of each.
            if uow is None:
                async with self.storage.unit_of_work() as reader:
                    tags = await self._spelled(reader, principal, tags)
            else:
                tags = await self._spelled(uow, principal, tags)
        self._check_query("query", filters.text)
        text = filters.text.strip() if isinstance(filters.text, str) else None
        if isinstance(filters.stream, UUID):
            await self._stream(uow, principal, filters.stream)
        return msgspec.structs.replace(filters, tags=tags, text=text or None)
