"""Translate database driver errors into :mod:`trace_core.errors` at the adapter edge.

:func:`translate_error` names the Trace error for one driver error;
:func:`translated_errors` is the one context manager every ``trace_sql``
block that talks to the database runs in, so no call site writes its own
``try``/``except``.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import exc as sa_exc

from trace_core.errors import (
    ConflictError,
    InvalidInputError,
    TraceError,
    UnavailableError,
)

__all__ = ["ErrorTranslation", "translate_error", "translated_errors"]


def translate_error(exc: BaseException, *, conflict: str | None = None) -> TraceError | None:
    """Return the Trace error for a driver error, or None when it is not one we translate.

    The driver's message is never copied into the Trace error: it can contain
    SQL and row values. Callers ``raise translated from exc`` so it stays in
    the traceback for operators.

    Args:
        exc: the exception raised by SQLAlchemy or the driver.
        conflict: the message for an integrity violation (duplicate, missing parent).

    """
    # Postgres reports the kind of failure as a SQLSTATE; SQLAlchemy's asyncpg
    # adapter does not always map it onto the DBAPI exception classes.
    sqlstate = str(getattr(getattr(exc, "orig", None), "sqlstate", None) or "")
    if isinstance(exc, sa_exc.IntegrityError) or sqlstate.startswith("23"):
        return ConflictError(conflict or "the write conflicts with stored data")
    if isinstance(exc, sa_exc.DataError) or sqlstate.startswith("22"):
        # e.g. a NUL character, which Postgres text and JSON cannot hold.
        return InvalidInputError("value", "the database refused a value (bad characters or size)")
    if sqlstate.startswith("40"):
        # Serialization failure or deadlock: the other transaction won; retrying works.
        return ConflictError("the write collided with a concurrent one; retry")
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError):
        return UnavailableError("storage is unavailable or busy; retry shortly")
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return UnavailableError("the database connection was lost; retry shortly")
    if isinstance(exc, OSError | TimeoutError):
        return UnavailableError("cannot reach the database")
    return None


class ErrorTranslation:
    """A block whose database errors leave it as :mod:`trace_core.errors` errors.

    Made by :func:`translated_errors`; a plain (synchronous) context manager,
    so it wraps ``await`` calls and the ``yield`` of an async context manager
    alike. Built per block: it is a class rather than a generator-based
    ``contextmanager`` because repositories enter one per statement.

    Attributes:
        callers_code: set while the block runs the caller's own code (the
            ``yield`` of a transaction): an ``OSError`` raised there, say by a
            blob write, is not a database failure and goes through unchanged.

    """

    __slots__ = ("_conflict", "_errors", "_unavailable", "callers_code")

    def __init__(
        self,
        conflict: str | None,
        unavailable: str | None,
        driver_errors: tuple[type[Exception], ...],
    ) -> None:
        self._conflict = conflict
        self._unavailable = unavailable
        self._errors = (sa_exc.DBAPIError, OSError, *driver_errors)
        self.callers_code = False

    def __enter__(self) -> ErrorTranslation:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, self._errors):
            return
        if self.callers_code and not isinstance(exc, sa_exc.DBAPIError):
            return
        translated = translate_error(exc, conflict=self._conflict)
        if translated is None and self._unavailable is not None:
            translated = UnavailableError(self._unavailable)
        if translated is not None:
            raise translated from exc


def translated_errors(
    *,
    conflict: str | None = None,
    unavailable: str | None = None,
    driver_errors: tuple[type[Exception], ...] = (),
) -> ErrorTranslation:
    """Return a context manager re-raising database errors as Trace errors, ``from`` the original.

    SQLAlchemy's ``DBAPIError``, ``OSError`` and ``driver_errors`` raised in
    the block are translated by :func:`translate_error`; any other exception
    (a Trace error included) goes through untouched::

        with translated_errors(conflict="that stream name is taken"):
            await conn.execute(statement)

    Args:
        conflict: the message for an integrity violation (duplicate, missing parent).
        unavailable: the message of the :class:`~trace_core.errors.UnavailableError`
            raised for a caught error :func:`translate_error` has no answer
            for; None lets such an error through unchanged.
        driver_errors: the driver's own error types, for code that talks to
            the driver connection directly (``sqlite3.Error``, ``asyncpg.PostgresError``).

    """
    return ErrorTranslation(conflict, unavailable, driver_errors)
