"""The start-up shortcut: a database already at the heads is checked without Alembic."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from trace_sql import sqlite_url as sqlite_file_url
from trace_sql.engine import create_engine
from trace_sql.migrate import (
    current_revisions,
    head_revisions,
    is_at_heads,
    migrate_engine,
    script_heads,
)

pytestmark = pytest.mark.anyio

# ``trace_sql.migrate`` the attribute is the migrate() function; this is the module.
migrate_module = importlib.import_module("trace_sql.migrate")


def test_the_heads_read_from_the_revision_files_are_alembics() -> None:
    assert script_heads() == head_revisions()


def test_a_revision_file_the_shortcut_cannot_read_sends_everything_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "0001_a.py").write_text('revision = "a"\ndown_revision = None\n')
    (tmp_path / "0002_b.py").write_text('revision: str = "b"\ndown_revision = ("a",)\n')
    monkeypatch.setattr(migrate_module, "_VERSIONS_DIR", tmp_path)
    assert script_heads() == {"b"}

    (tmp_path / "0003_c.py").write_text('revision = "c"\ndown_revision = compute("b")\n')
    assert script_heads() is None


async def test_a_migrated_database_is_at_the_heads_and_is_not_migrated_again(
    sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def alembic_must_not_run(_connection: sa.Connection) -> None:
        raise AssertionError("Alembic ran against a database already at the heads")

    monkeypatch.setattr(migrate_module, "_upgrade", alembic_must_not_run)
    engine = create_engine(sql_url)
    try:
        assert await is_at_heads(engine)
        await migrate_engine(engine)
    finally:
        await engine.dispose()


async def test_a_new_database_is_not_at_the_heads_and_is_migrated(tmp_path: Path) -> None:
    url = sqlite_file_url(tmp_path / "new.db")
    engine = create_engine(url)
    try:
        assert not await is_at_heads(engine)
        assert await current_revisions(url) == set()

        await migrate_engine(engine)

        assert await is_at_heads(engine)
        assert await current_revisions(url) == head_revisions()
    finally:
        await engine.dispose()


async def test_a_database_at_other_revisions_goes_through_alembic(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Behind (a head row replaced by an older revision): the shortcut must not
    # claim the database is current.
    engine = create_engine(sqlite_url)
    calls: list[str] = []
    monkeypatch.setattr(migrate_module, "_upgrade", lambda _conn: calls.append("alembic"))
    try:
        async with engine.begin() as conn:
            head = await conn.execute(sa.text("SELECT min(version_num) FROM alembic_version"))
            await conn.execute(
                sa.text(
                    "UPDATE alembic_version SET version_num = '0010_stream_names' "
                    "WHERE version_num = :head"
                ),
                {"head": head.scalar_one()},
            )
        assert not await is_at_heads(engine)

        await migrate_engine(engine)

        assert calls == ["alembic"]
    finally:
        await engine.dispose()
