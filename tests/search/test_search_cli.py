"""``trace search`` and ``trace reindex`` at the terminal (embedded SQLite)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from trace_http.cli import main


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import os

    for name in list(os.environ):
        if name.startswith("TRACE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def test_trace_search_prints_ranked_hits_with_highlighted_snippets(cli) -> None:
    assert cli("user", "create", "ada@example.org").exit_code == 0
    cli("entry", "create", "--user", "ada@example.org", "--title", "Boiler", "--content", "x")
    cli("entry", "create", "--user", "ada@example.org", "--content", "The boiler needs a service")
    cli("entry", "create", "--user", "ada@example.org", "--content", "Unrelated note")

    result = cli("search", "--user", "ada@example.org", "boiler", "service?")

    assert result.exit_code == 0, result.output
    assert "**boiler**" in result.output
    assert "Unrelated" not in result.output


def test_trace_search_json_output(cli) -> None:
    cli("user", "create", "ada@example.org")
    cli("entry", "create", "--user", "ada@example.org", "--content", "Kayak trip")

    result = cli("search", "--user", "ada@example.org", "--json", "kayak")

    data = json.loads(result.output)
    assert [h["entry"]["content"] for h in data["hits"]] == ["Kayak trip"]
    assert data["relaxed"] is False


def test_trace_reindex_reports_how_many_entries_it_indexed(cli) -> None:
    cli("user", "create", "ada@example.org")
    for i in range(3):
        cli("entry", "create", "--user", "ada@example.org", "--content", f"note {i}")

    result = cli("reindex")

    assert result.exit_code == 0, result.output
    assert "indexed 3 entries" in result.output
    assert "note 1" in cli("search", "--user", "ada@example.org", "note").output
