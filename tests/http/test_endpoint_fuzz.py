"""Fuzzing the MCP endpoint's wire input: no body, however broken, gets a 5xx.

Bodies are sent to two apps on the same facade, one with the direct answer path
and one without (the ``pair`` fixture), on ``/`` and ``/mcp``. Whatever arrives
(tool calls with invalid UTF-8 spliced in, JSON nested thousands of levels
deep, arbitrary bytes), the answer is below 500, a 400 carries a JSON-RPC
error, and both paths give the same answer.
"""

from __future__ import annotations

import json
from functools import partial
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import httpx2
import pytest
from http_support import Pair
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trace_core.model import Principal

pytestmark = pytest.mark.anyio

HEADERS = {
    "Authorization": "Bearer alice-read",
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}

# Read-only calls only: both apps share one facade, so a write through the first
# would change what the second answers.
CALLS = [
    {"jsonrpc": "2.0", "id": 1, "method": "ping"},
    {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "search_entries", "arguments": {"query": "café au lait"}},
    },
    {
        "jsonrpc": "2.0",
        "id": "x",
        "method": "tools/call",
        "params": {"name": "list_entries", "arguments": {"tags": ["a"], "limit": 5}},
    },
    {
        "jsonrpc": "2.0",
        "id": 3,
        "method": "tools/call",
        "params": {"name": "get_entry", "arguments": {"entry_id": "not-a-uuid"}},
    },
]

# Byte sequences that are not UTF-8: a lone continuation byte, a truncated
# sequence, an encoded surrogate, an overlong encoding, beyond U+10FFFF, Latin-1.
INVALID_UTF8 = [b"\x80", b"\xc3", b"\xe2\x82", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf4\x90\x80\x80"]
INVALID_UTF8 += [b"\xff", b"caf\xe9"]


@st.composite
def invalid_utf8_bodies(draw: st.DrawFn) -> bytes:
    """A valid call with a byte sequence that is not UTF-8 spliced in somewhere."""
    body = json.dumps(draw(st.sampled_from(CALLS)), ensure_ascii=False).encode()
    bad = draw(st.sampled_from(INVALID_UTF8))
    at = draw(st.integers(0, len(body)))
    return body[:at] + bad + body[at:]


@st.composite
def deeply_nested_bodies(draw: st.DrawFn) -> bytes:
    """A call whose arguments (or whose whole body) nest lists and objects very deep."""
    depth = draw(st.integers(1, 20_000))
    kind = draw(st.sampled_from(["list", "object", "mixed"]))
    opening = {"list": "[", "object": '{"a":', "mixed": '[{"a":'}[kind]
    closing = {"list": "]", "object": "}", "mixed": "}]"}[kind]
    nested = opening * depth + "1" + closing * depth
    closed = draw(st.booleans())
    if not closed:
        nested = opening * depth  # unterminated
    if draw(st.booleans()):
        return nested.encode()
    return (
        '{"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": '
        '{"name": "list_entries", "arguments": {"tags": ' + nested + "}}}"
    ).encode()


BODIES = invalid_utf8_bodies() | deeply_nested_bodies() | st.binary(max_size=300)


async def _answer(client: httpx2.AsyncClient, path: str, body: bytes) -> tuple[int, Any]:
    """Status and decoded JSON answer (the two paths may order an object's keys differently)."""
    response = await client.post(path, content=body, headers=HEADERS)
    assert response.status_code < 500, (response.status_code, response.content[:200])
    return response.status_code, response.json()


async def test_no_body_gets_a_server_error_and_both_paths_answer_alike(
    pair: Pair, keys: dict[str, Principal]
) -> None:
    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(body=BODIES, path=st.sampled_from(["/", "/mcp"]))
    def probe(body: bytes, path: str) -> None:
        status, answer = anyio.from_thread.run(partial(_answer, pair.direct, path, body))
        if status == 400:
            assert answer["error"]["code"] in (-32700, -32600, -32602), answer
        assert anyio.from_thread.run(partial(_answer, pair.sdk, path, body)) == (status, answer)

    await anyio.to_thread.run_sync(probe)
