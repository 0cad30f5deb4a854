"""One key's largest requests cannot stall the server for another key.

Before the limits, a 3.9 MB ``search_entries`` query was tokenized character by
character on the event loop (about a second each), and ten of them made another
key's ``ping`` wait 14 s. Now every query is at most ``MAX_QUERY_CHARS``: the
longest accepted ones are answered, longer ones are refused before anything
walks them, and the other key is answered meanwhile. The test asserts on the
outcomes and on the work done (what the tokenizer saw), not on timings.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx2
import pytest

from trace_core import search
from trace_core.limits import MAX_QUERY_CHARS
from trace_core.model import EntryDraft, Principal
from trace_core.service import Trace

pytestmark = pytest.mark.anyio


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }


async def _rpc(http: httpx2.AsyncClient, token: str, method: str, params: Any = None) -> Any:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
    if params is not None:
        body["params"] = params
    response = await http.post("/mcp", content=json.dumps(body), headers=_headers(token))
    assert response.status_code == 200, response.text[:300]
    return response.json()


@pytest.fixture
def tokenized(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every text the query tokenizer walked."""
    seen: list[int] = []
    original = search.tokenize

    def spy(text: str) -> list[str]:
        seen.append(len(text))
        return original(text)

    monkeypatch.setattr(search, "tokenize", spy)
    return seen


async def test_another_key_is_answered_while_one_sends_the_largest_queries(
    http: httpx2.AsyncClient, trace: Trace, keys: dict[str, Principal], tokenized: list[int]
) -> None:
    await trace.create_entry(keys["alice-full"], EntryDraft(content="budget review notes"))
    largest = ("budget review " * MAX_QUERY_CHARS)[:MAX_QUERY_CHARS]
    oversized = ["q" * (MAX_QUERY_CHARS + 1), "w " * 500_000, "x" * 3_900_000]
    answers: dict[str, list[Any]] = {"largest": [], "oversized": [], "bob": []}

    async def alice_largest() -> None:
        for tool in ("search_entries", "search", "list_entries"):
            answer = await _rpc(
                http, "alice-read", "tools/call", {"name": tool, "arguments": {"query": largest}}
            )
            answers["largest"].append(answer["result"])

    async def alice_oversized(query: str) -> None:
        for tool in ("search_entries", "search", "list_entries"):
            answer = await _rpc(
                http, "alice-read", "tools/call", {"name": tool, "arguments": {"query": query}}
            )
            answers["oversized"].append(answer["result"])

    async def bob() -> None:
        answers["bob"].append(await _rpc(http, "bob-full", "ping"))
        tags = await _rpc(http, "bob-full", "tools/call", {"name": "list_tags", "arguments": {}})
        answers["bob"].append(tags)

    with anyio.fail_after(120):
        async with anyio.create_task_group() as group:
            for _ in range(3):
                group.start_soon(alice_largest)
            for query in oversized:
                group.start_soon(alice_oversized, query)
            group.start_soon(bob)

    ping, tags = answers["bob"]
    assert ping["result"] == {}
    assert tags["result"]["isError"] is False
    assert len(answers["largest"]) == 9
    assert all(result["isError"] is False for result in answers["largest"])
    assert len(answers["oversized"]) == 9
    for result in answers["oversized"]:
        error = result["structuredContent"]["error"]
        assert (error["code"], error["field"]) == ("invalid_input", "query")
        assert f"at most {MAX_QUERY_CHARS:,}" in error["message"]
        assert len(json.dumps(result)) < 2_000
    # The work was bounded: the tokenizer never walked more than the limit, and
    # each accepted query was tokenized (the oversized ones never were).
    assert tokenized
    assert max(tokenized) <= MAX_QUERY_CHARS
