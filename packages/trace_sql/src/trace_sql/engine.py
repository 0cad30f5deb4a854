"""Async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg), configured for Trace."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from trace_core.errors import InvalidInputError
from trace_sql.types import py_casefold

__all__ = [
    "BEGIN_MODE_OPTION",
    "SQLITE_BUSY_TIMEOUT_S",
    "create_engine",
    "normalize_url",
    "sqlite_url",
]

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for the write lock before giving up."""

BEGIN_MODE_OPTION = "trace_begin_mode"
"""Execution option read by the SQLite ``begin`` hook: ``"IMMEDIATE"`` takes the write lock."""


def _json_serializer(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def sqlite_url(path: str | os.PathLike[str]) -> str:
    """Return the async SQLAlchemy URL of the SQLite database file at ``path``."""
    return f"sqlite+aiosqlite:///{Path(path).resolve()}"


def normalize_url(url: str | URL) -> URL:
    """Pick Trace's async driver for a database URL.

    ``sqlite:///…`` becomes ``sqlite+aiosqlite:///…`` and ``postgres://…`` or
    ``postgresql://…`` becomes ``postgresql+asyncpg://…``.

    Raises:
        InvalidInputError: the URL names a database Trace does not support.

    """
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as exc:
        raise InvalidInputError("database_url", "not a database URL") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+asyncpg")
    raise InvalidInputError(
        "database_url",
        f"unsupported database {backend!r}",
        allowed=["sqlite+aiosqlite", "postgresql+asyncpg"],
    )


def _is_memory_sqlite(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or "mode=memory" in str(url)


def create_engine(url: str | URL, *, echo: bool = False, **kwargs: Any) -> AsyncEngine:
    """Create an async engine for ``url`` with Trace's connection settings.

    SQLite: WAL journal, ``foreign_keys=ON``, a busy timeout, and SQLAlchemy
    (not the sqlite3 module) emits ``BEGIN`` so a unit of work can ask for
    ``BEGIN IMMEDIATE`` (see :data:`BEGIN_MODE_OPTION`). The parent directory of
    a database file is created if missing.

    Args:
        url: a SQLite or PostgreSQL URL (the driver is picked by :func:`normalize_url`).
        echo: log every statement (debugging only).
        **kwargs: passed on to :func:`sqlalchemy.ext.asyncio.create_async_engine`.

    """
    parsed = normalize_url(url)
    options: dict[str, Any] = {
        "echo": echo,
        "json_serializer": _json_serializer,
        "json_deserializer": msgspec.json.decode,
    }
    if parsed.get_backend_name() == "sqlite":
        memory = _is_memory_sqlite(parsed)
        if not memory and parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_S}
        options.update(kwargs)
        engine = create_async_engine(parsed, **options)
        _configure_sqlite(engine, wal=not memory)
        return engine
    options["pool_pre_ping"] = True
    options.update(kwargs)
    return create_async_engine(parsed, **options)


def _configure_sqlite(engine: AsyncEngine, *, wal: bool) -> None:
    busy_ms = int(SQLITE_BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of the sqlite3
        # module's implicit, deferred transactions.
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function("trace_casefold", 1, py_casefold, deterministic=True)
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                # Durable at checkpoints; the usual pairing with WAL.
                cursor.execute("PRAGMA synchronous=NORMAL")
                # 8 MB page cache per connection (default 2 MB): helps index upkeep on bulk
                # imports; more barely speeds reads (the OS caches the file) but costs
                # RSS on every pooled connection (32 MB: 234 MB peak under MCP load).
                cursor.execute("PRAGMA cache_size=-8000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A write unit of work takes the write lock up front: a deferred
        # transaction that reads, then writes, fails with SQLITE_BUSY when
        # another writer committed in between (its snapshot is stale).
        if conn.get_execution_options().get(BEGIN_MODE_OPTION) == "IMMEDIATE":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
