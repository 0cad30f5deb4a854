"""The unit of work (one transaction over every repository) and ``SqlStorage``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from trace_core.ports import Storage, UnitOfWork
from trace_sql.engine import (
    BEGIN_MODE_OPTION,
    SqliteSynchronous,
    create_engine,
    create_sqlite_reader,
    normalize_url,
)
from trace_sql.errors import translated_errors
from trace_sql.storage._accounts import SqlAccountRepository
from trace_sql.storage._attachments import SqlAttachmentRepository
from trace_sql.storage._base import BULK_ROWS, InlineConnection, TenantScope
from trace_sql.storage._entries import SqlEntryRepository
from trace_sql.storage._streams import SqlStreamRepository
from trace_sql.storage._versions import SqlVersionRepository

# Bulk inserts of at least this many entries in one unit of work may refresh
# Postgres planner statistics (see _refresh_statistics).
_ANALYZE_MIN_ROWS = 500
_ANALYZED_TABLES = ("entries", "entry_tags", "entry_versions")


class SqlUnitOfWork(UnitOfWork):
    """One database transaction; every repository runs on its connection.

    ``connection`` is public so other adapters in ``trace_sql`` (credentials,
    search) can join the same transaction; ``scope`` says which account's rows
    it may touch under PostgreSQL's row-level security (:class:`TenantScope`).
    """

    def __init__(self, connection: AsyncConnection, scope: TenantScope | None = None) -> None:
        self.connection = connection
        self.scope = scope or TenantScope(connection, enforced=False)
        self._accounts = SqlAccountRepository(connection, self.scope)
        self._streams = SqlStreamRepository(connection, self.scope)
        self._entries = SqlEntryRepository(connection, self.scope)
        self._versions = SqlVersionRepository(connection, self.scope)
        self._attachments = SqlAttachmentRepository(connection, self.scope)

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.connection.dialect.name

    @property
    def accounts(self) -> SqlAccountRepository:
        """Accounts."""
        return self._accounts

    @property
    def streams(self) -> SqlStreamRepository:
        """Streams."""
        return self._streams

    @property
    def entries(self) -> SqlEntryRepository:
        """Entries."""
        return self._entries

    @property
    def versions(self) -> SqlVersionRepository:
        """Entry snapshots."""
        return self._versions

    @property
    def attachments(self) -> SqlAttachmentRepository:
        """Attachment metadata."""
        return self._attachments


async def _refresh_statistics(conn: AsyncConnection, inserted: int) -> None:
    # Postgres plans from statistics that autovacuum refreshes only later: right
    # after a bulk import into a young table the planner believes it nearly empty
    # and picks nested loops that take seconds. Analyze while a batch is a large
    # share of the table; past that, the planner scales the stats by table size.
    async with conn.begin():
        known = (
            await conn.execute(
                sa.text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('entries')")
            )
        ).scalar()
        if known is None or known <= 0 or inserted >= 0.25 * known:
            await conn.exec_driver_sql(f"ANALYZE {', '.join(_ANALYZED_TABLES)}")


class SqlStorage(Storage):
    """Trace storage on one SQLAlchemy async engine (SQLite or PostgreSQL).

    On PostgreSQL every transaction says whose rows it may touch (the
    row-level security of :mod:`trace_sql.rls`): a unit of work opened with
    ``account_id`` sees that account's rows only, one opened with
    ``all_accounts=True`` every row (as the tables' owner), one opened with
    neither the rows of the account each repository call names.

    Args:
        engine: the async engine every write (and, on Postgres, every read) uses.
        reader: on a SQLite file, a synchronous engine for read-only units of
            work (:func:`create_sqlite_reader`); None runs reads on ``engine``.
        app_role: PostgreSQL: the role ``engine``'s connections run as (set by
            :func:`create_storage`); :meth:`migrate` checks it and grants it
            the tables.
        row_security: PostgreSQL: send the account settings the policies read
            (default). False only for a database whose tables have row-level
            security switched off (``benchmarks/rls.py`` compares the two);
            against the policies of migration ``0400`` nothing would be visible.

    """

    def __init__(
        self,
        engine: AsyncEngine,
        reader: sa.Engine | None = None,
        *,
        app_role: str | None = None,
        row_security: bool = True,
    ) -> None:
        self._engine = engine
        self._reader = reader
        self._app_role = app_role
        self._enforced = row_security and engine.dialect.name == "postgresql"

    @property
    def row_security(self) -> bool:
        """Whether transactions send the account settings of row-level security (PostgreSQL)."""
        return self._enforced

    @property
    def app_role(self) -> str | None:
        """The role queries run as on PostgreSQL (None: the login role itself)."""
        return self._app_role

    @property
    def engine(self) -> AsyncEngine:
        """The engine (for migrations, sibling adapters and tests)."""
        return self._engine

    def pool_status(self) -> dict[str, int]:
        """Return the connection pool's ``size``, ``checked_out`` and ``overflow`` (what it has)."""
        pool = self._engine.pool
        out: dict[str, int] = {}
        for name, method in (
            ("size", "size"),
            ("checked_out", "checkedout"),
            ("overflow", "overflow"),
        ):
            read = getattr(pool, method, None)
            if callable(read):
                out[name] = int(read())
        return out

    @property
    def dialect_name(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    @property
    def reader(self) -> sa.Engine | None:
        """The synchronous engine for reads on a SQLite file (None elsewhere)."""
        return self._reader

    def scope(
        self, connection: Any, *, account_id: UUID | None = None, all_accounts: bool = False
    ) -> TenantScope:
        """Return the tenant scope of a transaction on ``connection`` (see :class:`TenantScope`)."""
        return TenantScope(
            connection,
            enforced=self._enforced,
            account_id=account_id,
            all_accounts=all_accounts,
        )

    @asynccontextmanager
    async def connect(
        self,
        *,
        write: bool = False,
        account_id: UUID | None = None,
        all_accounts: bool = False,
    ) -> AsyncIterator[AsyncConnection]:
        """Open a transaction and yield its connection (for sibling adapters in ``trace_sql``).

        Committed when the block exits cleanly, rolled back on error; driver
        errors are translated into :mod:`trace_core.errors`. On PostgreSQL the
        transaction sees the rows of ``account_id`` only, or of every account
        with ``all_accounts`` (as the tables' owner), or, with neither, no
        account's (tables without row-level security are unaffected).
        """
        with translated_errors() as errors:
            async with self._engine.connect() as conn:
                if write and self.dialect_name == "sqlite":
                    await conn.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
                conn.info.pop(BULK_ROWS, None)
                try:
                    async with conn.begin():
                        await self.scope(
                            conn, account_id=account_id, all_accounts=all_accounts
                        ).begin()
                        errors.callers_code = True
                        yield conn
                        errors.callers_code = False
                    bulk_rows = conn.info.pop(BULK_ROWS, 0)
                finally:
                    # An invalidated connection (dropped mid-use) must not be touched:
                    # ``info`` would make SQLAlchemy reconnect outside the async bridge.
                    if not conn.invalidated:
                        conn.info.pop(BULK_ROWS, None)
                if bulk_rows >= _ANALYZE_MIN_ROWS and self.dialect_name == "postgresql":
                    await _refresh_statistics(conn, bulk_rows)

    @asynccontextmanager
    async def unit_of_work(
        self,
        *,
        write: bool = False,
        account_id: UUID | None = None,
        all_accounts: bool = False,
    ) -> AsyncIterator[SqlUnitOfWork]:
        """Open a transaction over every repository.

        Committed when the block exits cleanly, rolled back on any exception.
        ``write=True`` takes SQLite's write lock up front (``BEGIN IMMEDIATE``).
        ``account_id`` / ``all_accounts``: whose rows it may touch on PostgreSQL
        (:class:`TenantScope`).
        """
        if write or self._reader is None:
            async with self.connect(
                write=write, account_id=account_id, all_accounts=all_accounts
            ) as conn:
                yield SqlUnitOfWork(
                    conn, self.scope(conn, account_id=account_id, all_accounts=all_accounts)
                )
            return
        async with self.read() as conn:
            yield SqlUnitOfWork(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """Open a read-only transaction; on SQLite files it runs on the calling thread.

        For short reads (point lookups by key). The connection offers the
        ``AsyncConnection`` calls the repositories use (``execute``,
        ``exec_driver_sql``, ``scalar``, ``dialect``, ``info``).
        """
        if self._reader is None:
            async with self.connect() as conn:
                yield conn
            return
        with (
            translated_errors() as errors,
            self._reader.connect() as sync_conn,
            sync_conn.begin(),
        ):
            errors.callers_code = True
            # Duck-typed: InlineConnection offers the AsyncConnection calls the
            # repositories make, not the class (mypy: yield type mismatch).
            yield InlineConnection(sync_conn)  # type: ignore[misc]
            errors.callers_code = False

    async def migrate(self) -> None:
        """Upgrade the schema to the newest revision (``heads``), as the login role.

        With an ``app_role``, the migration runs on a separate connection as the
        login role (the tables' owner), which then checks the role and grants it
        the tables (:func:`trace_sql.rls.prepare_app_role`).
        """
        from trace_sql.migrate import MIGRATION_LOCK, migrate_engine

        if self._app_role is None:
            await migrate_engine(self._engine)
            return
        from trace_sql.rls import prepare_app_role

        owner = create_engine(self._engine.url, poolclass=sa.pool.NullPool)
        try:
            await migrate_engine(owner)
            async with owner.begin() as conn:
                # Replicas starting at once: one GRANT at a time (concurrent
                # GRANTs on one table can fail with "tuple concurrently updated").
                await conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
                await prepare_app_role(conn, self._app_role)
        finally:
            await owner.dispose()

    async def close(self) -> None:
        """Close every pooled connection."""
        if self._reader is not None:
            self._reader.dispose()
        await self._engine.dispose()


def create_storage(
    url: str | URL,
    *,
    echo: bool = False,
    sqlite_synchronous: SqliteSynchronous = "full",
    app_role: str | None = None,
    row_security: bool = True,
    **engine_options: Any,
) -> SqlStorage:
    """Build a :class:`SqlStorage` for a SQLite or PostgreSQL URL (no I/O, no migration).

    Args:
        url: ``sqlite+aiosqlite:///path``, ``postgresql+asyncpg://…`` (plain
            ``sqlite:///`` and ``postgresql://`` are accepted too).
        echo: log every statement.
        sqlite_synchronous: SQLite file: ``full`` (every commit durable on power
            loss) or ``normal``; see :data:`trace_sql.engine.SqliteSynchronous`.
        app_role: PostgreSQL: run every query as this role (a startup ``role``
            setting on each connection), one bound by row-level security; the
            login role of ``url`` owns the tables and migrates them. Ignored on SQLite.
        row_security: see :class:`SqlStorage` (leave it on).
        **engine_options: passed on to SQLAlchemy's ``create_async_engine``.

    """
    role = app_role if app_role and normalize_url(url).get_backend_name() == "postgresql" else None
    if role is not None:
        connect_args = dict(engine_options.pop("connect_args", {}))
        connect_args["server_settings"] = {
            **connect_args.get("server_settings", {}),
            "role": role,
        }
        engine_options["connect_args"] = connect_args
    engine = create_engine(url, echo=echo, sqlite_synchronous=sqlite_synchronous, **engine_options)
    return SqlStorage(
        engine,
        reader=create_sqlite_reader(engine, sqlite_synchronous=sqlite_synchronous),
        app_role=role,
        row_security=row_security,
    )


async def open_storage(
    url: str | URL, *, migrate: bool = True, echo: bool = False, app_role: str | None = None
) -> SqlStorage:
    """Build a :class:`SqlStorage` and, unless ``migrate=False``, upgrade its schema first.

    This is what a server calls on start (``app_role``: see :func:`create_storage`).
    """
    storage = create_storage(url, echo=echo, app_role=app_role)
    if migrate:
        try:
            await storage.migrate()
        except BaseException:
            await storage.close()
            raise
    return storage
