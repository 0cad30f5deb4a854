"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction

__all__ = ["JSONType", "UTCDateTime", "casefold", "py_casefold"]

JSONType = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON on SQLite (text), JSONB on PostgreSQL."""


class UTCDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime that round-trips exactly on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so the value is
    stored as naive UTC text (fixed width with microseconds, so it sorts
    correctly) and UTC is attached again on read. Naive datetimes are refused:
    they are always a bug in the caller.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Normalise to UTC; drop the tzinfo for SQLite."""
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: Trace stores timezone-aware UTC only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


def py_casefold(value: str | None) -> str | None:
    """Python's ``str.casefold``, registered in SQLite as ``trace_casefold``."""
    return None if value is None else value.casefold()


class casefold(GenericFunction[str]):  # noqa: N801 - reads like the SQL function it is
    """``casefold(text)`` in SQL: Unicode case folding, as Python compares text.

    SQLite's ``lower()`` folds only ASCII, so SQLite calls Python's casefold
    (registered on every connection by :func:`trace_sql.engine.create_engine`);
    PostgreSQL uses its Unicode-aware ``lower()``.
    """

    type = sa.String()
    name = "trace_casefold"
    inherit_cache = True


@compiles(casefold, "postgresql")
def _casefold_postgresql(element: casefold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"
