"""Create or drop a throwaway PostgreSQL database for a smoke test.

    uv run python .ci/pg_database.py create ADMIN_URL NAME   # prints the new database's URL
    uv run python .ci/pg_database.py drop ADMIN_URL NAME

ADMIN_URL is a SQLAlchemy URL (``postgresql+asyncpg://postgres@127.0.0.1:5432/test``)
of a role allowed to create databases.
"""

from __future__ import annotations

import asyncio
import sys

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine


async def _admin(url: sa.URL, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT", connect_args={"timeout": 10})
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


def main(action: str, admin_url: str, name: str) -> None:
    """Create (and print the URL of) or drop database ``name``."""
    if not name.isidentifier():
        sys.exit(f"database name {name!r}: letters, digits and underscores only")
    url = sa.make_url(admin_url)
    if action == "create":
        asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
        print(url.set(database=name).render_as_string(hide_password=False))
    elif action == "drop":
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        sys.exit(f"action {action!r}: create or drop")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
