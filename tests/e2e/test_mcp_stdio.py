"""``trace mcp --user EMAIL`` over stdio, driven by the SDK's stdio client."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_support import Server, trace_command

from mcp import Client, StdioServerParameters
from trace_mcp import TOOLS, WRITE_TOOLS

pytestmark = pytest.mark.anyio


def stdio(server: Server, *extra: str) -> StdioServerParameters:
    command, *args = trace_command()
    return StdioServerParameters(
        command=command,
        args=[*args, "mcp", "--user", "alice@example.com", *extra],
        env=server.env,
    )


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content  # type: ignore[return-value]


async def test_stdio_serves_every_tool_and_records_writes_as_stdio(server: Server) -> None:
    async with Client(stdio(server)) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        created = await call(client, "create_entry", content="from a local client")
        fetched = (await call(client, "get_entry", entry_id=created["entry_id"]))["entry"]

    assert names == {t.name for t in TOOLS}
    assert fetched["content"] == "from a local client"
    assert fetched["last_edited_by"] == "stdio"


async def test_stdio_read_only_offers_no_write_tools_and_refuses_writes(server: Server) -> None:
    async with Client(stdio(server, "--read-only")) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        refused = await client.call_tool("create_entry", {"content": "nope"})
        listed = await call(client, "list_entries", include_content=False)

    assert names == {t.name for t in TOOLS} - WRITE_TOOLS
    assert refused.is_error
    assert refused.structured_content["error"]["code"] == "insufficient_scope"  # type: ignore[index]
    assert "entries" in listed
