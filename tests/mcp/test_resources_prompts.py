"""The guide as a resource, the weekly review prompt, completion and log level."""

from __future__ import annotations

import pytest
from mcp_types import PromptReference

from mcp import Client, MCPError
from trace_core.model import Principal
from trace_core.service import Trace
from trace_mcp import TraceMcp

pytestmark = pytest.mark.anyio


async def test_the_guide_is_readable_as_a_resource(client: Client) -> None:
    listed = await client.list_resources()
    read = await client.read_resource("trace://guide")

    assert [str(r.uri) for r in listed.resources] == ["trace://guide"]
    assert read.contents[0].text.startswith("# Trace")  # type: ignore[union-attr]


async def test_reading_an_unknown_resource_is_an_error(client: Client) -> None:
    with pytest.raises(MCPError):
        await client.read_resource("trace://nothing")


async def test_weekly_review_prompt_names_the_stream(client: Client) -> None:
    prompts = await client.list_prompts()
    prompt = await client.get_prompt("weekly_review", {"stream": "Work"})

    assert [p.name for p in prompts.prompts] == ["weekly_review"]
    assert "'Work'" in prompt.messages[0].content.text  # type: ignore[union-attr]


async def test_completion_offers_the_callers_stream_names(client: Client) -> None:
    for name in ("Work", "Workouts", "Home"):
        await client.call_tool("create_stream", {"name": name})

    result = await client.complete(
        PromptReference(type="ref/prompt", name="weekly_review"),
        {"name": "stream", "value": "wo"},
    )

    assert result.completion.values == ["Work", "Workouts"]


async def test_param_header_checks_read_the_published_schema_without_listing_tools(
    trace: Trace, alice: Principal
) -> None:
    mcp = TraceMcp(trace, principal=alice)
    async with Client(mcp.server) as client:
        listed = {t.name: t for t in (await client.list_tools()).tools}

    lookup = mcp.server.get_tool_input_schema
    assert lookup is not None
    assert lookup("get_entry") == listed["get_entry"].input_schema
    assert lookup("no_such_tool") is None
