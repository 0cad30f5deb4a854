"""list_entries' sort, due_before and overdue arguments through the official client."""

from __future__ import annotations

from typing import Any

import pytest

from mcp import Client

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_list_entries_sorts_and_filters_by_due_date(client: Client) -> None:
    # The clock of these tests stands at 2026-01-15.
    for title, priority, due in (("a", 1, "2026-01-10"), ("b", 4, None), ("c", 2, "2026-02-01")):
        await call(
            client, "create_entry", content=title, title=title, priority=priority, due_date=due
        )

    urgent = await call(client, "list_entries", sort="-priority")
    soonest = await call(client, "list_entries", sort="due_date", limit=1)
    rest = await call(client, "list_entries", sort="due_date", cursor=soonest["next_cursor"])
    overdue = await call(client, "list_entries", overdue=True)
    before = await call(client, "list_entries", due_before="2026-03-01")
    refused = await client.call_tool("list_entries", {"sort": "title"})

    assert [e["title"] for e in urgent["entries"]] == ["b", "c", "a"]
    assert [e["title"] for e in soonest["entries"] + rest["entries"]] == ["a", "c", "b"]
    assert [e["title"] for e in overdue["entries"]] == ["a"]
    assert sorted(e["title"] for e in before["entries"]) == ["a", "c"]
    assert refused.is_error
