"""The MCP endpoint counts tool calls against the budget and the rest against a flood guard."""

from __future__ import annotations

import httpx2
import pytest
from http_support import McpConnect
from mcp.shared.exceptions import MCPError

from trace_core.model import Principal
from trace_http.web.ratelimit import TokenBucketLimiter

pytestmark = pytest.mark.anyio

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Mcp-Protocol-Version": "2025-06-18",
    "Authorization": "Bearer alice-full",
}
PING = {"jsonrpc": "2.0", "id": 3, "method": "ping"}


@pytest.fixture
def limiter(now: list[float]) -> TokenBucketLimiter:
    """Three tool calls at once, and a flood guard of twelve other requests."""
    return TokenBucketLimiter(burst=3, rate=1.0, other_multiplier=4.0, clock=lambda: now[0])


async def test_the_sdk_client_sees_rate_limited_retry_after_as_the_error_message(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    async with mcp_client("alice-full") as client:
        answers = [await client.call_tool("list_streams", {}) for _ in range(3)]
        with pytest.raises(MCPError) as caught:
            await client.call_tool("list_streams", {})

    assert not any(answer.is_error for answer in answers)
    assert "rate limited, retry after 1 s" in str(caught.value)
    assert caught.value.error.data["code"] == "rate_limited"


async def test_sessions_opened_per_call_get_every_tool_call_of_the_budget(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    # Each session sends initialize, notifications/initialized and the call: only
    # the call spends the budget of three.
    for _ in range(3):
        async with mcp_client("alice-full") as client:
            assert not (await client.call_tool("list_streams", {})).is_error


async def test_other_requests_meet_the_flood_guard(
    http: httpx2.AsyncClient, keys: dict[str, Principal], now: list[float]
) -> None:
    statuses = [
        (await http.post("/mcp", json=PING, headers=HEADERS)).status_code for _ in range(13)
    ]
    flooded = await http.post("/mcp", json=PING, headers=HEADERS)
    head = await http.head("/mcp", headers=HEADERS)

    assert statuses == [200] * 12 + [429]
    assert flooded.json()["error"]["message"].startswith("rate limited, retry after 1 s")
    # Refused before its body is read: no id to echo (the SDK client answers its own).
    assert flooded.json()["id"] is None
    assert head.status_code == 429
    now[0] += 1.0  # four other tokens back
    assert (await http.post("/mcp", json=PING, headers=HEADERS)).status_code == 200
