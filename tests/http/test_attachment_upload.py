"""Images over MCP's HTTP endpoint: the largest file fits the body limit, read keys get 403."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx2
import pytest
from http_support import Pair

from trace_core.limits import MAX_ATTACHMENT_BASE64_CHARS, MAX_ATTACHMENT_BYTES
from trace_core.model import EntryDraft, Principal
from trace_core.service import Trace
from trace_core.testing.images import declaring, png_bytes
from trace_core.testing.memory import InMemoryBlobStore
from trace_http.web.mcp_endpoint import MAX_BODY_BYTES

pytestmark = pytest.mark.anyio

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Mcp-Protocol-Version": "2025-06-18",
}


def tool_call(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


async def post(client: httpx2.AsyncClient, token: str, body: dict[str, Any]) -> httpx2.Response:
    return await client.post(
        "/mcp", content=json.dumps(body), headers={**HEADERS, "Authorization": f"Bearer {token}"}
    )


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("add_attachment", {"entry_id": "x", "data": "R0lGODlh", "filename": "a.gif"}),
        ("delete_attachment", {"attachment_id": "7b4f6b0e-0000-4000-8000-000000000000"}),
    ],
)
async def test_a_read_key_gets_403_insufficient_scope(
    http: httpx2.AsyncClient, keys: dict[str, Principal], tool: str, arguments: dict[str, Any]
) -> None:
    response = await post(http, "alice-read", tool_call(tool, arguments))

    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    assert response.json()["error"]["data"]["tool"] == tool


async def test_the_largest_image_goes_through_both_answer_paths(
    pair: Pair, trace: Trace, keys: dict[str, Principal]
) -> None:
    alice = keys["alice-full"]
    image = png_bytes(8, 8)
    image += bytes(MAX_ATTACHMENT_BYTES - len(image))  # exactly the limit
    data = base64.b64encode(image).decode()
    assert len(data) == MAX_ATTACHMENT_BASE64_CHARS

    for client in (pair.direct, pair.sdk):
        entry = await trace.create_entry(alice, EntryDraft(content="big picture"))
        body = tool_call(
            "add_attachment", {"entry_id": str(entry.entry_id), "data": data, "filename": "a.png"}
        )
        assert len(json.dumps(body)) < MAX_BODY_BYTES

        response = await post(client, "alice-full", body)

        assert response.status_code == 200
        result = response.json()["result"]
        assert not result["isError"], result
        assert result["structuredContent"]["file_size"] == MAX_ATTACHMENT_BYTES
        detail = await trace.get_entry(alice, entry.entry_id)
        assert [a.file_size for a in detail.attachments] == [MAX_ATTACHMENT_BYTES]


async def test_a_body_over_the_limit_is_413_and_a_bomb_is_refused_with_nothing_stored(
    http: httpx2.AsyncClient, trace: Trace, keys: dict[str, Principal]
) -> None:
    alice = keys["alice-full"]
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    bomb = base64.b64encode(declaring(png_bytes(), 20_000, 20_000)).decode()
    arguments = {"entry_id": str(entry.entry_id), "filename": "bomb.png"}

    refused = await post(
        http, "alice-full", tool_call("add_attachment", {**arguments, "data": bomb})
    )
    huge = await post(
        http,
        "alice-full",
        tool_call("add_attachment", {**arguments, "data": "A" * MAX_BODY_BYTES}),
    )

    assert refused.status_code == 200
    error = refused.json()["result"]["structuredContent"]["error"]
    assert (error["code"], error["field"]) == ("invalid_input", "data")
    assert "20,000x20,000" in error["message"]
    assert huge.status_code == 413
    assert huge.json()["error"] == "request_too_large"
    assert (await trace.get_entry(alice, entry.entry_id)).attachments == []
    assert isinstance(trace.blobs, InMemoryBlobStore)
    assert trace.blobs.keys() == []
