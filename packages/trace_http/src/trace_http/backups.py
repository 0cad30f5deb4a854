"""Backups, from the root: the backup service for the configured database, and restoring one.

``trace backup`` gets :class:`~trace_core.backup.BackupService` from the
runtime (``Runtime.backups``, built here on first use); ``trace restore`` calls
:func:`restore`, which needs no runtime: it fills an empty data directory
before any database exists there. The archive and its consistency argument are
described in :mod:`trace_core.backup`; the SQLite copy in :mod:`trace_sql.backup`.

A server on PostgreSQL is backed up with PostgreSQL's own tools (``pg_dump``,
``pg_restore``) and a copy of the attachment files: both commands refuse it,
saying so, rather than run a ``pg_dump`` whose version may not match the server.
"""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from trace_core.errors import InvalidInputError
from trace_http.settings import Settings, load_settings

if TYPE_CHECKING:
    from trace_core.backup import BackupManifest, BackupService
    from trace_core.ports import ProgressCallback
    from trace_core.service import Trace

__all__ = ["DOCS", "Restored", "backup_service", "key_files", "restore"]

DOCS = 'docs/deploy.md, "Backup and restore"'
"""Where the operator reads how to back up and restore (named in refusals)."""

_KEY_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\.key")


def _database_file(settings: Settings, command: str) -> Path:
    """Return the SQLite file of the configured database, or refuse naming the way to go."""
    from trace_sql.backup import sqlite_file

    path = sqlite_file(settings.storage.url)
    if path is None:
        how = "pg_dump" if command == "backup" else "pg_restore"
        raise InvalidInputError(
            "storage.database_url",
            f"trace {command} works on a SQLite database; this server's is PostgreSQL: "
            f"use {how} and copy the attachment files (see {DOCS})",
        )
    return path


def key_files(settings: Settings) -> dict[str, Path]:
    """Return the keys generated into the data directory (``cursor.key``, ``session.key`` ...)."""
    data = settings.storage.data_path
    if not data.is_dir():
        return {}
    return {
        p.name: p for p in sorted(data.iterdir()) if p.is_file() and _KEY_FILE.fullmatch(p.name)
    }


def app_version() -> str:
    """Return the version of Trace installed (the ``trace-http`` distribution)."""
    try:
        return importlib.metadata.version("trace-http")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - not installed
        return "unknown"


def backup_service(settings: Settings, trace: Trace, *, owns_database: bool) -> BackupService:
    """Return the service writing backups of the configured database and ``trace``'s blobs.

    Raises:
        InvalidInputError: the database is PostgreSQL (``storage.database_url``),
            or the facade's storage is not the configured database (``storage``).

    """
    from trace_core.backup import BackupService
    from trace_sql.backup import SqliteBackup

    path = _database_file(settings, "backup")
    if not owns_database:
        raise InvalidInputError(
            "storage",
            "the facade's storage was passed in: only the configured database is backed up",
        )
    return BackupService(
        database=SqliteBackup(path),
        blobs=trace.blobs,
        files=key_files(settings),
        clock=trace.clock,
        app_version=app_version(),
    )


class Restored(NamedTuple):
    """What :func:`restore` did: the backup's manifest and the data directory it filled."""

    manifest: BackupManifest
    data_dir: Path


def _non_empty(path: Path) -> bool:
    return path.exists() and (not path.is_dir() or any(path.iterdir()))


async def restore(
    archive: Path,
    settings: Settings | None = None,
    *,
    config: Path | None = None,
    progress: ProgressCallback | None = None,
) -> Restored:
    """Restore ``archive`` into the configured data directory, which must be empty or new.

    Then upgrades the database to the newest schema (a backup from an older
    Trace comes back at this version's revisions). Attachment files go to the
    configured blob store: files in the data directory, or the S3 bucket (which
    restore cannot check for emptiness; keys are unique per attachment).

    Args:
        archive: what ``trace backup`` wrote.
        settings: the deployment's settings (default: loaded from ``config`` and
            the environment).
        config: the TOML file to load when no ``settings`` are given.
        progress: called with (attachment files restored, total).

    Returns:
        The backup's manifest and the data directory.

    Raises:
        InvalidInputError: the data directory (``storage.data_dir``), the
            database file or the attachment directory is not empty, the
            database is PostgreSQL, or the archive is not a sound Trace backup
            (``file``, ``database``).

    """
    from trace_core.backup import restore_backup
    from trace_http.bootstrap import make_blobs, migrate
    from trace_sql.backup import SqliteBackup

    if settings is None:
        settings = load_settings(config)
    database_path = _database_file(settings, "restore")
    data = settings.storage.data_path
    refill = "trace restore fills only an empty or new one: move it aside, or choose another"
    if _non_empty(data):
        raise InvalidInputError("storage.data_dir", f"{data.absolute()} is not empty: {refill}")
    if _non_empty(database_path):
        raise InvalidInputError("storage.database_url", f"{database_path} exists: {refill}")
    files_on_disk = settings.storage.blobs.kind == "filesystem"
    if files_on_disk and _non_empty(settings.storage.blob_path):
        raise InvalidInputError(
            "storage.blobs.path", f"{settings.storage.blob_path.absolute()} is not empty: {refill}"
        )
    created = not data.exists()
    try:
        blobs = make_blobs(settings)
        try:
            manifest = await restore_backup(
                archive,
                database=SqliteBackup(database_path),
                database_path=database_path,
                blobs=blobs,
                files_dir=data,
                progress=progress,
            )
        finally:
            await blobs.close()
    except BaseException:
        # Leave no trace of a failed restore: the directories it made go too.
        _remove_empty_dirs(settings, created, blobs=files_on_disk)
        raise
    await migrate(settings)
    return Restored(manifest, data.absolute())


def _remove_empty_dirs(settings: Settings, created: bool, *, blobs: bool) -> None:
    blob_root = settings.storage.blob_path
    if blobs and blob_root.is_dir():
        for directory in sorted(blob_root.rglob("*"), reverse=True):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        if not any(blob_root.iterdir()):
            blob_root.rmdir()
    data = settings.storage.data_path
    if created and data.is_dir() and not any(data.iterdir()):
        data.rmdir()
