"""Backups of a whole server: the archive, what it holds, and the port a database implements.

``trace backup FILE`` writes a tar archive (gzip-compressed when FILE ends in
``.gz`` or ``.tgz``) while the server keeps running. Its members, in order::

    backup.json     what this is: format, version, time, Trace version, schema revisions
    trace.db        a consistent copy of the database
    files/NAME      the keys the server generated into its data directory
    blobs/KEY       every attachment file the copy refers to, under its blob key
    manifest.json   what the archive holds: counts, each file's size and SHA-256,
                    and any attachment file that could not be found

The manifest comes last because only then is it known; ``backup.json`` comes
first, so a restore refuses something that is not a Trace backup (or is one from
a newer Trace) before reading the rest.

**Why the copy is consistent.** The database copy is one snapshot (SQLite's
online backup in one step: one read transaction, while writers carry on in the
write-ahead log). Attachment files are copied after it, by the keys the copy
refers to. Every writer keeps one order (``add_attachment``,
``purge_expired_trash``): a file is written before the row that refers to it
commits, and deleted only after the deletion of that row commits; keys are new
for every attachment. So every file the copy refers to existed when the copy was
taken, and can have gone since only if its row was deleted since. A file found
missing is therefore either one deleted after the copy was taken, which a newer
copy no longer refers to (the backup starts again, up to :data:`ATTEMPTS` times),
or one also missing from the previous attempt although a newer copy still refers
to it: lost from the data directory before the backup began. Then, as after the
last attempt, the backup completes and lists it under ``missing_blobs``, so a
damaged file never makes a backup impossible, and never goes unmentioned.

:func:`restore_backup` puts a backup back: the attachment files and keys first,
the database file last (moved into place once every file it refers to is
there), after checking the archive against its manifest and the database's
integrity. Anything it wrote is removed again if it fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tarfile
import tempfile
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

import anyio.to_thread
import msgspec

from trace_core.errors import InvalidInputError, NotFoundError
from trace_core.ports import BlobStore, Clock, ProgressCallback

__all__ = [
    "ATTEMPTS",
    "BACKUP_FORMAT",
    "BACKUP_VERSION",
    "BackupHeader",
    "BackupManifest",
    "BackupService",
    "BlobRecord",
    "DatabaseBackup",
    "DatabaseCopy",
    "restore_backup",
]

BACKUP_FORMAT = "trace-backup"
BACKUP_VERSION = 1
"""Raised when the archive layout changes; a restore refuses versions it does not know."""

ATTEMPTS = 3
"""How many database copies a backup takes at most while attachment files vanish under it."""

HEADER_MEMBER = "backup.json"
DATABASE_MEMBER = "trace.db"
MANIFEST_MEMBER = "manifest.json"
FILES_DIR = "files/"
BLOBS_DIR = "blobs/"

_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MAX_JSON_BYTES = 256 * 1024 * 1024  # a manifest of millions of attachments still fits


class BlobRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An attachment file the database refers to: its key, and size and SHA-256 when recorded."""

    key: str
    size: int | None = None
    sha256: str | None = None


class DatabaseCopy(msgspec.Struct, frozen=True, kw_only=True):
    """What a database file holds, as its adapter reads it after checking it.

    Attributes:
        revisions: the schema revisions it is at.
        counts: rows per table (``accounts``, ``entries``, ...), for people to read.
        blobs: every attachment file it refers to.

    """

    revisions: tuple[str, ...]
    counts: dict[str, int]
    blobs: tuple[BlobRecord, ...]


class BackupHeader(msgspec.Struct, frozen=True, kw_only=True):
    """The first member of a backup: what it is, written before anything else."""

    format: str = BACKUP_FORMAT
    version: int = BACKUP_VERSION
    created_at: datetime
    app_version: str
    database: str = "sqlite"
    revisions: tuple[str, ...] = ()
    blob_count: int = 0
    """How many attachment files the database copy refers to."""


class BackupManifest(BackupHeader, frozen=True, kw_only=True):
    """The last member of a backup: everything it holds.

    Attributes:
        counts: rows per table in the database copy.
        blobs: the attachment files in the archive, with their size and SHA-256.
        missing_blobs: files the database refers to that could not be found
            (lost from the data directory before the backup; see the module docs).
        files: the data directory's generated keys in the archive (``cursor.key`` ...).

    """

    counts: dict[str, int] = {}
    blobs: tuple[BlobRecord, ...] = ()
    missing_blobs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()

    @property
    def blob_bytes(self) -> int:
        """The attachment bytes the archive holds."""
        return sum(blob.size or 0 for blob in self.blobs)


class DatabaseBackup(Protocol):
    """Copies and checks the database as one file (SQLite; PostgreSQL has ``pg_dump``)."""

    async def copy_to(self, target: Path) -> DatabaseCopy:
        """Write a consistent copy of the live database into the new file ``target``.

        Runs off the event loop; writers carry on meanwhile. The copy is
        checked as :meth:`check` does.

        Returns:
            What the copy holds.

        Raises:
            InvalidInputError: (field ``database``) the copy failed its checks.

        """
        ...

    async def check(self, path: Path) -> DatabaseCopy:
        """Check the database file at ``path`` (integrity, foreign keys) and describe it.

        Raises:
            InvalidInputError: (field ``database``) not a Trace database, or damaged.

        """
        ...


# --- writing ---------------------------------------------------------------------


class _TarWriter:
    """A tar archive being written from async code: each addition runs in a worker thread."""

    def __init__(self, path: Path, *, gzip: bool, mtime: float) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        self._tar = tarfile.open(fileobj=self._file, mode="w:gz" if gzip else "w")  # noqa: SIM115
        self._mtime = mtime

    def _info(self, name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size = size
        info.mode = 0o600
        info.mtime = int(self._mtime)
        return info

    async def add_bytes(self, name: str, data: bytes) -> None:
        info = self._info(name, len(data))
        await anyio.to_thread.run_sync(self._tar.addfile, info, io.BytesIO(data))

    async def add_file(self, name: str, path: Path) -> None:
        def add() -> None:
            with path.open("rb") as fh:
                self._tar.addfile(self._info(name, os.fstat(fh.fileno()).st_size), fh)

        await anyio.to_thread.run_sync(add)

    async def finish(self) -> None:
        """Close the archive and sync it to disk."""

        def finish() -> None:
            self._tar.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

        await anyio.to_thread.run_sync(finish)

    def abandon(self) -> None:
        self._tar.close()
        self._file.close()


def _is_gzip(path: Path) -> bool:
    return path.name.endswith((".gz", ".tgz"))


class BackupService:
    """Writes backups of a running server: the database copy, its attachment files, the keys.

    Args:
        database: copies the database (the adapter behind the configured storage).
        blobs: where the attachment files are read from.
        files: generated key files of the data directory to keep, by name.
        clock: when the backup is taken.
        app_version: the Trace version writing it.

    """

    def __init__(
        self,
        *,
        database: DatabaseBackup,
        blobs: BlobStore,
        files: Mapping[str, Path],
        clock: Clock,
        app_version: str,
    ) -> None:
        for name in files:
            if not _FILE_NAME.fullmatch(name):
                raise ValueError(f"not a plain file name: {name!r}")
        self.database = database
        self.blobs = blobs
        self.files = dict(files)
        self.clock = clock
        self.app_version = app_version

    async def create(
        self, target: Path, *, overwrite: bool = False, progress: ProgressCallback | None = None
    ) -> BackupManifest:
        """Write a backup to ``target`` (a new file, or replaced whole when ``overwrite``).

        The archive is written beside ``target`` under a hidden name and moved
        into place when complete, so ``target`` is never a partial backup.

        Args:
            target: the archive to write (``.tar``; ``.tar.gz`` / ``.tgz`` compressed).
            overwrite: replace an existing file.
            progress: called with (attachment files copied, total).

        Returns:
            The manifest written into the archive.

        Raises:
            InvalidInputError: (field ``file``) ``target`` exists and ``overwrite``
                is off; (field ``database``) the database copy failed its checks.

        """
        target = Path(target)
        if target.exists() and not overwrite:
            raise InvalidInputError("file", f"{target} exists")
        part = target.with_name(f".{target.name}.part")
        missing_before: set[str] | None = None
        try:
            with tempfile.TemporaryDirectory(dir=target.parent, prefix=".trace-backup-") as work:
                copy_path = Path(work) / DATABASE_MEMBER
                for attempt in range(1, ATTEMPTS + 1):
                    copy_path.unlink(missing_ok=True)
                    copy = await self.database.copy_to(copy_path)
                    manifest = await self._write(
                        part, copy_path, copy, gzip=_is_gzip(target), progress=progress
                    )
                    missing = set(manifest.missing_blobs)
                    # Missing only because deleted after this copy was taken: a new copy
                    # no longer refers to them. Missing twice in a row: lost before.
                    deleted_since = missing - (missing_before or set())
                    if deleted_since and attempt < ATTEMPTS:
                        missing_before = missing
                        continue
                    os.replace(part, target)
                    _fsync_dir(target.parent)
                    return manifest
        finally:
            part.unlink(missing_ok=True)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _write(
        self,
        part: Path,
        copy_path: Path,
        copy: DatabaseCopy,
        *,
        gzip: bool,
        progress: ProgressCallback | None,
    ) -> BackupManifest:
        header = BackupHeader(
            created_at=self.clock.now(),
            app_version=self.app_version,
            revisions=copy.revisions,
            blob_count=len(copy.blobs),
        )
        mtime = header.created_at.timestamp()
        writer = await anyio.to_thread.run_sync(lambda: _TarWriter(part, gzip=gzip, mtime=mtime))
        try:
            await writer.add_bytes(HEADER_MEMBER, msgspec.json.encode(header))
            await writer.add_file(DATABASE_MEMBER, copy_path)
            files = []
            for name, path in sorted(self.files.items()):
                if path.is_file():
                    await writer.add_file(FILES_DIR + name, path)
                    files.append(name)
            kept: list[BlobRecord] = []
            missing: list[str] = []
            for done, blob in enumerate(copy.blobs, 1):
                try:
                    data = await self.blobs.get(blob.key)
                except NotFoundError:
                    missing.append(blob.key)
                else:
                    await writer.add_bytes(BLOBS_DIR + blob.key, data)
                    digest = hashlib.sha256(data).hexdigest()
                    kept.append(BlobRecord(key=blob.key, size=len(data), sha256=digest))
                if progress is not None:
                    progress(done, len(copy.blobs))
            manifest = BackupManifest(
                created_at=header.created_at,
                app_version=header.app_version,
                revisions=header.revisions,
                blob_count=header.blob_count,
                counts=copy.counts,
                blobs=tuple(kept),
                missing_blobs=tuple(missing),
                files=tuple(files),
            )
            await writer.add_bytes(MANIFEST_MEMBER, msgspec.json.encode(manifest))
            await writer.finish()
        except BaseException:
            writer.abandon()
            raise
        return manifest


# --- restoring -------------------------------------------------------------------

_MAX_FILE_BYTES = 64 * 1024  # a generated key is ~64 bytes
_MAX_BLOB_BYTES = 1024 * 1024 * 1024


def _not_a_backup(source: Path, why: str) -> InvalidInputError:
    return InvalidInputError("file", f"{source} is not a Trace backup: {why}")


def _damaged(source: Path, exc: BaseException) -> InvalidInputError:
    return _not_a_backup(source, f"the archive is cut short or damaged ({exc})")


class _TarReader:
    """A tar archive read member by member from async code (each step in a worker thread)."""

    def __init__(self, source: Path) -> None:
        self.source = source
        if not source.is_file():
            raise InvalidInputError("file", f"{source} does not exist or is not a file")
        try:
            self._tar = tarfile.open(source, mode="r:*")  # noqa: SIM115
        except (tarfile.TarError, EOFError):
            raise _not_a_backup(source, "not a tar archive") from None

    async def next(self) -> tarfile.TarInfo | None:
        try:
            return await anyio.to_thread.run_sync(self._tar.next)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise _damaged(self.source, exc) from None

    async def read(self, member: tarfile.TarInfo, limit: int) -> bytes:
        if member.size > limit:
            raise _not_a_backup(self.source, f"{member.name} is larger than any Trace writes")

        def read() -> bytes:
            fh = self._tar.extractfile(member)
            assert fh is not None  # a regular file, checked by the caller
            return fh.read()

        try:
            return await anyio.to_thread.run_sync(read)
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise _damaged(self.source, exc) from None

    async def copy(self, member: tarfile.TarInfo, target: Path) -> None:
        def copy() -> None:
            fh = self._tar.extractfile(member)
            assert fh is not None
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                while chunk := fh.read(1024 * 1024):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())

        try:
            await anyio.to_thread.run_sync(copy)
        except (tarfile.TarError, EOFError) as exc:
            raise _damaged(self.source, exc) from None

    def close(self) -> None:
        self._tar.close()


class _Stated(msgspec.Struct):
    """What any version of ``backup.json`` says first: which format, which version."""

    format: str | None = None
    version: int | None = None
    app_version: str | None = None


def _decode(source: Path, member: str, data: bytes, kind: type[BackupHeader]) -> BackupHeader:
    try:
        stated = msgspec.json.decode(data, type=_Stated)
    except msgspec.DecodeError:
        raise _not_a_backup(source, f"its {member} is not a JSON object") from None
    if stated.format != BACKUP_FORMAT:
        raise _not_a_backup(source, f"its {member} states the format {stated.format!r}")
    if stated.version is not None and stated.version > BACKUP_VERSION:
        raise InvalidInputError(
            "file",
            f"{source} was written by a newer Trace ({stated.app_version}, backup version "
            f"{stated.version}); this one reads backup versions up to {BACKUP_VERSION}",
        )
    try:
        return msgspec.json.decode(data, type=kind)
    except msgspec.DecodeError as exc:
        raise _not_a_backup(source, f"its {member} is unreadable ({exc})") from None


class _Restore:
    """One restore in progress: what it has written, so a failure can take it back."""

    def __init__(
        self,
        source: Path,
        *,
        database: DatabaseBackup,
        database_path: Path,
        blobs: BlobStore,
        files_dir: Path,
        progress: ProgressCallback | None,
    ) -> None:
        self.source = source
        self.database = database
        self.database_path = database_path
        self.blobs = blobs
        self.files_dir = files_dir
        self.progress = progress
        self.copy_path = database_path.with_name(f".{database_path.name}.restoring")
        self.blobs_written: dict[str, tuple[int, str]] = {}
        self.files: dict[str, bytes] = {}
        self.files_written: list[Path] = []

    async def run(self) -> BackupManifest:
        self.database_path.parent.mkdir(parents=True, exist_ok=True)
        reader = await anyio.to_thread.run_sync(_TarReader, self.source)
        try:
            header, manifest = await self._read(reader)
        finally:
            reader.close()
        await self._check(header, manifest)
        for name, data in self.files.items():
            await anyio.to_thread.run_sync(self._write_file, name, data)
        os.replace(self.copy_path, self.database_path)
        _fsync_dir(self.database_path.parent)
        return manifest

    async def _read(self, reader: _TarReader) -> tuple[BackupHeader, BackupManifest]:
        source = self.source
        first = await reader.next()
        if first is None or first.name != HEADER_MEMBER or not first.isfile():
            raise _not_a_backup(source, f"it does not start with {HEADER_MEMBER}")
        data = await reader.read(first, _MAX_JSON_BYTES)
        header = _decode(source, HEADER_MEMBER, data, BackupHeader)
        manifest: BackupHeader | None = None
        has_database = False
        while (member := await reader.next()) is not None:
            name = member.name
            if not member.isfile():
                raise _not_a_backup(source, f"{name!r} is not a plain file")
            if manifest is not None:
                raise _not_a_backup(source, f"{name!r} comes after {MANIFEST_MEMBER}")
            if name == DATABASE_MEMBER and not has_database:
                await reader.copy(member, self.copy_path)
                has_database = True
            elif name == MANIFEST_MEMBER:
                data = await reader.read(member, _MAX_JSON_BYTES)
                manifest = _decode(source, MANIFEST_MEMBER, data, BackupManifest)
            elif name.startswith(FILES_DIR) and _FILE_NAME.fullmatch(name[len(FILES_DIR) :]):
                self.files[name[len(FILES_DIR) :]] = await reader.read(member, _MAX_FILE_BYTES)
            elif name.startswith(BLOBS_DIR) and name[len(BLOBS_DIR) :] not in self.blobs_written:
                data = await reader.read(member, _MAX_BLOB_BYTES)
                await self._put_blob(name[len(BLOBS_DIR) :], data)
                if self.progress is not None:
                    self.progress(len(self.blobs_written), header.blob_count)
            else:
                raise _not_a_backup(source, f"it holds {name!r}, which no Trace backup holds")
        if not has_database:
            raise _not_a_backup(source, f"it holds no {DATABASE_MEMBER}")
        if not isinstance(manifest, BackupManifest):
            raise _not_a_backup(source, f"it ends without {MANIFEST_MEMBER} (cut short?)")
        return header, manifest

    async def _put_blob(self, key: str, data: bytes) -> None:
        if not all(_FILE_NAME.fullmatch(segment) for segment in key.split("/")):
            raise _not_a_backup(self.source, f"{BLOBS_DIR}{key!r} is not an attachment file name")
        # Marked written before the put: a put that fails half-way is removed too.
        self.blobs_written[key] = (len(data), hashlib.sha256(data).hexdigest())
        await self.blobs.put(key, data)

    async def _check(self, header: BackupHeader, manifest: BackupManifest) -> None:
        """Check the archive against its manifest, and the database against both."""
        source = self.source
        listed = {blob.key: (blob.size, blob.sha256) for blob in manifest.blobs}
        for key, found in self.blobs_written.items():
            if listed.get(key) != found:
                what = "is not in its manifest" if key not in listed else "does not match it"
                raise _not_a_backup(source, f"attachment file {key} {what}")
        absent = sorted(set(listed) - set(self.blobs_written))
        if absent:
            raise _not_a_backup(source, f"attachment file {absent[0]} is listed but missing")
        if set(self.files) != set(manifest.files):
            raise _not_a_backup(source, "its key files do not match its manifest")
        copy = await self.database.check(self.copy_path)
        if tuple(sorted(copy.revisions)) != tuple(sorted(header.revisions)):
            raise _not_a_backup(source, "its database is not at the revisions it states")
        referred = {blob.key for blob in copy.blobs}
        unaccounted = sorted(referred - set(listed) - set(manifest.missing_blobs))
        if unaccounted:
            raise _not_a_backup(
                source, f"its database refers to attachment file {unaccounted[0]}, not in it"
            )

    def _write_file(self, name: str, data: bytes) -> None:
        path = self.files_dir / name
        self.files_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.files_written.append(path)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)

    async def undo(self) -> None:
        """Remove everything this restore wrote (it went into an empty data directory)."""
        self.copy_path.unlink(missing_ok=True)
        for path in self.files_written:
            path.unlink(missing_ok=True)
        for key in self.blobs_written:
            with contextlib.suppress(Exception):  # the first failure is the one to report
                await self.blobs.delete(key)


async def restore_backup(
    source: Path,
    *,
    database: DatabaseBackup,
    database_path: Path,
    blobs: BlobStore,
    files_dir: Path,
    progress: ProgressCallback | None = None,
) -> BackupManifest:
    """Put the backup ``source`` back: attachment files, keys, then the database file.

    Meant for an empty data directory (the caller checks): nothing is merged.
    The archive is checked against its manifest (every attachment file's size
    and SHA-256) and the database copy against both (integrity, foreign keys,
    revisions, every file it refers to present) before the database file is
    moved into place; on any failure everything written is removed again.

    Args:
        source: the archive ``trace backup`` wrote.
        database: checks the database file (the adapter for the configured database).
        database_path: where the database file goes; must not exist.
        blobs: where the attachment files go.
        files_dir: where the generated key files go (the data directory).
        progress: called with (attachment files restored, total).

    Returns:
        The backup's manifest.

    Raises:
        InvalidInputError: (field ``file``) not a Trace backup, from a newer
            Trace, or damaged; (field ``database``) the database file exists or
            the copy in the archive fails its checks.

    """
    restore = _Restore(
        Path(source),
        database=database,
        database_path=Path(database_path),
        blobs=blobs,
        files_dir=Path(files_dir),
        progress=progress,
    )
    if restore.database_path.exists():
        raise InvalidInputError("database", f"{restore.database_path} exists")
    try:
        return await restore.run()
    except BaseException:
        with anyio.CancelScope(shield=True):
            await restore.undo()
        raise


def _fsync_dir(directory: Path) -> None:
    # Makes a rename durable; not possible on every platform.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)
