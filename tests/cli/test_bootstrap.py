"""The composition root builds Trace from settings, and takes any adapter given instead."""

from __future__ import annotations

from pathlib import Path

import pytest

from trace_core.errors import InvalidInputError
from trace_core.model import EntryDraft, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_http.bootstrap import build_trace, open_trace
from trace_http.settings import ServerSettings, Settings, SettingsError, StorageSettings
from trace_sql import FilesystemBlobStore, SqlStorage
from trace_sql.migrate import current_revisions, head_revisions

pytestmark = pytest.mark.anyio


def _settings(tmp_path: Path, **storage: object) -> Settings:
    return Settings(storage=StorageSettings(data_dir=str(tmp_path / "data"), **storage))  # type: ignore[arg-type]


async def test_settings_alone_give_sqlite_and_files_in_the_data_dir(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    async with open_trace(settings) as trace:
        assert isinstance(trace.storage, SqlStorage)
        assert isinstance(trace.blobs, FilesystemBlobStore)
        assert trace.search is not None  # the SQL full-text index
        account = await trace.create_account("ada@example.org")
        who = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(who, EntryDraft(content="hello"))
        assert (await trace.get_entry(who, entry.entry_id)).entry.content == "hello"
    assert (tmp_path / "data" / "trace.db").exists()
    assert await current_revisions(settings.storage.url) == head_revisions()


async def test_the_attachment_size_setting_is_the_facades_limit(tmp_path: Path) -> None:
    async with open_trace(_settings(tmp_path)) as trace:
        assert trace.limits.max_attachment_bytes == 10 * 1024**2
    settings = _settings(tmp_path / "small", max_attachment_bytes=100)
    async with open_trace(settings) as trace:
        assert trace.limits.max_attachment_bytes == 100
        account = await trace.create_account("ada@example.org")
        who = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(who, EntryDraft(content="hello"))
        with pytest.raises(InvalidInputError, match="at most 100 bytes"):
            await trace.add_attachment(who, entry.entry_id, png_bytes() + bytes(200))


async def test_no_migration_when_migrate_on_start_is_off(tmp_path: Path) -> None:
    settings = _settings(tmp_path, migrate_on_start=False)
    async with open_trace(settings):
        pass
    assert await current_revisions(settings.storage.url) == set()


async def test_every_adapter_can_be_given_instead(tmp_path: Path) -> None:
    storage, blobs, clock = InMemoryStorage(), InMemoryBlobStore(), FixedClock()
    trace = await build_trace(_settings(tmp_path), storage=storage, blobs=blobs, clock=clock)
    assert trace.storage is storage
    assert trace.blobs is blobs
    assert trace.clock is clock
    assert trace.search is None  # not SQL storage: the facade's own fallback
    account = await trace.create_account("ada@example.org")
    assert account.created_at == clock.now()
    # Nothing was written to the configured data directory.
    assert not (tmp_path / "data" / "trace.db").exists()


async def test_open_trace_leaves_a_given_storage_open(tmp_path: Path) -> None:
    storage = InMemoryStorage()
    async with open_trace(_settings(tmp_path), storage=storage, blobs=InMemoryBlobStore()) as t:
        await t.create_account("ada@example.org")
    async with storage.unit_of_work() as uow:
        assert [a.email for a in await uow.accounts.list()] == ["ada@example.org"]


async def test_meilisearch_without_a_url_is_refused_naming_the_setting(tmp_path: Path) -> None:
    from trace_core.errors import InvalidInputError
    from trace_http.settings import SearchSettings

    settings = Settings(
        storage=StorageSettings(data_dir=str(tmp_path / "data")),
        search=SearchSettings(kind="meilisearch"),
    )
    with pytest.raises(InvalidInputError) as info:
        async with open_trace(settings):
            pass
    assert info.value.field == "search.meilisearch_url"


async def _next_cursor(trace: Trace) -> tuple[Principal, str]:
    account = await trace.get_account_by_email("ada@example.org")
    who = trace.principal_for(account, actor="test")
    page = await trace.list_entries(who, limit=1)
    assert page.next_cursor is not None
    return who, page.next_cursor


async def test_cursors_outlive_a_restart_with_the_key_generated_into_the_data_dir(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    async with open_trace(settings) as trace:
        account = await trace.create_account("ada@example.org")
        who = trace.principal_for(account, actor="test")
        for text in ("one", "two"):
            await trace.create_entry(who, EntryDraft(content=text))
        _, cursor = await _next_cursor(trace)
    key = tmp_path / "data" / "cursor.key"
    assert key.stat().st_mode & 0o777 == 0o600

    async with open_trace(settings) as restarted:
        who, _ = await _next_cursor(restarted)
        assert len((await restarted.list_entries(who, limit=1, cursor=cursor)).items) == 1

    key.write_text("x" * 48)  # another key: the old cursor is no longer ours
    async with open_trace(settings) as rekeyed:
        with pytest.raises(InvalidInputError) as caught:
            await rekeyed.list_entries(who, limit=1, cursor=cursor)
        assert caught.value.field == "cursor"


async def test_replicas_sharing_cursor_secret_accept_each_others_cursors(tmp_path: Path) -> None:
    storage = InMemoryStorage()
    secret = "s" * 40
    first, second = (
        Settings(
            server=ServerSettings(cursor_secret=secret),
            storage=StorageSettings(data_dir=str(tmp_path / name)),
        )
        for name in ("a", "b")
    )
    one = await build_trace(first, storage=storage, blobs=InMemoryBlobStore())
    two = await build_trace(second, storage=storage, blobs=InMemoryBlobStore())
    account = await one.create_account("ada@example.org")
    who = one.principal_for(account, actor="test")
    for text in ("one", "two"):
        await one.create_entry(who, EntryDraft(content=text))
    _, cursor = await _next_cursor(one)

    assert len((await two.list_entries(who, limit=1, cursor=cursor)).items) == 1
    assert not (tmp_path / "a" / "cursor.key").exists()


def test_a_short_cursor_secret_is_refused_naming_the_setting() -> None:
    with pytest.raises(SettingsError) as caught:
        ServerSettings(cursor_secret="short")
    assert caught.value.field == "server.cursor_secret"


# --- the runtime: every wired part, built once ---------------------------------------


async def test_a_runtime_from_settings_keeps_credentials_in_the_same_database(
    tmp_path: Path,
) -> None:
    from trace_core.model import Scope
    from trace_http.bootstrap import open_runtime

    settings = _settings(tmp_path)
    async with open_runtime(settings) as runtime:
        account = await runtime.trace.create_account("ada@example.org")
        created = await runtime.api_keys.create(account.account_id, "laptop", Scope.READ)
        principal = await runtime.authenticator.authenticate(created.plaintext)
        assert principal.account_id == account.account_id
        assert runtime.public_url == "http://127.0.0.1:8000"
        assert len(runtime.background) == 2  # search start-up, trash upkeep

    async with open_runtime(settings) as again:  # another process, the same database
        assert [k.name for k in await again.api_keys.list_keys(account.account_id)] == ["laptop"]


async def test_a_runtime_around_in_memory_parts_needs_no_database(tmp_path: Path) -> None:
    from trace_http.bootstrap import build_runtime

    storage = InMemoryStorage()
    runtime = await build_runtime(_settings(tmp_path), storage=storage, blobs=InMemoryBlobStore())

    assert runtime.trace.storage is storage
    assert await runtime.migrate() == []  # not the configured database: nothing to migrate
    assert not (tmp_path / "data" / "trace.db").exists()


async def test_serving_with_auth_switched_off_acts_as_the_test_user(tmp_path: Path) -> None:
    from trace_http.bootstrap import open_runtime
    from trace_http.settings import McpSettings

    settings = Settings(
        storage=StorageSettings(data_dir=str(tmp_path / "data")),
        mcp=McpSettings(disable_auth_for_tests=True, test_user="tester@example.org"),
    )
    async with open_runtime(settings) as command:
        assert command.test_principal is None  # only the server serves without auth
    async with open_runtime(settings, serving=True) as server:
        assert server.test_principal is not None
        account = await server.trace.get_account_by_email("tester@example.org")
        assert server.test_principal.account_id == account.account_id


_COMMAND_RUNTIME = """
import asyncio, json, sys
from trace_http.bootstrap import open_runtime

async def main():
    async with open_runtime() as runtime:
        await runtime.trace.list_accounts()

asyncio.run(main())
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_a_command_runtime_loads_no_oauth_mcp_or_web_code_until_used(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    env["TRACE_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", _COMMAND_RUNTIME],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    imported = set(json.loads(done.stdout.splitlines()[-1]))
    assert not imported & {"authlib", "mcp", "litestar", "trace_oauth", "trace_mcp", "uvicorn"}
    assert not (tmp_path / "data" / "session.key").exists()
    assert not (tmp_path / "data" / "attachment-url.key").exists()


@pytest.mark.postgres
async def test_with_an_app_role_the_server_queries_as_that_role_under_row_level_security(
    postgres_url: str, postgres_app_role: str, tmp_path: Path
) -> None:
    import sqlalchemy as sa

    settings = _settings(tmp_path, database_url=postgres_url, database_app_role=postgres_app_role)
    async with open_trace(settings) as trace:
        account = await trace.create_account("ada@example.org")
        who = trace.principal_for(account, actor="test")
        entry = await trace.create_entry(who, EntryDraft(content="hello"))
        assert (await trace.get_entry(who, entry.entry_id)).entry.content == "hello"
        assert isinstance(trace.storage, SqlStorage)
        async with trace.storage.connect() as conn:
            assert (await conn.execute(sa.text("SELECT current_user"))).scalar() == (
                postgres_app_role
            )
            # No account set: the entry just written is not visible.
            assert (await conn.execute(sa.text("SELECT count(*) FROM entries"))).scalar() == 0


@pytest.mark.postgres
async def test_an_app_role_that_could_bypass_row_level_security_stops_the_start(
    postgres_url: str, tmp_path: Path
) -> None:
    settings = _settings(tmp_path, database_url=postgres_url, database_app_role="postgres")
    with pytest.raises(InvalidInputError) as info:
        async with open_trace(settings):
            pass
    assert info.value.field == "storage.database_app_role"
    assert "superuser" in info.value.message
