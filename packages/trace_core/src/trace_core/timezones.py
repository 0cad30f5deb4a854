"""The person's day: IANA time zone names checked, and "today" in an account's zone.

An account's ``time_zone`` (an IANA name such as ``Europe/Paris``, default ``UTC``)
decides which calendar day "today" is for it: the default ``entry_date`` of a new
entry and the ``overdue`` filter. Zone data comes from the ``tzdata`` package when
the system has none (Windows, slim container images).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from trace_core.errors import InvalidInputError, quote

__all__ = ["DEFAULT_TIME_ZONE", "check_time_zone", "today_in"]

DEFAULT_TIME_ZONE = "UTC"
"""The zone of an account that never set one."""

_MAX_ZONE_CHARS = 64
_EXAMPLE = "an IANA time zone name, for example Europe/Paris, America/New_York or UTC"


@cache
def _zones_by_folded_name() -> dict[str, str]:
    # Scans the zone database once; only reached for a name that is not spelled exactly.
    # Some systems list their own files too: ``localtime`` is the server's zone, not a name.
    return {
        name.casefold(): name
        for name in available_timezones()
        if name not in ("localtime", "posixrules", "Factory")
    }


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def check_time_zone(value: object, field: str = "time_zone") -> str:
    """Return the canonical spelling of an IANA time zone name, or raise naming ``field``.

    The name is matched case-insensitively (``europe/paris`` → ``Europe/Paris``).

    Raises:
        InvalidInputError: not a string, or not a zone the zone database knows.

    """
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_ZONE_CHARS:
        raise InvalidInputError(field, f"{quote(value)} is not {_EXAMPLE}")
    text = value.strip()
    try:
        _zone(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        canonical = _zones_by_folded_name().get(text.casefold())
        if canonical is None:
            raise InvalidInputError(field, f"{quote(value)} is not {_EXAMPLE}") from None
        return canonical
    # ZoneInfo also opens names that are not in the list (``localtime``, ``posixrules``):
    # keep only the listed ones, in their listed spelling.
    canonical = _zones_by_folded_name().get(text.casefold())
    if canonical is None:
        raise InvalidInputError(field, f"{quote(value)} is not {_EXAMPLE}")
    return canonical


def today_in(now: datetime, time_zone: str) -> date:
    """Return the calendar day ``now`` (an aware datetime) falls on in ``time_zone``."""
    if time_zone == DEFAULT_TIME_ZONE:
        return now.astimezone(UTC).date()
    try:
        zone = _zone(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # A stored zone the database no longer knows: fall back to UTC, never fail a write.
        zone = _zone(DEFAULT_TIME_ZONE)
    return now.astimezone(zone).date()
