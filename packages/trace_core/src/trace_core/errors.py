"""The Trace error tree.

Every failure a use case can report is a subclass of :class:`TraceError` with a
stable, machine-readable ``code``. Adapters translate their driver's errors into
these at their edge; transports map them to their wire form in one place::

    TraceError                  code
    ├── NotFoundError           not_found
    ├── ConflictError           conflict
    │   └── VersionConflictError  version_conflict
    ├── PermissionDeniedError   permission_denied
    │   ├── InsufficientScopeError  insufficient_scope
    │   └── PlanRequiredError   plan_required
    ├── AuthenticationError     unauthenticated
    ├── InvalidInputError       invalid_input
    ├── RateLimitedError        rate_limited
    └── UnavailableError        unavailable
"""

from __future__ import annotations

import math
import reprlib
from typing import Any, ClassVar

from trace_core.limits import QUOTE_CHARS

__all__ = [
    "AuthenticationError",
    "ConflictError",
    "InsufficientScopeError",
    "InvalidInputError",
    "NotFoundError",
    "PermissionDeniedError",
    "PlanRequiredError",
    "RateLimitedError",
    "TraceError",
    "UnavailableError",
    "VersionConflictError",
    "quote",
    "retry_after_seconds",
]

# reprlib stops early inside long lists and dicts, so quoting one costs little too.
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 2
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxdict = 6
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = QUOTE_CHARS


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """Return ``value`` for an error message: its ``repr``, cut to ``limit`` characters.

    Errors name the bad value so a person or model sees what was wrong, but a
    message never carries more than a short prefix of it: an error about a
    megabyte-long id stays a line long.
    """
    if isinstance(value, str | bytes) and len(value) > limit:
        unit = "characters" if isinstance(value, str) else "bytes"
        shown = repr(value[:limit])
        return f"{shown[:-1]}…{shown[-1]} ({len(value):,} {unit})"
    try:
        text = _SHORT_REPR.repr(value)
    except ValueError:  # an integer too long to print
        return f"<{type(value).__name__}>"
    return text if len(text) <= limit + 2 else f"{text[: limit + 2]}…"


class TraceError(Exception):
    """Base of every error Trace reports on purpose."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready description: ``{"code", "message", **details}``."""
        return {"code": self.code, "message": self.message, **self.details}


class NotFoundError(TraceError):
    """The thing does not exist, or the caller may not know it exists."""

    code = "not_found"

    def __init__(self, kind: str, ident: object) -> None:
        shown = str(ident)
        if len(shown) > QUOTE_CHARS:
            shown = f"{shown[:QUOTE_CHARS]}…"
        super().__init__(f"{kind} {shown} not found", kind=kind, id=shown)
        self.kind = kind


class ConflictError(TraceError):
    """The write conflicts with the current state (e.g. a duplicate name)."""

    code = "conflict"


class VersionConflictError(ConflictError):
    """``expected_version`` did not match the entry's current version."""

    code = "version_conflict"

    def __init__(self, entry_id: object, expected: int, current: int) -> None:
        super().__init__(
            f"version conflict on entry {entry_id}: expected version {expected}, "
            f"but the entry is at version {current}; fetch it again and retry",
            entry_id=str(entry_id),
            expected_version=expected,
            current_version=current,
        )
        self.expected_version = expected
        self.current_version = current


class PermissionDeniedError(TraceError):
    """The caller is known but may not do this."""

    code = "permission_denied"


class InsufficientScopeError(PermissionDeniedError):
    """The key or token lacks the scope the operation needs (e.g. ``full``)."""

    code = "insufficient_scope"

    def __init__(self, required: str, operation: str) -> None:
        super().__init__(
            f"{operation} needs the '{required}' scope: use a Full Access key or grant",
            required_scope=required,
            operation=operation,
        )
        self.required_scope = required


class PlanRequiredError(PermissionDeniedError):
    """The account's plan does not include integrations."""

    code = "plan_required"


class AuthenticationError(TraceError):
    """No valid credential: the key or token is missing, invalid, revoked or expired."""

    code = "unauthenticated"


class InvalidInputError(TraceError):
    """Bad input; names the field and, where there are any, the allowed values.

    Extra keyword arguments become details too (``fields_to_clear`` of a refused move).
    """

    code = "invalid_input"

    def __init__(
        self,
        field: str,
        message: str,
        *,
        allowed: list[Any] | tuple[Any, ...] | None = None,
        **extra: Any,
    ) -> None:
        text = f"{field}: {message}"
        details: dict[str, Any] = {"field": field}
        if allowed is not None:
            text += f" (allowed: {', '.join(map(str, allowed)) if allowed else 'none'})"
            details["allowed"] = list(allowed)
        details.update(extra)
        super().__init__(text, **details)
        self.field = field
        self.allowed = list(allowed) if allowed is not None else None


class RateLimitedError(TraceError):
    """Too many requests; ``retry_after`` seconds until the next one is allowed."""

    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"rate limit exceeded; retry after {retry_after:.0f} s", retry_after=retry_after
        )
        self.retry_after = retry_after


def retry_after_seconds(seconds: float) -> int:
    """Return the whole seconds a ``Retry-After`` announces: rounded up, at least 1."""
    return max(1, math.ceil(seconds))


class UnavailableError(TraceError):
    """A backing service is down (e.g. search temporarily unavailable)."""

    code = "unavailable"
