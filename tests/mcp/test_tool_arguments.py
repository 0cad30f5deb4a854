"""Tool arguments go through their trace_core.inputs Struct: slips forgiven, errors named.

The decoding itself is tested in tests/core/test_inputs.py; these check that a
tool call really goes through it.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcp import Client

pytestmark = pytest.mark.anyio


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_numbers_booleans_and_lists_written_as_text_are_understood(client: Client) -> None:
    for n in range(3):
        await call(client, "create_entry", {"content": f"note {n}", "tags": "work, idea"})

    page = await call(
        client, "list_entries", {"limit": "2", "include_content": "false", "tags": "idea"}
    )

    assert (len(page["entries"]), page["total"], page["has_more"]) == (2, 3, True)
    assert "content" not in page["entries"][0]
    assert page["entries"][0]["tags"] == ["work", "idea"]


async def test_a_null_clears_and_a_field_not_given_stays(client: Client) -> None:
    entry = await call(
        client, "create_entry", {"content": "x", "title": "T", "due_date": "2026-02-01"}
    )

    answer = await call(
        client,
        "update_entry",
        {
            "entry_id": entry["entry_id"],
            "due_date": None,
            "is_pinned": "true",
            "include_content": "true",
        },
    )
    updated = answer["entry"]

    assert answer["changed"] == ["is_pinned", "due_date"]
    assert "due_date" not in updated  # cleared: left out of the compact entry
    assert (updated["title"], updated["is_pinned"]) == ("T", True)


async def test_a_bad_nested_argument_is_named_by_its_path(client: Client) -> None:
    result = await client.call_tool(
        "create_stream",
        {"name": "Tasks", "entry_settings": {"types": ["note", 7], "use_type": True}},
    )

    assert result.is_error
    error = result.structured_content["error"]  # type: ignore[index]
    assert (error["code"], error["field"]) == ("invalid_input", "entry_settings.types[1]")
    assert error["message"] == "entry_settings.types[1]: must be string, got integer"
