"""``trace backup`` and ``trace restore``: a consistent copy of a running server, brought back."""

from __future__ import annotations

import asyncio
import hashlib
import io
import sqlite3
import tarfile
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import Result

from trace_core.backup import BackupService, DatabaseCopy
from trace_core.model import EntryDraft, EntryPatch, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_http.backups import key_files, restore
from trace_http.bootstrap import open_runtime
from trace_http.settings import Settings, StorageSettings
from trace_sql import FilesystemBlobStore
from trace_sql.backup import SqliteBackup
from trace_sql.migrate import current_revisions, head_revisions

RunCli = Callable[..., Result]


def _settings(data_dir: Path) -> Settings:
    return Settings(storage=StorageSettings(data_dir=str(data_dir)))


def _assert_consistent(data_dir: Path) -> dict[str, int]:
    """Check a restored data directory the way an operator would want it checked.

    The database passes SQLite's integrity and foreign-key checks and is at the
    newest schema; every entry has each of its versions; every attachment's file
    is there with the size and SHA-256 its row records. Returns row counts.
    """
    database = data_dir / "trace.db"
    conn = sqlite3.connect(database)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        versions: dict[str, set[int]] = {}
        for entry_id, version in conn.execute("SELECT entry_id, version FROM entry_versions"):
            versions.setdefault(entry_id, set()).add(version)
        entries = conn.execute("SELECT entry_id, version FROM entries").fetchall()
        for entry_id, version in entries:
            assert versions.get(entry_id) == set(range(1, version + 1)), entry_id
        attachments = conn.execute("SELECT blob_key, file_size, sha256 FROM attachments").fetchall()
        for key, size, sha256 in attachments:
            data = (data_dir / "blobs" / key).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha256), key
    finally:
        conn.close()
    revisions = asyncio.run(current_revisions(f"sqlite:///{database}"))
    assert revisions == head_revisions()
    return {"entries": len(entries), "attachments": len(attachments)}


# --- a backup while the server writes ------------------------------------------------


class Writer:
    """Writes through the facade in a loop, as a busy server would, and counts its rounds."""

    def __init__(self, trace: Trace, principal: Principal) -> None:
        self.trace = trace
        self.principal = principal
        self.rounds = 0
        self.progressed = anyio.Event()

    async def round(self) -> None:
        """Create an entry, edit it, attach an image, and move the previous round's to the trash."""
        n = self.rounds
        entry = await self.trace.create_entry(self.principal, EntryDraft(content=f"entry {n}"))
        await self.trace.update_entry(
            self.principal, entry.entry_id, EntryPatch(content=f"entry {n}, edited")
        )
        await self.trace.add_attachment(self.principal, entry.entry_id, png_bytes(seed=n))
        if n % 3 == 1:
            await self.trace.delete_entry(self.principal, entry.entry_id)
        self.rounds += 1
        self.progressed.set()
        self.progressed = anyio.Event()

    async def run(self, stop: anyio.Event) -> None:
        while not stop.is_set():
            await self.round()

    async def rounds_after(self, count: int) -> None:
        """Wait until ``count`` more rounds have been written."""
        target = self.rounds + count
        while self.rounds < target:
            await self.progressed.wait()

    async def purge_trash(self) -> int:
        """Purge the whole trash now: rows first, then their attachment files."""
        later = self.trace.clock.now() + timedelta(days=365)
        return await self.trace.purge_expired_trash(now=later)


class CopyWhileWriting(SqliteBackup):
    """The real SQLite copy; after each, the writer goes on before any file is copied.

    After the first copy the whole trash is purged too: files that copy refers
    to are deleted under the backup, as a purge or a deleted attachment would.
    """

    def __init__(self, path: Path, writer: Writer) -> None:
        super().__init__(path)
        self.writer = writer
        self.copies: list[DatabaseCopy] = []
        self.purged = 0

    async def copy_to(self, target: Path) -> DatabaseCopy:
        copy = await super().copy_to(target)
        self.copies.append(copy)
        await self.writer.rounds_after(3)
        if len(self.copies) == 1:
            self.purged = await self.writer.purge_trash()
        return copy


@pytest.fixture
async def live(tmp_path: Path, anyio_backend: Any) -> AsyncIterator[tuple[Settings, Writer]]:
    """A server's data directory with some entries, attachments and trash, and its writer."""
    settings = _settings(tmp_path / "live")
    async with open_runtime(settings) as runtime:
        account = await runtime.trace.create_account("ada@example.org")
        writer = Writer(runtime.trace, runtime.trace.principal_for(account, actor="writer"))
        for _ in range(6):
            await writer.round()
        yield settings, writer


@pytest.mark.anyio
async def test_a_backup_taken_during_writes_restores_to_a_consistent_database(
    live: tuple[Settings, Writer], tmp_path: Path
) -> None:
    settings, writer = live
    database = CopyWhileWriting(settings.storage.data_path / "trace.db", writer)
    service = BackupService(
        database=database,
        blobs=FilesystemBlobStore(settings.storage.blob_path),
        files=key_files(settings),
        clock=writer.trace.clock,
        app_version="test",
    )
    archive = tmp_path / "backup.tar.gz"
    stop = anyio.Event()
    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            group.start_soon(writer.run, stop)
            manifest = await service.create(archive)
            stop.set()

    # The first copy referred to files the purge deleted: a second copy was taken.
    assert database.purged > 0
    assert len(database.copies) == 2
    assert manifest.missing_blobs == ()
    restored = tmp_path / "restored"
    await restore(archive, _settings(restored))

    counts = await anyio.to_thread.run_sync(_assert_consistent, restored)
    assert counts == {
        "entries": database.copies[-1].counts["entries"],
        "attachments": database.copies[-1].counts["attachments"],
    }
    assert counts["entries"] > 6  # rounds written while the backup ran are in it too
    assert writer.rounds > 6 + counts["entries"] - database.copies[0].counts["entries"]


@pytest.mark.anyio
async def test_a_file_lost_before_the_backup_is_listed_as_missing_not_fatal(
    live: tuple[Settings, Writer], tmp_path: Path
) -> None:
    settings, _ = live
    [lost, *_] = sorted(p for p in settings.storage.blob_path.rglob("*") if p.is_file())
    lost.unlink()
    async with open_runtime(settings) as runtime:
        manifest = await runtime.backups.create(tmp_path / "backup.tar")

    key = lost.relative_to(settings.storage.blob_path).as_posix()
    assert manifest.missing_blobs == (key,)
    restored = await restore(tmp_path / "backup.tar", _settings(tmp_path / "restored"))
    assert restored.manifest.missing_blobs == (key,)
    assert not (tmp_path / "restored" / "blobs" / key).exists()


# --- the commands ------------------------------------------------------------------------


@pytest.fixture
def filled(cli: RunCli, ada: str, tmp_path: Path) -> str:
    """Ada's account with an entry and an image; returns the entry id."""
    entry_id = cli("entry", "create", "--user", ada, "--content", "kept safe").stdout.strip()
    image = tmp_path / "photo.png"
    image.write_bytes(png_bytes(seed=7))
    assert cli("attachment", "add", "--user", ada, entry_id, str(image)).exit_code == 0
    assert cli("key", "create", "--user", ada, "--name", "laptop").exit_code == 0
    return entry_id


@pytest.mark.parametrize("name", ["backup.tar", "backup.tar.gz", "backup.tgz"])
def test_backup_then_restore_into_a_new_data_dir_gives_the_same_server(
    cli: RunCli, filled: str, data_dir: Path, tmp_path: Path, name: str
) -> None:
    archive = tmp_path / name
    backed_up = cli("backup", str(archive))
    assert backed_up.exit_code == 0, backed_up.output
    # The entry was created, then its image added: two versions.
    assert "1 account, 1 entry (2 versions) and 1 attachment file" in backed_up.stderr
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[:2] == ["backup.json", "trace.db"]
    assert names[-1] == "manifest.json"

    restored = tmp_path / "restored"
    result = cli("restore", str(archive), env={"TRACE_DATA_DIR": str(restored)})

    assert result.exit_code == 0, result.output
    assert str(restored) in result.stderr
    _assert_consistent(restored)
    for key in ("cursor.key", "session.key"):
        if (data_dir / key).exists():
            assert (restored / key).read_bytes() == (data_dir / key).read_bytes()
            assert (restored / key).stat().st_mode & 0o777 == 0o600
    listed = cli("key", "list", "--user", "ada@example.org", env={"TRACE_DATA_DIR": str(restored)})
    assert "laptop" in listed.stdout
    [attachment] = [p for p in (restored / "blobs").rglob("*") if p.is_file()]
    assert attachment.read_bytes() == png_bytes(seed=7)


def test_restore_refuses_a_data_dir_that_is_not_empty_naming_it(
    cli: RunCli, filled: str, data_dir: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar"
    cli("backup", str(archive))
    before = sorted(p.name for p in data_dir.iterdir())

    result = cli("restore", str(archive))

    assert result.exit_code == 2
    assert f"storage.data_dir: {data_dir} is not empty" in result.stderr
    assert sorted(p.name for p in data_dir.iterdir()) == before


def test_backup_refuses_to_replace_a_file_unless_forced(
    cli: RunCli, filled: str, tmp_path: Path
) -> None:
    archive = tmp_path / "backup.tar"
    archive.write_bytes(b"something else")

    refused = cli("backup", str(archive))
    assert refused.exit_code == 2
    assert "--force" in refused.stderr
    assert archive.read_bytes() == b"something else"

    assert cli("backup", str(archive), "--force").exit_code == 0
    assert tarfile.is_tarfile(archive)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _rewrite(archive: Path, target: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Copy a backup member by member, changing (or, for None, dropping) members."""
    with tarfile.open(archive) as source, tarfile.open(target, "w") as out:
        for member in source.getmembers():
            handle = source.extractfile(member)
            assert handle is not None
            data = change(member.name, handle.read())
            if data is not None:
                member.size = len(data)
                out.addfile(member, io.BytesIO(data))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda n, d: d[:-1] + bytes([d[-1] ^ 1]) if n.startswith("blobs/") else d, "match"),
        (lambda n, d: None if n.startswith("blobs/") else d, "missing"),
        (lambda n, d: None if n == "manifest.json" else d, "manifest.json"),
        (lambda n, d: b"x" * 4096 if n == "trace.db" else d, "not a SQLite database"),
        (lambda n, d: b'{"format": "other"}' if n == "backup.json" else d, "format"),
        (
            lambda n, d: (
                b'{"format": "trace-backup", "version": 99, "created_at":'
                b' "2030-01-01T00:00:00Z", "app_version": "9"}'
                if n == "backup.json"
                else d
            ),
            "newer",
        ),
    ],
    ids=["altered-file", "missing-file", "no-manifest", "bad-database", "other-format", "newer"],
)
def test_restore_refuses_a_damaged_backup_and_leaves_nothing_behind(
    cli: RunCli,
    filled: str,
    tmp_path: Path,
    change: Callable[[str, bytes], bytes | None],
    message: str,
) -> None:
    archive = tmp_path / "backup.tar"
    cli("backup", str(archive))
    damaged = tmp_path / "damaged.tar"
    _rewrite(archive, damaged, change)
    restored = tmp_path / "restored"

    result = cli("restore", str(damaged), env={"TRACE_DATA_DIR": str(restored)})

    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert not restored.exists()


def test_restore_refuses_a_file_that_is_not_a_backup(cli: RunCli, tmp_path: Path) -> None:
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    result = cli("restore", str(not_a_backup), env={"TRACE_DATA_DIR": str(tmp_path / "new")})
    assert result.exit_code == 2
    assert "is not a Trace backup" in result.stderr
    assert not (tmp_path / "new").exists()


def test_backup_and_restore_on_postgres_point_at_pg_dump(
    cli: RunCli, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue("postgres_url")
    env = {"TRACE_DATABASE_URL": url}

    backed_up = cli("backup", str(tmp_path / "backup.tar"), env=env)
    restored = cli("restore", __file__, env=env)

    assert backed_up.exit_code == 2
    assert "pg_dump" in backed_up.stderr
    assert "docs/deploy.md" in backed_up.stderr
    assert restored.exit_code == 2
    assert "pg_restore" in restored.stderr
    assert not (tmp_path / "backup.tar").exists()
