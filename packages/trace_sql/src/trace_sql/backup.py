"""``SqliteBackup``: a consistent copy of a live SQLite database file, and its checks.

The copy is SQLite's online backup (``sqlite3.Connection.backup``) in one step:
it runs inside one read transaction, so it is one snapshot of the database, and
in WAL mode writers carry on meanwhile (the copy reads the pages as of its
start). A copy made in several steps would start over whenever another
connection writes, and might never finish on a busy server. It runs in a worker
thread, never on the event loop.

A copy is checked before it is trusted (``PRAGMA integrity_check`` and
``foreign_key_check``, both reading the whole file) and described for the
archive's manifest: its schema revisions, its row counts, and every attachment
file it refers to, from any table with a ``blob_key`` column (with the
``file_size`` and ``sha256`` beside it where the table has them).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio.to_thread
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from trace_core.backup import BlobRecord, DatabaseBackup, DatabaseCopy
from trace_core.errors import InvalidInputError, UnavailableError
from trace_sql.engine import SQLITE_BUSY_TIMEOUT_S
from trace_sql.types import py_casefold

__all__ = ["COUNTED_TABLES", "SqliteBackup", "sqlite_file"]

COUNTED_TABLES = ("accounts", "streams", "entries", "entry_versions", "attachments")
"""Tables whose row counts a backup's manifest shows."""


def sqlite_file(url: str) -> Path | None:
    """Return the database file of a SQLite URL; None for PostgreSQL or in-memory SQLite."""
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError:
        return None
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if "mode=memory" in str(parsed):
        return None
    return Path(database)


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(
    database: str | Path, *, timeout: float = SQLITE_BUSY_TIMEOUT_S, uri: bool = False
) -> sqlite3.Connection:
    """Open a plain sqlite3 connection with the SQL functions Trace's schema may use."""
    conn = sqlite3.connect(database, timeout=timeout, uri=uri)
    # As the engines register it (trace_sql.engine): an index or trigger may call it.
    conn.create_function("trace_casefold", 1, py_casefold, deterministic=True)
    return conn


class SqliteBackup(DatabaseBackup):
    """Copies and checks the SQLite database file at ``path``.

    Args:
        path: the live database file (the server's ``trace.db``).

    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    async def copy_to(self, target: Path) -> DatabaseCopy:
        """Write a consistent copy of the database into the new file ``target``, and check it.

        Raises:
            InvalidInputError: (field ``database``) there is no database file, or
                the copy fails its checks.
            UnavailableError: SQLite could not read the database.

        """
        await anyio.to_thread.run_sync(self._copy, Path(target))
        return await self.check(target)

    def _copy(self, target: Path) -> None:
        if not self.path.is_file():
            # sqlite3.connect would create an empty database there.
            raise InvalidInputError("database", f"{self.path} does not exist")
        try:
            source = _connect(self.path)
            try:
                copy = _connect(target)
                try:
                    source.backup(copy, pages=-1)  # one step: one snapshot
                    # One self-contained file, whatever journal the live database uses.
                    copy.execute("PRAGMA journal_mode=DELETE")
                finally:
                    copy.close()
            finally:
                source.close()
        except sqlite3.Error as exc:
            raise UnavailableError(f"the database {self.path} could not be copied: {exc}") from exc

    async def check(self, path: Path) -> DatabaseCopy:
        """Check the SQLite file at ``path`` and describe it (read only, in a worker thread).

        Raises:
            InvalidInputError: (field ``database``) not a SQLite file, not a Trace
                database, damaged, or rows referring to rows that are not there.

        """
        return await anyio.to_thread.run_sync(_check, Path(path))


def _check(path: Path) -> DatabaseCopy:
    def refused(why: str) -> InvalidInputError:
        return InvalidInputError("database", f"{path.name} {why}")

    try:
        conn = _connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise refused(f"cannot be opened: {exc}") from exc
    try:
        try:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
        except sqlite3.DatabaseError as exc:
            raise refused(f"is not a SQLite database ({exc})") from exc
        if problems != ["ok"]:
            raise refused(f"is damaged: {problems[0]}")
        tables = {
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        if "alembic_version" not in tables:
            raise refused("is not a Trace database (it has no schema revisions)")
        dangling = conn.execute("PRAGMA foreign_key_check").fetchone()
        if dangling is not None:
            raise refused(f"has rows in {dangling[0]} referring to rows that are not there")
        revisions = tuple(
            sorted(row[0] for row in conn.execute("SELECT version_num FROM alembic_version"))
        )
        counts = {
            table: int(conn.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()[0])  # noqa: S608
            for table in COUNTED_TABLES
            if table in tables
        }
        blobs: dict[str, BlobRecord] = {}
        for table in sorted(tables):
            columns = {row[1] for row in conn.execute(f"PRAGMA table_info({_quoted(table)})")}
            if "blob_key" not in columns:
                continue
            size = "file_size" if "file_size" in columns else "NULL"
            digest = "sha256" if "sha256" in columns else "NULL"
            rows = conn.execute(
                f"SELECT blob_key, {size}, {digest} FROM {_quoted(table)} ORDER BY blob_key"  # noqa: S608
            )
            for key, file_size, sha256 in rows:
                blobs.setdefault(key, BlobRecord(key=key, size=file_size, sha256=sha256))
        return DatabaseCopy(
            revisions=revisions, counts=counts, blobs=tuple(blobs[key] for key in sorted(blobs))
        )
    finally:
        conn.close()
