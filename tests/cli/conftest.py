from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from trace_http.cli import main

RunCli = Callable[..., Result]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data directory, with no TRACE_* setting leaking in from the environment."""
    import os

    for name in list(os.environ):
        if name.startswith("TRACE_"):
            monkeypatch.delenv(name)
    path = tmp_path / "trace-data"
    monkeypatch.setenv("TRACE_DATA_DIR", str(path))
    return path


@pytest.fixture
def cli(data_dir: Path) -> RunCli:
    """Run ``trace ARGS…`` in-process against the temp data dir (SQLite, the embedded default)."""
    runner = CliRunner()

    def run(
        *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
    ) -> Result:
        return runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)

    return run


@pytest.fixture
def ada(cli: RunCli) -> str:
    """An account, ada@example.org; returns its email."""
    result = cli("user", "create", "ada@example.org", "--name", "Ada")
    assert result.exit_code == 0, result.output
    return "ada@example.org"
