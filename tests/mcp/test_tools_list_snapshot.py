"""The whole ``tools/list`` answer is a public contract: compared with a stored snapshot.

Every tool's name, title, description, annotations, input schema and output
schema, for a full-access key, and which tools a read-only key is offered (the
same tools without the write ones, each listed exactly as for full access).
Any change to a tool's published contract shows up as a diff of
``snapshots/tools_list.json``.

To accept an intended change, regenerate the file and review the diff::

    TRACE_UPDATE_SNAPSHOTS=1 uv run pytest -q tests/mcp/test_tools_list_snapshot.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from mcp_tool_support import Connect, read_only

from mcp import Client
from trace_core.model import Principal

pytestmark = pytest.mark.anyio

SNAPSHOT = Path(__file__).parent / "snapshots" / "tools_list.json"
UPDATE = os.environ.get("TRACE_UPDATE_SNAPSHOTS") == "1"


async def _listed(client: Client) -> list[dict[str, Any]]:
    result = await client.list_tools()
    return [tool.model_dump(by_alias=True, mode="json", exclude_none=True) for tool in result.tools]


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def test_tools_list_matches_the_snapshot_for_full_and_read_only_keys(
    connect: Connect, alice: Principal
) -> None:
    async with connect(alice) as client:
        full = await _listed(client)
    async with connect(read_only(alice)) as client:
        limited = await _listed(client)
    by_name = {tool["name"]: tool for tool in full}
    current = {
        "full_access": {"tools": full},
        "read_only": {"tool_names": [tool["name"] for tool in limited]},
    }

    if UPDATE:
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(_dump(current), encoding="utf-8")

    # The read-only listing is the full one without the write tools, tool for tool.
    assert all(tool == by_name[tool["name"]] for tool in limited)
    stored = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert _dump(current) == _dump(stored), (
        "tools/list changed; if intended, regenerate with TRACE_UPDATE_SNAPSHOTS=1 "
        "and list each change in docs/notes/tools-schema-changes.md"
    )
