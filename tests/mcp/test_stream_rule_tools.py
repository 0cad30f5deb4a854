"""Stream rules through the tools: refusals name the setting, moves say what to clear."""

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


async def call_error(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.structured_content["error"]  # type: ignore[index]


async def _stream(client: Client, name: str, **settings: Any) -> str:
    created = await call(client, "create_stream", name=name, entry_settings=settings)
    return str(created["stream"]["stream_id"])


async def test_get_stream_describes_only_the_settings_that_are_on(client: Client) -> None:
    plain = await _stream(client, "Plain", types=["a"], statuses=["x"], default_status="x")
    tasks = await _stream(client, "Tasks", use_status=True, statuses=["todo", "done"])

    plain_answer = await client.call_tool("get_stream", {"stream_id": plain})
    tasks_settings = (await call(client, "get_stream", stream_id=tasks))["stream"]["entry_settings"]

    plain_settings = plain_answer.structured_content["stream"]["entry_settings"]  # type: ignore[index]
    assert "use_status" not in plain_settings  # only the settings that are on
    for described in ("types", "statuses", "default_status", "rating_type", "rating_max"):
        assert described not in plain_settings
    text = plain_answer.content[0].text  # type: ignore[union-attr]
    assert "rating" not in text
    assert "statuses" not in text
    assert tasks_settings["statuses"] == ["todo", "done"]
    assert "types" not in tasks_settings


async def test_create_entry_with_a_status_the_stream_does_not_use_names_the_setting(
    client: Client,
) -> None:
    plain = await _stream(client, "Plain")

    error = await call_error(client, "create_entry", content="x", stream_id=plain, status="done")

    assert error["code"] == "invalid_input"
    assert error["field"] == "status"
    assert error["setting"] == "use_status"


async def test_update_entry_moves_with_clear_disallowed_after_a_refusal_listing_the_fields(
    client: Client,
) -> None:
    tasks = await _stream(
        client, "Tasks", use_status=True, use_priority=True, statuses=["todo", "done"]
    )
    plain = await _stream(client, "Plain")
    entry = await call(
        client, "create_entry", content="x", stream_id=tasks, status="todo", priority=2
    )  # a write answers the entry's id and version at the top level

    refused = await call_error(client, "update_entry", entry_id=entry["entry_id"], stream_id=plain)
    await call(
        client,
        "update_entry",
        entry_id=entry["entry_id"],
        stream_id=plain,
        clear_disallowed=True,
    )
    fetched = (await call(client, "get_entry", entry_id=entry["entry_id"]))["entry"]

    assert refused["field"] == "stream_id"
    assert sorted(refused["fields_to_clear"]) == ["priority", "status"]
    assert fetched["version"] == 2
    assert fetched["stream_id"] == plain
    assert fetched.get("status") is None
    assert fetched.get("priority") in (0, None)
