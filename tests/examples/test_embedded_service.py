"""examples/embedded_service.py runs on a fresh SQLite file and on PostgreSQL.

The example checks each step itself (tenancy, scope, bad input, stale
versions); these tests run it in-process on both databases. `.ci/run` also
runs it from the built wheels in a fresh virtual environment.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).parents[2] / "examples" / "embedded_service.py"

pytestmark = pytest.mark.anyio


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("embedded_service", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_the_embedded_service_example_runs_on_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'notes.db'}"
    await _example().demo(url, tmp_path / "files")
    assert (tmp_path / "notes.db").exists()


@pytest.mark.postgres
async def test_the_embedded_service_example_runs_on_postgres(
    postgres_url: str, tmp_path: Path
) -> None:
    await _example().demo(postgres_url, tmp_path / "files")
