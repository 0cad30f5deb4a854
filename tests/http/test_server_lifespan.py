"""What the real server does around its requests: search start-up and trash upkeep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

import trace_http.runtime
from trace_core.model import EntryDraft
from trace_core.testing.memory import FixedClock
from trace_http.bootstrap import open_runtime, open_trace
from trace_http.settings import Settings, StorageSettings
from trace_http.web.app import create_app
from trace_sql.search import SqlSearchIndex

pytestmark = pytest.mark.anyio


async def test_the_server_starts_search_and_purges_expired_trash_on_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(storage=StorageSettings(data_dir=str(tmp_path)))
    clock = FixedClock(datetime.now(UTC) - timedelta(days=40))
    async with open_trace(settings, clock=clock) as trace:
        account = await trace.create_account("ada@example.org")
        principal = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(principal, EntryDraft(content="long gone"))
        await trace.delete_entry(principal, entry.entry_id)

    started: list[Any] = []
    real_start = SqlSearchIndex.start

    async def recording_start(index: Any) -> None:
        started.append(index)
        await real_start(index)

    purged = anyio.Event()
    real_purge = trace_http.runtime.run_maintenance_once
    counts: list[int] = []

    async def recording_purge(trace: Any) -> int:
        counts.append(await real_purge(trace))
        purged.set()
        return counts[-1]

    monkeypatch.setattr(SqlSearchIndex, "start", recording_start)
    monkeypatch.setattr(trace_http.runtime, "run_maintenance_once", recording_purge)

    with anyio.fail_after(120):
        async with open_runtime(settings, serving=True) as runtime:
            app = create_app(runtime)
            async with (
                app.lifespan(),
                httpx2.AsyncClient(
                    transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000"
                ) as client,
            ):
                await purged.wait()
                assert (await client.get("/health")).status_code == 200
                async with open_trace(settings) as trace:
                    account = await trace.get_account_by_email("ada@example.org")
                    trash = await trace.list_trash(trace.principal_for(account, actor="test"))

    assert len(started) == 1
    assert started[0] is not None
    assert counts == [1]
    assert trash.total == 0
