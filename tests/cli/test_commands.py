"""Every ``trace`` command against a temporary SQLite data directory."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import Result

from trace_core.testing.images import declaring, gif_bytes, png_bytes
from trace_http.cli import COMMANDS, main

RunCli = Callable[..., Result]


def _all_command_paths() -> list[list[str]]:
    ctx = click.Context(main)
    paths: list[list[str]] = [[]]
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert command is not None
        paths.append([name])
        if isinstance(command, click.Group):
            paths.extend([name, sub] for sub in command.list_commands(ctx))
    return paths


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "trace")
def test_every_command_has_help(cli: RunCli, path: list[str]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output
    # A help text is more than the usage line: the command's docstring is shown.
    assert len(result.output.strip().splitlines()) >= 3


def test_every_registered_command_is_importable() -> None:
    ctx = click.Context(main)
    for name in COMMANDS:
        assert isinstance(main.get_command(ctx, name), click.Command)


def test_migrate_brings_a_fresh_data_dir_to_the_newest_schema(cli: RunCli, data_dir: Path) -> None:
    result = cli("migrate")
    assert result.exit_code == 0, result.output
    from trace_sql.migrate import head_revisions

    reported = result.stdout.strip().removeprefix("database at ").split(", ")
    assert set(reported) == head_revisions()
    assert (data_dir / "trace.db").exists()
    # Running it again is harmless.
    assert cli("migrate").exit_code == 0


def test_user_create_prints_the_id_and_user_list_shows_the_account(cli: RunCli) -> None:
    created = cli("user", "create", "Ada@Example.org", "--name", "Ada Lovelace")
    assert created.exit_code == 0, created.output
    account_id = created.stdout.strip()
    listed = cli("user", "list", "--json")
    assert listed.exit_code == 0
    [account] = json.loads(listed.stdout)
    assert account["account_id"] == account_id
    assert account["email"] == "ada@example.org"
    assert account["name"] == "Ada Lovelace"
    assert account["has_password"] is False
    table = cli("user", "list")
    assert "ada@example.org" in table.stdout


def test_user_create_with_password_stdin_stores_a_verifiable_hash(
    cli: RunCli, data_dir: Path
) -> None:
    result = cli(
        "user", "create", "bob@example.org", "--password-stdin", input="s3cret-passphrase\n"
    )
    assert result.exit_code == 0, result.output
    [account] = json.loads(cli("user", "list", "--json").stdout)
    assert account["has_password"] is True

    import asyncio

    from trace_http.bootstrap import open_trace
    from trace_http.settings import load_settings
    from trace_oauth.passwords import verify_password

    async def stored_hash() -> str | None:
        async with open_trace(load_settings()) as trace:
            return (await trace.get_account_by_email("bob@example.org")).password_hash

    password_hash = asyncio.run(stored_hash())
    assert password_hash is not None
    assert password_hash.startswith("$argon2id$")
    assert verify_password(password_hash, "s3cret-passphrase")
    assert "s3cret" not in result.output


def test_user_create_refuses_a_short_password(cli: RunCli) -> None:
    result = cli("user", "create", "bob@example.org", "--password-stdin", input="short\n")
    assert result.exit_code == 2
    assert "password" in result.stderr
    assert json.loads(cli("user", "list", "--json").stdout) == []


def test_user_create_refuses_an_empty_password_on_stdin(cli: RunCli) -> None:
    result = cli("user", "create", "bob@example.org", "--password-stdin", input="")
    assert result.exit_code == 2
    assert "password" in result.stderr


def test_user_create_refuses_a_duplicate_email(cli: RunCli, ada: str) -> None:
    result = cli("user", "create", ada.upper())
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "exists" in result.stderr


def test_user_create_refuses_something_that_is_not_an_email(cli: RunCli) -> None:
    result = cli("user", "create", "not-an-email")
    assert result.exit_code == 2
    assert "email" in result.stderr


def test_stream_create_with_settings_and_stream_list(cli: RunCli, ada: str) -> None:
    settings = {"use_status": True, "statuses": ["todo", "done"], "default_status": "todo"}
    created = cli(
        "stream",
        "create",
        "Tasks",
        "--user",
        ada,
        "--color",
        "#3b82f6",
        "--icon",
        "check",
        "--description",
        "Things to do",
        "--settings",
        json.dumps(settings),
    )
    assert created.exit_code == 0, created.output
    stream_id = created.stdout.strip()
    listed = cli("stream", "list", "--user", ada, "--json")
    [stream] = json.loads(listed.stdout)
    assert stream["stream_id"] == stream_id
    assert stream["color"] == "#3b82f6"
    assert stream["entry_settings"]["statuses"] == ["todo", "done"]
    assert stream["entry_settings"]["default_status"] == "todo"
    assert "Tasks" in cli("stream", "list", "--user", ada).stdout


def test_stream_create_refuses_settings_that_are_not_json(cli: RunCli, ada: str) -> None:
    result = cli("stream", "create", "X", "--user", ada, "--settings", "{use_status: yes")
    assert result.exit_code == 2
    assert "settings" in result.stderr
    assert "JSON" in result.stderr


def test_stream_create_names_an_unknown_settings_key(cli: RunCli, ada: str) -> None:
    result = cli("stream", "create", "X", "--user", ada, "--settings", '{"use_colour": true}')
    assert result.exit_code == 2
    assert "use_colour" in result.stderr


def test_stream_create_names_a_settings_value_of_the_wrong_type(cli: RunCli, ada: str) -> None:
    result = cli("stream", "create", "X", "--user", ada, "--settings", '{"types": "a"}')
    assert result.exit_code == 2
    assert "types" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["stream", "list"],
        ["stream", "create", "Journal"],
        ["entry", "create", "--content", "hello"],
        ["export"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_commands_for_an_unknown_user_fail_cleanly(cli: RunCli, args: list[str]) -> None:
    result = cli(*args, "--user", "nobody@example.org")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "nobody@example.org" in result.stderr
    assert "not found" in result.stderr


def test_entry_create_in_a_stream_with_tags_counts_in_the_stream(cli: RunCli, ada: str) -> None:
    stream_id = cli("stream", "create", "Journal", "--user", ada).stdout.strip()
    created = cli(
        "entry",
        "create",
        "--user",
        ada,
        "--content",
        "# Monday\n\nRan 5 km.",
        "--stream",
        stream_id,
        "--title",
        "Monday",
        "--tags",
        "running, health",
        "--date",
        "2026-01-05",
    )
    assert created.exit_code == 0, created.output
    entry_id = created.stdout.strip()
    [stream] = json.loads(cli("stream", "list", "--user", ada, "--json").stdout)
    assert stream["entry_count"] == 1
    dump = json.loads(cli("export", "--user", ada).stdout)
    [entry] = dump["entries"]
    assert entry["entry_id"] == entry_id
    assert entry["tags"] == ["running", "health"]
    assert entry["title"] == "Monday"
    assert entry["entry_date"] == "2026-01-05"
    assert entry["stream_id"] == stream_id
    assert entry["last_edited_by"] == "cli"


def test_entry_create_reads_content_from_stdin(cli: RunCli, ada: str) -> None:
    result = cli("entry", "create", "--user", ada, "--content", "-", input="from a pipe\n")
    assert result.exit_code == 0, result.output
    [entry] = json.loads(cli("export", "--user", ada).stdout)["entries"]
    assert entry["content"] == "from a pipe\n"
    assert entry["stream_id"] is None  # the Inbox


def test_entry_create_refuses_a_stream_id_that_is_not_an_id(cli: RunCli, ada: str) -> None:
    result = cli("entry", "create", "--user", ada, "--content", "x", "--stream", "journal")
    assert result.exit_code == 2
    assert "stream" in result.stderr


def test_entry_create_in_an_unknown_stream_is_not_found(cli: RunCli, ada: str) -> None:
    result = cli(
        "entry",
        "create",
        "--user",
        ada,
        "--content",
        "x",
        "--stream",
        "00000000-0000-4000-8000-000000000000",
    )
    assert result.exit_code == 1
    assert "not found" in result.stderr


def test_entry_create_refuses_a_bad_date(cli: RunCli, ada: str) -> None:
    result = cli("entry", "create", "--user", ada, "--content", "x", "--date", "5 Jan")
    assert result.exit_code == 2
    assert "date" in result.stderr


def test_entry_create_needs_content(cli: RunCli, ada: str) -> None:
    result = cli("entry", "create", "--user", ada)
    assert result.exit_code == 2
    assert "--content" in result.stderr


def test_attachment_add_reads_type_and_dimensions_from_the_file(
    cli: RunCli, ada: str, tmp_path: Path
) -> None:
    entry_id = cli("entry", "create", "--user", ada, "--content", "photo").stdout.strip()
    image = tmp_path / "photo.jpg"  # the name lies; the bytes are a PNG
    image.write_bytes(png_bytes(7, 5))
    result = cli("attachment", "add", "--user", ada, entry_id, str(image))
    assert result.exit_code == 0, result.output
    attachment_id = result.stdout.strip()
    [attachment] = json.loads(cli("export", "--user", ada).stdout)["attachments"]
    assert attachment["attachment_id"] == attachment_id
    assert attachment["mime_type"] == "image/png"
    assert (attachment["width"], attachment["height"]) == (7, 5)
    assert attachment["file_size"] == len(png_bytes(7, 5))
    assert attachment["filename"] == "photo.jpg"


def test_attachment_add_refuses_a_file_that_is_not_an_image(
    cli: RunCli, ada: str, tmp_path: Path
) -> None:
    entry_id = cli("entry", "create", "--user", ada, "--content", "x").stdout.strip()
    text = tmp_path / "notes.png"
    text.write_text("just text")
    result = cli("attachment", "add", "--user", ada, entry_id, str(text))
    assert result.exit_code == 2
    assert "file" in result.stderr


def test_attachment_add_refuses_a_file_over_the_limit_and_a_decompression_bomb(
    cli: RunCli, ada: str, tmp_path: Path
) -> None:
    entry_id = cli("entry", "create", "--user", ada, "--content", "x").stdout.strip()
    big = tmp_path / "big.png"
    with big.open("wb") as f:  # sparse: 64 MiB that never take up the disk
        f.write(png_bytes())
        f.truncate(64 * 1024 * 1024)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(declaring(png_bytes(), 20_000, 20_000))

    too_big = cli("attachment", "add", "--user", ada, entry_id, str(big))
    exploding = cli("attachment", "add", "--user", ada, entry_id, str(bomb))
    smaller = cli(
        "attachment",
        "add",
        "--user",
        ada,
        entry_id,
        str(tmp_path / "big.png"),
        env={"TRACE_STORAGE_MAX_ATTACHMENT_BYTES": "100"},
    )

    assert too_big.exit_code == exploding.exit_code == smaller.exit_code == 2
    assert "at most 10,485,760 bytes" in too_big.stderr
    assert "20,000x20,000 pixels" in exploding.stderr
    assert "at most 100 bytes" in smaller.stderr
    assert json.loads(cli("export", "--user", ada).stdout)["attachments"] == []


def test_attachment_add_names_a_missing_file(cli: RunCli, ada: str, tmp_path: Path) -> None:
    entry_id = cli("entry", "create", "--user", ada, "--content", "x").stdout.strip()
    result = cli("attachment", "add", "--user", ada, entry_id, str(tmp_path / "gone.png"))
    assert result.exit_code == 2
    assert "gone.png" in result.stderr


def test_attachment_add_to_an_unknown_entry_is_not_found(
    cli: RunCli, ada: str, tmp_path: Path
) -> None:
    image = tmp_path / "a.png"
    image.write_bytes(png_bytes())
    result = cli(
        "attachment", "add", "--user", ada, "00000000-0000-4000-8000-000000000000", str(image)
    )
    assert result.exit_code == 1
    assert "not found" in result.stderr


def test_export_then_import_into_a_fresh_data_dir_reproduces_the_account(
    cli: RunCli, ada: str, tmp_path: Path
) -> None:
    stream_id = cli("stream", "create", "Journal", "--user", ada).stdout.strip()
    for day in range(1, 4):
        cli(
            "entry",
            "create",
            "--user",
            ada,
            "--content",
            f"day {day}",
            "--stream",
            stream_id,
            "--tags",
            "daily",
            "--date",
            f"2026-02-0{day}",
        )
    entry_id = cli("entry", "create", "--user", ada, "--content", "inbox note").stdout.strip()
    image = tmp_path / "a.gif"
    image.write_bytes(gif_bytes(2, 3))
    assert cli("attachment", "add", "--user", ada, entry_id, str(image)).exit_code == 0

    dump = tmp_path / "dump.json"
    exported = cli("export", "--user", ada, "--output", str(dump))
    assert exported.exit_code == 0, exported.output

    fresh = {"TRACE_DATA_DIR": str(tmp_path / "fresh")}
    assert cli("user", "create", "ada@example.org", env=fresh).exit_code == 0
    imported = cli("import", "--user", "ada@example.org", str(dump), env=fresh)
    assert imported.exit_code == 0, imported.output
    assert "imported 4 entries" in imported.stderr
    again = cli("export", "--user", "ada@example.org", env=fresh)

    first, second = json.loads(dump.read_bytes()), json.loads(again.stdout)
    for doc in (first, second):
        del doc["exported_at"], doc["account"]
    assert first == second
    assert len(second["attachments"]) == 1


def test_import_refuses_a_file_that_is_not_an_export(cli: RunCli, ada: str, tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text('{"hello": "world"}')
    result = cli("import", "--user", ada, str(bogus))
    assert result.exit_code == 2
    assert "not a Trace export" in result.stderr


def test_import_refuses_a_newer_export_version(cli: RunCli, ada: str, tmp_path: Path) -> None:
    newer = tmp_path / "newer.json"
    newer.write_text('{"format": "trace-export", "version": 99}')
    result = cli("import", "--user", ada, str(newer))
    assert result.exit_code == 2
    assert "version" in result.stderr


def test_importing_the_same_dump_twice_is_a_conflict(cli: RunCli, ada: str, tmp_path: Path) -> None:
    cli("entry", "create", "--user", ada, "--content", "once")
    dump = tmp_path / "dump.json"
    cli("export", "--user", ada, "--output", str(dump))
    result = cli("import", "--user", ada, str(dump))
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_unknown_config_file_key_is_named(cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "trace.toml"
    config.write_text("[server]\nport = 9000\nprot = 1\n")
    result = cli("--config", str(config), "user", "list")
    assert result.exit_code == 2
    assert "server.prot" in result.stderr
    assert "Traceback" not in result.output


def test_config_file_from_trace_config_is_used(cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "trace.toml"
    config.write_text('[storage]\ndatabase_url = "mysql://nope"\n')
    result = cli("user", "list", env={"TRACE_CONFIG": str(config)})
    assert result.exit_code == 2
    assert "storage.database_url" in result.stderr


def test_unknown_environment_setting_is_named(cli: RunCli) -> None:
    result = cli("user", "list", env={"TRACE_STORAGE_DATADIR": "/tmp/x"})
    assert result.exit_code == 2
    assert "TRACE_STORAGE_DATADIR" in result.stderr


def test_a_missing_config_file_is_named(cli: RunCli, tmp_path: Path) -> None:
    result = cli("--config", str(tmp_path / "nope.toml"), "migrate")
    assert result.exit_code == 2
    assert "nope.toml" in result.stderr


def test_serve_reports_a_refused_configuration_without_a_traceback(cli: RunCli) -> None:
    # The test-only switch that turns authentication off must never listen publicly.
    result = cli(
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "1",
        env={"TRACE_MCP_DISABLE_AUTH_FOR_TESTS": "true"},
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "mcp.disable_auth_for_tests" in result.stderr


def test_large_imports_show_a_progress_bar(
    cli: RunCli, ada: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trace_http.cli import transfer

    for i in range(3):
        cli("entry", "create", "--user", ada, "--content", f"note {i}")
    dump = tmp_path / "dump.json"
    cli("export", "--user", ada, "--output", str(dump))
    fresh = {"TRACE_DATA_DIR": str(tmp_path / "fresh")}
    cli("user", "create", ada, env=fresh)
    monkeypatch.setattr(transfer, "PROGRESS_THRESHOLD", 3)
    result = cli("import", "--user", ada, str(dump), "--batch-size", "1", env=fresh)
    assert result.exit_code == 0, result.output
    assert "importing" in result.stderr
    assert "3/3" in result.stderr


def test_an_unusable_data_dir_is_reported_without_a_traceback(cli: RunCli, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data directory should be")
    result = cli("user", "list", env={"TRACE_DATA_DIR": str(blocker)})
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "not-a-dir" in result.stderr
