"""Schema migrations with Alembic, shipped inside the package.

Revisions live in ``trace_sql/migrations/versions``. The core schema is
``0001_core``; every other module's migration branches from it
(``down_revision = "0001_core"``) and Trace always upgrades to ``heads``, so
branches never conflict.
"""

from __future__ import annotations

import asyncio
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncEngine

from trace_sql.engine import BEGIN_MODE_OPTION, create_engine

__all__ = [
    "alembic_config",
    "current_revisions",
    "head_revisions",
    "migrate",
    "migrate_async",
    "migrate_engine",
]

# Any fixed number: the Postgres advisory lock that serialises migrations when
# several server processes start at once.
_PG_MIGRATION_LOCK = 0x7472616365  # "trace"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Return an Alembic config for Trace's migrations, bound to ``connection`` if given."""
    config = Config()
    config.set_main_option("script_location", "trace_sql:migrations")
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    """Return the revision ids a fully migrated database is at."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _upgrade(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
        )
    command.upgrade(alembic_config(connection), "heads")


async def migrate_engine(engine: AsyncEngine) -> None:
    """Upgrade the database behind ``engine`` to ``heads``, in one transaction."""
    async with engine.connect() as conn:
        # SQLite: take the write lock first, so two processes migrating at once
        # queue up instead of failing half-way.
        await conn.execution_options(**{BEGIN_MODE_OPTION: "IMMEDIATE"})
        async with conn.begin():
            await conn.run_sync(_upgrade)


async def migrate_async(url: str | URL) -> None:
    """Upgrade the database at ``url`` to ``heads`` (for async callers, e.g. server start)."""
    engine = create_engine(url)
    try:
        await migrate_engine(engine)
    finally:
        await engine.dispose()


def migrate(url: str | URL) -> None:
    """Upgrade the database at ``url`` to ``heads`` (``trace migrate``).

    Runs its own event loop: call :func:`migrate_async` from async code.
    """
    asyncio.run(migrate_async(url))


async def current_revisions(url: str | URL) -> set[str]:
    """Return the revisions the database at ``url`` is at (empty if never migrated)."""
    engine = create_engine(url)

    def _current(connection: sa.Connection) -> set[str]:
        return set(MigrationContext.configure(connection).get_current_heads())

    try:
        async with engine.connect() as conn:
            result: Any = await conn.run_sync(_current)
            return set(result)
    finally:
        await engine.dispose()
