"""``trace backup`` and ``trace restore``: the whole server as one archive file.

What the archive holds and why a backup taken while the server writes is
consistent: :mod:`trace_core.backup`. A server on PostgreSQL is refused with a
pointer to docs/deploy.md (``pg_dump``).
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from trace_core.errors import InvalidInputError
from trace_http.cli import CliState, pass_state
from trace_http.cli._output import progress_bar, stderr

if TYPE_CHECKING:
    from trace_core.backup import BackupManifest
    from trace_http.runtime import Runtime

__all__ = ["backup", "restore"]


def _size(count: int) -> str:
    """Format a byte count for people (1.2 MB)."""
    value = float(count)
    for unit in ("bytes", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")  # pragma: no cover


def _count(number: int, thing: str, things: str | None = None) -> str:
    return f"{number} {thing if number == 1 else (things or thing + 's')}"


def _contents(manifest: BackupManifest) -> str:
    counts = manifest.counts
    return (
        f"{_count(counts.get('accounts', 0), 'account')}, "
        f"{_count(counts.get('entries', 0), 'entry', 'entries')} "
        f"({_count(counts.get('entry_versions', 0), 'version')}) and "
        f"{_count(len(manifest.blobs), 'attachment file')} ({_size(manifest.blob_bytes)})"
    )


def _warn_missing(manifest: BackupManifest) -> None:
    if manifest.missing_blobs:
        shown = ", ".join(manifest.missing_blobs[:5])
        more = "" if len(manifest.missing_blobs) <= 5 else ", …"
        click.secho(
            f"warning: {_count(len(manifest.missing_blobs), 'attachment file')} the database "
            f"refers to went missing from the data directory before the backup: {shown}{more} "
            "(their rows are in the backup, their bytes are not)",
            fg="yellow",
            err=True,
        )


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
@pass_state
def backup(state: CliState, file: Path, force: bool) -> None:
    """Back up the database, attachment files and generated keys into FILE.

    Safe while the server runs: it keeps answering and writing, and the backup
    is one consistent moment. FILE is a tar archive, gzip-compressed when its
    name ends in .gz or .tgz; it holds password hashes and keys, so it is
    written readable by you alone. Bring it back with trace restore. A server on
    PostgreSQL is backed up with pg_dump instead (see docs/deploy.md).

    \b
    Example:
      trace backup trace-$(date +%F).tar.gz
    """
    if file.exists() and not force:
        raise InvalidInputError("FILE", f"{file} exists: choose another name, or --force")

    async def body(runtime: Runtime) -> BackupManifest:
        service = runtime.backups
        with progress_bar("attachment files", sys.stderr.isatty()) as progress:
            return await service.create(file, overwrite=force, progress=progress)

    manifest = state.run(body)
    _warn_missing(manifest)
    stderr.print(f"backed up {_contents(manifest)} into {file}", markup=False)


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_state
def restore(state: CliState, file: Path) -> None:
    """Restore a backup made by trace backup into an empty or new data directory.

    Point TRACE_DATA_DIR (or --config) at the directory to fill first: one that
    holds anything is refused, so nothing is ever mixed or overwritten. The
    database is then upgraded to this Trace's schema. Start the server on it as
    usual.

    \b
    Example:
      TRACE_DATA_DIR=/srv/trace-restored trace restore trace-2026-05-01.tar.gz
    """
    from trace_http.backups import restore as restore_into

    async def run() -> tuple[BackupManifest, Path]:
        with progress_bar("attachment files", sys.stderr.isatty()) as progress:
            return await restore_into(
                file, state.parts.get("settings"), config=state.config, progress=progress
            )

    manifest, data_dir = asyncio.run(run())
    _warn_missing(manifest)
    taken = manifest.created_at.strftime("%Y-%m-%d %H:%M UTC")
    stderr.print(
        f"restored {_contents(manifest)} into {data_dir} "
        f"(backup of {taken}, Trace {manifest.app_version})",
        markup=False,
    )
