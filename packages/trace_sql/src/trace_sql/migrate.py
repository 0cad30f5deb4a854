"""Schema migrations with Alembic, shipped inside the package.

Revisions live in ``trace_sql/migrations/versions``. The core schema is
``0001_core``; every other module's migration branches from it
(``down_revision = "0001_core"``) and Trace always upgrades to ``heads``, so
branches never conflict.

Starting a process against a database that is already up to date must be
cheap (``trace serve`` migrates on every start; importing Alembic alone takes
longer than the rest of the check), so :func:`migrate_engine` first compares
the database's ``alembic_version`` rows with the heads read straight from the
revision files (:func:`script_heads`, a few milliseconds): when they are equal
Alembic is not even imported. Anything else (a new or older database, a
missing table, a revision file the shortcut cannot read) goes through Alembic.
"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from trace_sql.engine import BEGIN_MODE_OPTION, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATION_LOCK",
    "alembic_config",
    "current_revisions",
    "head_revisions",
    "is_at_heads",
    "migrate",
    "migrate_async",
    "migrate_engine",
    "script_heads",
]

_VERSIONS_DIR = Path(__file__).parent / "migrations" / "versions"

# Any fixed number: the Postgres advisory lock that serialises migrations when
# several server processes start at once.
MIGRATION_LOCK = 0x7472616365  # "trace"

_VERSION_QUERY = sa.text("SELECT version_num FROM alembic_version")


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """Return an Alembic config for Trace's migrations, bound to ``connection`` if given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "trace_sql:migrations")
    config.attributes["connection"] = connection
    return config


def head_revisions() -> set[str]:
    """Return the revision ids a fully migrated database is at, as Alembic computes them."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _literal(node: ast.stmt, name: str) -> tuple[bool, object]:
    """Return ``(True, value)`` when ``node`` assigns a literal to ``name``."""
    target: ast.expr
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        target, value = node.target, node.value
    elif isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    else:
        return False, None
    if not (isinstance(target, ast.Name) and target.id == name):
        return False, None
    return True, ast.literal_eval(value)


def script_heads() -> frozenset[str] | None:
    """Return the heads of the revision files, read without Alembic (``None`` if unsure).

    Each file's module-level ``revision`` and ``down_revision`` literals are
    read with :mod:`ast`; a head is a revision no other revision follows. Any
    file that does not spell them as plain literals makes this return ``None``,
    and the caller asks Alembic instead. (A test checks the two agree.)
    """
    revisions: set[str] = set()
    followed: set[str] = set()
    try:
        for path in _VERSIONS_DIR.glob("*.py"):
            found: dict[str, object] = {}
            for node in ast.parse(path.read_bytes(), str(path)).body:
                for name in ("revision", "down_revision"):
                    matched, value = _literal(node, name)
                    if matched:
                        found[name] = value
            revision, down = found.get("revision"), found.get("down_revision")
            if not isinstance(revision, str) or "down_revision" not in found:
                return None
            revisions.add(revision)
            if isinstance(down, str):
                followed.add(down)
            elif isinstance(down, tuple | list):
                followed.update(str(d) for d in down)
            elif down is not None:
                return None
    except (OSError, SyntaxError, ValueError, TypeError):
        return None
    return frozenset(revisions - followed) or None


async def _read_revisions(conn: AsyncConnection) -> set[str]:
    """Return the revisions in ``alembic_version`` (empty when the table does not exist)."""
    has_table = await conn.run_sync(lambda sync: sa.inspect(sync).has_table("alembic_version"))
    if not has_table:
        return set()
    return set((await conn.execute(_VERSION_QUERY)).scalars().all())


async def is_at_heads(engine: AsyncEngine) -> bool:
    """Whether the database behind ``engine`` is already at the heads of :func:`script_heads`.

    A read-only check without Alembic; a database that was never migrated is
    not at the heads, and neither is any when the revision files cannot be read.
    """
    heads = script_heads()
    if heads is None:
        return False
    async with engine.connect() as conn:
        return await _read_revisions(conn) == heads


def _upgrade(connection: sa.Connection) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    command.upgrade(alembic_config(connection), "heads")


async def migrate_engine(engine: AsyncEngine) -> None:
    """Upgrade the database behind ``engine`` to ``heads``, in one transaction.

    A database already at the heads costs one query and no Alembic (:func:`is_at_heads`).
    """
    if await is_at_heads(engine):
        return
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
    try:
        async with engine.connect() as conn:
            return await _read_revisions(conn)
    finally:
        await engine.dispose()
