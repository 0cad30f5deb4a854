"""Async engines for SQLite (aiosqlite) and PostgreSQL (asyncpg), configured for Trace."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Literal, get_args

import msgspec
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.util import await_

from trace_core.errors import InvalidInputError
from trace_sql.types import py_casefold

__all__ = [
    "BEGIN_MODE_OPTION",
    "PING_AFTER_IDLE_S",
    "SQLITE_BUSY_TIMEOUT_S",
    "SqliteSynchronous",
    "create_engine",
    "create_sqlite_reader",
    "normalize_url",
    "sqlite_url",
]

SQLITE_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite writer waits for the write lock before giving up."""

SqliteSynchronous = Literal["full", "normal"]
"""SQLite's ``PRAGMA synchronous`` for a database file in WAL mode.

``full`` (the default) syncs the WAL to disk on every commit: an acknowledged
write survives a power loss. ``normal`` syncs only at checkpoints: a process
crash loses nothing, but a power loss or OS crash may lose the last
acknowledged transactions (faster writes; see ``docs/benchmarks.md``).
"""

BEGIN_MODE_OPTION = "trace_begin_mode"
"""Execution option read by the SQLite ``begin`` hook: ``"IMMEDIATE"`` takes the write lock."""

PING_AFTER_IDLE_S = 5.0
"""A pooled Postgres connection idle at least this long is pinged before it is handed out.

Connections in steady use are not pinged at all (SQLAlchemy's ``pool_pre_ping``
costs three round trips, BEGIN, ``;`` and ROLLBACK, on every checkout). One that
sat idle, and may have been dropped meanwhile by a server restart, a proxy or
an idle timeout, costs one round trip; if that fails the pool replaces it.
"""

_PING_TIMEOUT_S = 10.0
"""A ping unanswered this long (a half-open TCP connection) counts as a dropped connection."""

_CHECKED_IN_AT = "trace_checked_in_at"


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


def _checked_synchronous(value: str) -> SqliteSynchronous:
    if value not in get_args(SqliteSynchronous):
        raise InvalidInputError(
            "sqlite_synchronous",
            f"unknown SQLite synchronous mode {value!r}",
            allowed=list(get_args(SqliteSynchronous)),
        )
    return value  # type: ignore[return-value]


def create_engine(
    url: str | URL,
    *,
    echo: bool = False,
    ping_after_idle_s: float = PING_AFTER_IDLE_S,
    sqlite_synchronous: SqliteSynchronous = "full",
    **kwargs: Any,
) -> AsyncEngine:
    """Create an async engine for ``url`` with Trace's connection settings.

    SQLite: WAL journal with ``synchronous`` as asked (:data:`SqliteSynchronous`,
    ``FULL`` by default), ``foreign_keys=ON``, a busy timeout, and SQLAlchemy
    (not the sqlite3 module) emits ``BEGIN`` so a unit of work can ask for
    ``BEGIN IMMEDIATE`` (see :data:`BEGIN_MODE_OPTION`). The parent directory of
    a database file is created if missing.

    PostgreSQL: a pooled connection that sat idle for ``ping_after_idle_s`` is
    pinged (one round trip) before use and replaced if the server dropped it.

    Args:
        url: a SQLite or PostgreSQL URL (the driver is picked by :func:`normalize_url`).
        echo: log every statement (debugging only).
        ping_after_idle_s: PostgreSQL: ping connections idle at least this long.
        sqlite_synchronous: SQLite file: ``full`` (durable on power loss) or ``normal``.
        **kwargs: passed on to :func:`sqlalchemy.ext.asyncio.create_async_engine`.

    Raises:
        InvalidInputError: an unsupported database or synchronous mode.

    """
    synchronous = _checked_synchronous(sqlite_synchronous)
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
        _configure_sqlite(engine.sync_engine, wal=not memory, synchronous=synchronous)
        return engine
    options.update(kwargs)
    engine = create_async_engine(parsed, **options)
    _ping_idle_connections(engine, ping_after_idle_s)
    return engine


def _ping_idle_connections(engine: AsyncEngine, idle_s: float) -> None:
    """Check a pooled connection's liveness on checkout, but only after an idle spell.

    SQLAlchemy's documented "pessimistic disconnect handling" with a custom
    check: raising :class:`~sqlalchemy.exc.DisconnectionError` from a checkout
    listener makes the pool discard the connection and hand out a fresh one.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(
        dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        checked_in_at = record.info.get(_CHECKED_IN_AT)
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_s:
            return  # just connected, or used moments ago
        try:
            # asyncpg's simple-query protocol: one round trip, no transaction.
            # Checkout runs inside SQLAlchemy's greenlet, so awaiting is allowed.
            await_(dbapi_connection.driver_connection.execute("SELECT 1", timeout=_PING_TIMEOUT_S))
        except Exception as exc:
            raise sa.exc.DisconnectionError(f"pooled connection is gone: {exc}") from exc


def create_sqlite_reader(
    async_engine: AsyncEngine, *, sqlite_synchronous: SqliteSynchronous = "full"
) -> sa.Engine | None:
    """Build a synchronous engine on the same SQLite file, for reads without a thread hop.

    aiosqlite runs every call (cursor, execute, fetch, close, and the pool's
    reset) on the connection's own thread: about 0.2 ms of CPU per statement and
    0.3 ms per checkout. A point read takes microseconds in SQLite itself, so
    short read transactions run faster on the event loop's thread. Writes keep
    aiosqlite: ``BEGIN IMMEDIATE`` may wait on another writer's lock, which must
    never block the loop. In WAL mode a reader never waits for a writer. Same
    connection settings as :func:`create_engine` (pass the writer's
    ``sqlite_synchronous``: a reader may run a checkpoint when it closes).

    Returns None for anything but a SQLite file (in memory, each connection
    would see its own database).
    """
    url = async_engine.url
    if url.get_backend_name() != "sqlite" or _is_memory_sqlite(url):
        return None
    reader = sa.create_engine(
        url.set(drivername="sqlite+pysqlite"),
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S},
        # Checked out and returned on the loop's thread; never wait for a free one.
        pool_size=4,
        max_overflow=-1,
        json_serializer=_json_serializer,
        json_deserializer=msgspec.json.decode,
    )
    _configure_sqlite(reader, wal=True, synchronous=_checked_synchronous(sqlite_synchronous))
    return reader


def _configure_sqlite(engine: sa.Engine, *, wal: bool, synchronous: SqliteSynchronous) -> None:
    busy_ms = int(SQLITE_BUSY_TIMEOUT_S * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (below) instead of the sqlite3
        # module's implicit, deferred transactions.
        dbapi_connection.isolation_level = None
        dbapi_connection.create_function("trace_casefold", 1, py_casefold, deterministic=True)
        cursor = dbapi_connection.cursor()
        try:
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                # FULL: every commit syncs the WAL, so an acknowledged write
                # survives a power loss; NORMAL syncs at checkpoints only.
                cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
                # 2 MB page cache per connection (SQLite's default), up to 15 pooled
                # connections. Reads barely notice a bigger cache (the OS caches the
                # file) but the server's RSS does: peak under the MCP benchmark at
                # 100k entries 114-119 MB here, 120-128 MB with 8 MB, 234 MB with
                # 32 MB. A 100k-entry bulk import costs ~2 % more CPU than with 8 MB.
                cursor.execute("PRAGMA cache_size=-2000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A write unit of work takes the write lock up front: a deferred
        # transaction that reads, then writes, fails with SQLITE_BUSY when
        # another writer committed in between (its snapshot is stale).
        if conn.get_execution_options().get(BEGIN_MODE_OPTION) == "IMMEDIATE":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")
