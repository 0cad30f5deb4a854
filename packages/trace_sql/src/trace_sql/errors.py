"""Translate database driver errors into :mod:`trace_core.errors` at the adapter edge."""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from trace_core.errors import (
    ConflictError,
    InvalidInputError,
    TraceError,
    UnavailableError,
)

__all__ = ["translate_error"]


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
