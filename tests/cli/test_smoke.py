"""One real process: the installed ``trace`` entry point, as a person runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_uv_run_trace_creates_and_lists_a_user_in_a_fresh_data_dir(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    env["TRACE_DATA_DIR"] = str(tmp_path / "data")

    def trace(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["uv", "run", "--frozen", "--project", str(ROOT), "trace", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    created = trace(
        "user", "create", "smoke@example.org", "--password-stdin", stdin="pass-phrase-1\n"
    )
    assert created.returncode == 0, created.stderr
    listed = trace("user", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "smoke@example.org" in listed.stdout
    assert (tmp_path / "data" / "trace.db").exists()

    unknown = trace("stream", "list", "--user", "nobody@example.org")
    assert unknown.returncode == 1
    assert "Traceback" not in unknown.stderr
    assert "not found" in unknown.stderr
