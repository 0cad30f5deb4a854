from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import Result

from trace_core.model import EntryDraft
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import FixedClock
from trace_http.bootstrap import open_trace
from trace_http.runtime import trash_upkeep_job
from trace_http.settings import load_settings

RunCli = Callable[..., Result]


async def _delete_entry(content: str, *, deleted_days_ago: int) -> str:
    """Create and delete an entry for ada as if it happened ``deleted_days_ago`` days ago."""
    clock = FixedClock(datetime.now(UTC) - timedelta(days=deleted_days_ago))
    async with open_trace(load_settings(), clock=clock) as trace:
        account = await trace.get_account_by_email("ada@example.org")
        principal = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(principal, EntryDraft(content=content))
        await trace.add_attachment(principal, entry.entry_id, png_bytes())
        await trace.delete_entry(principal, entry.entry_id)
        return str(entry.entry_id)


def test_trash_list_shows_deleted_entries_and_restore_brings_one_back(
    cli: RunCli, ada: str
) -> None:
    entry_id = anyio.run(lambda: _delete_entry("gone for now", deleted_days_ago=0))
    listed = cli("trash", "list", "--user", ada)
    assert listed.exit_code == 0, listed.output
    assert entry_id in listed.output
    assert "1 deleted entry" in listed.output
    restored = cli("trash", "restore", entry_id, "--user", ada)
    assert restored.exit_code == 0, restored.output
    assert restored.stdout.strip() == entry_id
    assert entry_id not in cli("trash", "list", "--user", ada).output


def test_trash_restore_of_a_live_entry_is_a_clean_error(cli: RunCli, ada: str) -> None:
    entry_id = anyio.run(lambda: _delete_entry("x", deleted_days_ago=0))
    assert cli("trash", "restore", entry_id, "--user", ada).exit_code == 0
    again = cli("trash", "restore", entry_id, "--user", ada)
    assert again.exit_code == 1
    assert "not in the trash" in again.output
    bad = cli("trash", "restore", "not-an-id", "--user", ada)
    assert bad.exit_code == 2
    assert "entry_id" in bad.output


def test_trash_purge_removes_only_entries_past_retention_and_their_files(
    cli: RunCli, ada: str, data_dir: Path
) -> None:
    old = anyio.run(lambda: _delete_entry("old", deleted_days_ago=40))
    recent = anyio.run(lambda: _delete_entry("recent", deleted_days_ago=3))
    blob_files = [p for p in (data_dir / "blobs").rglob("*") if p.is_file()]
    assert len(blob_files) == 2
    purged = cli("trash", "purge")
    assert purged.exit_code == 0, purged.output
    assert purged.stdout.strip() == "1"
    listed = cli("trash", "list", "--user", ada).output
    assert recent in listed
    assert old not in listed
    assert len([p for p in (data_dir / "blobs").rglob("*") if p.is_file()]) == 1


def test_a_shorter_retention_setting_purges_sooner(cli: RunCli, ada: str) -> None:
    anyio.run(lambda: _delete_entry("recent", deleted_days_ago=3))
    purged = cli("trash", "purge", env={"TRACE_STORAGE_TRASH_RETENTION_DAYS": "2"})
    assert purged.stdout.strip() == "1"


def test_a_retention_below_one_day_is_refused_naming_the_setting(cli: RunCli) -> None:
    result = cli("trash", "purge", env={"TRACE_STORAGE_TRASH_RETENTION_DAYS": "0"})
    assert result.exit_code == 2
    assert "storage.trash_retention_days" in result.output


class _CountingTrace:
    def __init__(self) -> None:
        self.calls = 0
        self.called = anyio.Event()

    async def purge_expired_trash(self) -> int:
        self.calls += 1
        self.called.set()
        return 0


@pytest.mark.anyio
async def test_the_server_lifespan_purges_the_trash_on_start_and_stops_cleanly() -> None:
    fake: Any = _CountingTrace()
    with anyio.fail_after(5):
        async with trash_upkeep_job(fake, 3600)():
            await fake.called.wait()
    assert fake.calls == 1


@pytest.mark.anyio
async def test_an_interval_of_zero_turns_the_background_purge_off() -> None:
    fake: Any = _CountingTrace()
    async with trash_upkeep_job(fake, 0)():
        await anyio.lowlevel.checkpoint()
    assert fake.calls == 0


def test_trash_list_pages_by_the_cursor_it_prints(cli: RunCli, ada: str) -> None:
    deleted = {
        anyio.run(functools.partial(_delete_entry, f"n{i}", deleted_days_ago=0)) for i in range(3)
    }
    first = cli("trash", "list", "--user", ada, "--limit", "2", "--json")
    assert first.exit_code == 0, first.output
    cursor = first.stderr.split("--cursor ", 1)[1].split()[0]
    second = cli("trash", "list", "--user", ada, "--limit", "2", "--json", "--cursor", cursor)
    assert second.exit_code == 0, second.output
    assert "--cursor" not in second.stderr
    shown = {e["entry_id"] for e in json.loads(first.stdout) + json.loads(second.stdout)}
    assert shown == deleted
    forged = cli("trash", "list", "--user", ada, "--cursor", "bm90LWEtY3Vyc29y")
    assert forged.exit_code == 2
    assert "cursor" in forged.output
