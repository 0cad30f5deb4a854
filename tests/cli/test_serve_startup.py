"""``trace serve`` start-up loads only what serving needs.

The server restarts often (deploys, scaling) and its first answer should come
fast: on a database already at the newest schema it must not import Alembic,
and without Meilisearch configured it must not import the Meilisearch client,
nor rich (the command line's tables; structlog, which writes the server's log
lines, is imported without it: ``trace_http/web/_structlog.py``). Each check runs the
real composition (settings, migration check, every adapter, the app, and its
lifespan, started and stopped at once) in a fresh interpreter, where
``sys.modules`` shows what was imported; a process that does not exit fails too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trace_sql.migrate import current_revisions, head_revisions

pytestmark = pytest.mark.anyio

NOT_NEEDED_TO_SERVE = ("alembic", "trace_meili", "meilisearch", "rich")

_SERVE_WITHOUT_LISTENING = """
import asyncio, json, sys
from trace_http.web.app import create_app
from trace_http.bootstrap import open_runtime

async def main():
    # Start the whole lifespan (search start-up, outbox worker, trash purge) and stop
    # at once: a round of background work in flight must not hold up the exit.
    async with open_runtime(serving=True) as runtime:
        async with create_app(runtime).lifespan():
            pass

asyncio.run(main())
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def _start_server_composition(data_dir: Path) -> set[str]:
    """Build and start (not listen) the server in a fresh process; return top-level imports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    env["TRACE_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_WITHOUT_LISTENING],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


async def test_serving_a_new_data_directory_migrates_it(tmp_path: Path) -> None:
    data_dir = tmp_path / "trace-data"

    imported = _start_server_composition(data_dir)

    assert "alembic" in imported  # a new database does need the migrations
    assert await current_revisions(f"sqlite:///{data_dir / 'trace.db'}") == head_revisions()


async def test_serving_an_up_to_date_database_imports_nothing_only_other_commands_need(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "trace-data"
    _start_server_composition(data_dir)  # creates and migrates the database

    imported = _start_server_composition(data_dir)

    assert not imported.intersection(NOT_NEEDED_TO_SERVE)
