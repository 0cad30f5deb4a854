"""A tool session on the real SQLite storage, FTS5 search and files for blobs."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import pytest
from mcp_tool_support import png

from mcp import Client
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_mcp import McpOptions, TraceMcp
from trace_sql import FilesystemBlobStore, create_storage
from trace_sql.search import create_sql_search_index

pytestmark = pytest.mark.anyio


@pytest.fixture
async def sqlite_trace(sqlite_url: str, tmp_path: Path) -> AsyncIterator[Trace]:
    storage = create_storage(sqlite_url)
    try:
        yield Trace(
            storage=storage,
            blobs=FilesystemBlobStore(tmp_path / "blobs"),
            search=create_sql_search_index(storage),
        )
    finally:
        await storage.close()


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content  # type: ignore[return-value]


async def test_a_session_on_sqlite_writes_searches_and_returns_images(
    sqlite_trace: Trace,
) -> None:
    account = await sqlite_trace.create_account("carol@example.com")
    principal = Principal(
        account_id=account.account_id, scopes=frozenset({Scope.FULL}), actor="carol-key"
    )
    mcp = TraceMcp(sqlite_trace, options=McpOptions(public_url="http://h"), principal=principal)
    async with Client(mcp.server) as client:
        stream = (await call(client, "create_stream", name="Work"))["stream"]
        entry = await call(
            client,
            "create_entry",
            content="Quarterly report: revenue grew, hiring paused.",
            title="Q3",
            stream_id=stream["stream_id"],
            tags=["report"],
        )
        await call(client, "create_entry", content="Lunch with Sam (no report talk!)")
        found = await call(client, "search_entries", query="revenue report")
        updated = await call(
            client,
            "update_entry",
            entry_id=entry["entry_id"],
            tags=["report", "q3"],
            expected_version=1,
            include_content=True,
        )
        image = png(3, 3)
        added = await sqlite_trace.add_attachment(principal, UUID(entry["entry_id"]), image)
        attachment = added.attachment
        picture = await client.call_tool(
            "get_attachment_data", {"attachment_id": str(attachment.attachment_id)}
        )
        await call(client, "delete_entry", entry_id=entry["entry_id"])
        after = await call(client, "search_entries", query="revenue")

    # The full match first; the lunch note has only "report": a relaxed hit below it.
    assert [e.get("title") for e in found["entries"]] == ["Q3", None]
    assert [e.get("relaxed", False) for e in found["entries"]] == [False, True]
    assert found["total"] == 1
    assert "revenue" in found["entries"][0]["snippet"].lower()
    assert updated["entry"]["tags"] == ["report", "q3"]
    assert base64.b64decode(picture.content[0].data) == image  # type: ignore[union-attr]
    assert after["entries"] == []


async def test_a_total_past_the_cap_says_more_match(sqlite_trace: Trace) -> None:
    sqlite_trace.limits = msgspec.structs.replace(sqlite_trace.limits, search_total_cap=3)
    account = await sqlite_trace.create_account("dave@example.com")
    principal = Principal(
        account_id=account.account_id, scopes=frozenset({Scope.FULL}), actor="dave-key"
    )
    mcp = TraceMcp(sqlite_trace, options=McpOptions(public_url="http://h"), principal=principal)
    async with Client(mcp.server) as client:
        for i in range(5):
            await call(client, "create_entry", content=f"tide table {i}")
        many = await client.call_tool("search_entries", {"query": "tide", "limit": 2})
        few = await call(client, "search_entries", query="table 3")

    data = many.structured_content
    assert data is not None
    assert (data["total"], data["total_more"]) == (3, True)
    assert "(of 3+ with every word)" in many.content[0].text  # type: ignore[union-attr]
    assert "total_more" not in few
