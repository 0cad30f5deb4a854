"""Meilisearch is an optional extra of the server: only ``search.kind = "meilisearch"`` loads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from trace_core.errors import InvalidInputError
from trace_http.bootstrap import open_trace
from trace_http.settings import SearchSettings, Settings, StorageSettings

# Run in a fresh interpreter: the test process itself has imported everything.
_DEFAULT_PROFILE = """
import sys

import anyio
from click.testing import CliRunner

from trace_http.bootstrap import open_runtime
from trace_http.cli import main
from trace_http.web.app import create_app
from trace_http.settings import Settings, StorageSettings

assert CliRunner().invoke(main, ["--help"]).exit_code == 0


async def start_and_stop() -> None:
    settings = Settings(storage=StorageSettings(data_dir=sys.argv[1]))
    async with open_runtime(settings, serving=True) as runtime:
        async with create_app(runtime).lifespan():
            pass


anyio.run(start_and_stop)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("meilisearch", "trace_meili"))
print(" ".join(loaded))
"""


def test_the_default_profile_never_imports_the_meilisearch_client(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    done = subprocess.run(
        [sys.executable, "-c", _DEFAULT_PROFILE, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


@pytest.mark.anyio
async def test_meilisearch_search_without_the_extra_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # None in sys.modules makes `import trace_meili` fail as if it were not installed.
    monkeypatch.setitem(sys.modules, "trace_meili", None)
    settings = Settings(
        storage=StorageSettings(data_dir=str(tmp_path / "data")),
        search=SearchSettings(kind="meilisearch", meilisearch_url="http://127.0.0.1:7700"),
    )
    with pytest.raises(InvalidInputError) as info:
        async with open_trace(settings):
            pass
    assert info.value.field == "search.kind"
    assert "trace-http[meilisearch]" in str(info.value)
