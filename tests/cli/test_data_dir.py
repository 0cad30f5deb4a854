"""The default data directory is the per-user one: it does not move with the working directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from trace_http.settings import load_settings

_TRACE = [sys.executable, "-c", "from trace_http.cli import main; main()"]


def _env(home: Path, **more: str) -> dict[str, str]:
    """The environment of a person with this home directory and no Trace settings."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("TRACE_") and k != "XDG_DATA_HOME"
    }
    return {**env, "HOME": str(home), **more}


def test_the_default_data_dir_is_in_the_home_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DATA_HOME")
    assert load_settings(env={}).storage.data_path == tmp_path / ".local/share/trace"


def test_the_default_data_dir_follows_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = load_settings(env={})
    assert settings.storage.data_path == tmp_path / "xdg" / "trace"
    assert settings.storage.blob_path == tmp_path / "xdg" / "trace" / "blobs"


def test_commands_run_from_two_directories_use_the_same_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    one, two = tmp_path / "one", tmp_path / "two"
    for folder in (home, one, two):
        folder.mkdir()

    def trace(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*_TRACE, *args],
            cwd=cwd,
            env=_env(home),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    created = trace(one, "user", "create", "ada@example.org")
    assert created.returncode == 0, created.stderr
    listed = trace(two, "user", "list", "--json")
    assert "ada@example.org" in listed.stdout
    assert (home / ".local/share/trace/trace.db").is_file()
    assert list(one.iterdir()) == []
    assert list(two.iterdir()) == []


def test_trace_data_dir_still_puts_the_data_beside_you(tmp_path: Path) -> None:
    created = subprocess.run(
        [*_TRACE, "user", "create", "ada@example.org"],
        cwd=tmp_path,
        env=_env(tmp_path / "home", TRACE_DATA_DIR="./trace-data"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "trace-data" / "trace.db").is_file()


def test_serve_prints_the_data_directory_database_and_addresses_first(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    home = tmp_path / "home"
    server = subprocess.Popen(
        [*_TRACE, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
    finally:
        server.terminate()
        server.communicate(timeout=60)
    data_dir = home / ".local/share/trace"
    assert first == (
        f"data: {data_dir} · database: sqlite+aiosqlite:///{data_dir}/trace.db"
        f" · public URL: http://127.0.0.1:{port}"
        f" · open http://127.0.0.1:{port}/settings/integrations\n"
    )
