"""The direct answer path gives the same answers as the SDK's transport.

``McpEndpoint`` answers plain ``tools/call`` and ``ping`` requests of the
handshake-era protocols itself (``TraceMcp.answer_directly``), skipping the SDK's
per-request transport. Every request here is sent to two apps on the same data,
one with the direct path and one without, and the answers must be equal: status,
content type and the JSON-RPC body. A spy proves the direct path answered.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from http_support import Pair

from trace_core.model import EntryDraft, NewStream, Principal
from trace_core.service import Trace
from trace_core.testing.images import png_bytes
from trace_mcp import TraceMcp

pytestmark = pytest.mark.anyio

VERSIONS = ["2025-06-18", "2025-11-25"]


@pytest.fixture
def answered_directly(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Methods the direct path answered (not handed to the SDK); request it before ``pair``."""
    answered: list[str] = []
    original = TraceMcp.answer_directly

    async def spy(self: TraceMcp, principal: Principal, message: Any) -> Any:
        answer = await original(self, principal, message)
        if answer is not None:
            answered.append(message["method"])
        return answer

    monkeypatch.setattr(TraceMcp, "answer_directly", spy)
    return answered


async def _post(
    client: httpx2.AsyncClient, body: Any, version: str, token: str = "alice-full"
) -> tuple[int, str, Any]:
    response = await client.post("/mcp", content=json.dumps(body), headers=_headers(version, token))
    return response.status_code, response.headers.get("content-type", ""), response.json()


def _headers(version: str, token: str = "alice-full") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": version,
    }


def _call(name: str, arguments: Any = None, **params: Any) -> dict[str, Any]:
    body_params: dict[str, Any] = {"name": name, **params}
    if arguments is not None:
        body_params["arguments"] = arguments
    return {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": body_params}


@pytest.fixture
async def requests(trace: Trace, keys: dict[str, Principal]) -> list[dict[str, Any]]:
    alice = keys["alice-full"]
    stream = await trace.create_stream(alice, NewStream(name="Work"))
    entry = await trace.create_entry(
        alice,
        EntryDraft(
            title="Budget review",
            content="The budget meeting moved. " * 50,
            tags=["budget", "q3"],
            stream_id=stream.stream_id,
        ),
    )
    added = await trace.add_attachment(alice, entry.entry_id, png_bytes(), filename="a.png")
    attachment = added.attachment
    entry_id, stream_id = str(entry.entry_id), str(stream.stream_id)
    missing = "00000000-0000-4000-8000-000000000000"
    return [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {"jsonrpc": "2.0", "id": "p", "method": "ping", "params": {}},
        _call("get_docs", {}),
        _call("list_streams"),
        _call("get_stream", {"stream_id": stream_id}),
        _call("list_entries", {}),
        _call("list_entries", {"stream_id": stream_id, "include_content": False}),
        _call("list_entries", {"limit": 0}),  # invalid: names the field and the range
        _call("list_entries", {"status": "nope"}),
        _call("get_entry", {"entry_id": entry_id}),
        _call("get_entry", {"entry_id": entry_id, "content_limit": 40}),
        _call("get_entry", {"entry_id": missing}),
        _call("get_entry", {"entry_id": "not-a-uuid"}),
        _call("get_entry", {}),
        _call("get_entry", {"entry_id": entry_id}, _meta={"progressToken": "t1"}),
        _call("search_entries", {"query": "budget meeting"}),
        _call("search_entries", {"query": "   "}),
        _call("list_tags", {}),
        _call("list_trash", {}),
        _call("get_entry_history", {"entry_id": entry_id}),
        _call("get_attachment_data", {"attachment_id": str(attachment.attachment_id)}),
        _call("get_attachment_url", {"attachment_id": str(attachment.attachment_id)}),
        _call("fetch", {"id": entry_id}),
        _call("search", {"query": "budget"}),
        _call("update_entry", {"entry_id": entry_id, "title": "x", "expected_version": 99}),
        _call("delete_entry", {"entry_id": missing}),
        _call("create_entry", {"title": "t", "rating": 9}),
        _call("add_attachment", {"entry_id": entry_id, "data": "not base64!", "filename": "a"}),
        _call("add_attachment", {"entry_id": entry_id, "data": "SGVsbG8=", "filename": "a"}),
        _call("add_attachment", {"entry_id": missing, "data": "R0lGODlh", "filename": "a"}),
        _call("delete_attachment", {"attachment_id": missing}),
    ]


# Handed to the SDK: unknown tools, other methods, odd envelopes and _meta.
SDK_ONLY: list[dict[str, Any]] = [
    _call("no_such_tool", {}),
    _call("get_entry", ["not", "an", "object"]),
    _call("get_entry", {"entry_id": "x"}, _meta={"other": 1}),
    {"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {}},
    {"jsonrpc": "2.0", "id": 4, "method": "resources/list", "params": {}},
    {"jsonrpc": "2.0", "id": 5, "method": "ping", "params": {"x": 1}},
    {"jsonrpc": "2.0", "id": True, "method": "ping"},
    {"jsonrpc": "2.0", "id": 1.5, "method": "ping"},
    {"jsonrpc": "1.0", "id": 6, "method": "ping"},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    [{"jsonrpc": "2.0", "id": 8, "method": "ping"}],
]


@pytest.mark.parametrize("version", VERSIONS)
async def test_direct_answers_equal_the_sdks(
    answered_directly: list[str], pair: Pair, requests: list[dict[str, Any]], version: str
) -> None:
    for body in requests:
        direct = await _post(pair.direct, body, version)
        sdk = await _post(pair.sdk, body, version)
        assert direct == sdk, body
    # Every request above was answered by the direct path, none by the SDK.
    assert len(answered_directly) == len(requests)


@pytest.mark.parametrize("version", VERSIONS)
async def test_everything_else_is_left_to_the_sdk(
    answered_directly: list[str], pair: Pair, version: str
) -> None:
    for body in SDK_ONLY:
        content = json.dumps(body)
        direct_response = await pair.direct.post("/mcp", content=content, headers=_headers(version))
        sdk_response = await pair.sdk.post("/mcp", content=content, headers=_headers(version))
        assert direct_response.status_code == sdk_response.status_code, body
        assert direct_response.content == sdk_response.content, body
    assert answered_directly == []


async def test_other_protocol_versions_and_headers_go_to_the_sdk(
    answered_directly: list[str], pair: Pair
) -> None:
    body = _call("list_streams")
    for headers in (
        {"MCP-Protocol-Version": "2025-03-26"},
        {},  # no version header: the SDK's default negotiated version
        {"MCP-Protocol-Version": "2025-06-18", "Accept": "text/event-stream"},
        {"MCP-Protocol-Version": "2025-06-18", "Content-Type": "text/plain"},
    ):
        sent = {
            "Authorization": "Bearer alice-full",
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **headers,
        }
        direct = await pair.direct.post("/mcp", content=json.dumps(body), headers=sent)
        sdk = await pair.sdk.post("/mcp", content=json.dumps(body), headers=sent)
        assert (direct.status_code, direct.content) == (sdk.status_code, sdk.content), headers
    assert answered_directly == []


async def test_read_key_still_gets_403_before_the_direct_path(pair: Pair) -> None:
    status, _, body = await _post(
        pair.direct, _call("create_entry", {"title": "t"}), "2025-06-18", token="alice-read"
    )
    assert status == 403
    assert body["error"]["data"]["code"] == "insufficient_scope"


def _nested(depth: int) -> bytes:
    """A ``tools/call`` whose arguments hold a list nested ``depth`` levels deep."""
    inner = b"[" * depth + b"]" * depth
    return (
        b'{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": '
        b'{"name": "create_entry", "arguments": {"content": "x", "tags": ' + inner + b"}}}"
    )


UNDECODABLE: list[bytes] = [
    b'{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": '
    b'{"name": "create_entry", "arguments": {"content": "caf\xe9 \xff\xfe"}}}',
    b"\xff\xfe\x00{",
    b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "\xed\xa0\x80"}}',
    b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "\\ud800"}}',
    _nested(250),  # deeper than the SDK's JSON parser accepts (200 levels)
    _nested(1_000),
    _nested(100_000),
    b"[" * 5_000,
]


@pytest.mark.parametrize("version", VERSIONS)
async def test_undecodable_bodies_get_the_same_parse_error_on_both_paths(
    answered_directly: list[str], pair: Pair, version: str
) -> None:
    for body in UNDECODABLE:
        direct = await pair.direct.post("/mcp", content=body, headers=_headers(version))
        sdk = await pair.sdk.post("/mcp", content=body, headers=_headers(version))

        assert direct.status_code == 400, body[:80]
        assert direct.json()["error"]["code"] == -32700  # JSON-RPC parse error
        assert (sdk.status_code, sdk.content) == (direct.status_code, direct.content), body[:80]
    assert answered_directly == []
