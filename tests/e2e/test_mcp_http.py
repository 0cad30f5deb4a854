"""``trace serve`` as a real process, driven by the official Python MCP client over HTTP."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit
from uuid import UUID

import anyio
import httpx2
import pytest
from e2e_support import SECRET, McpConnect, Server, png

from mcp import Client, MCPError
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock
from trace_mcp import TOOLS, WRITE_TOOLS, AttachmentUrlSigner
from trace_sql import FilesystemBlobStore, create_storage

pytestmark = pytest.mark.anyio

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "e2e", "version": "1"},
    },
}
JSON = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def call_error(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.structured_content["error"]  # type: ignore[index]


@asynccontextmanager
async def server_trace(server: Server) -> AsyncIterator[Trace]:
    """The facade on the server's own database and blob directory (to add attachments)."""
    storage = create_storage(server.database_url)
    try:
        yield Trace(storage=storage, blobs=FilesystemBlobStore(server.data_dir / "blobs"))
    finally:
        await storage.close()


def principal(server: Server, who: str) -> Principal:
    return Principal(
        account_id=UUID(server.accounts[who]), scopes=frozenset({Scope.FULL}), actor="e2e"
    )


@pytest.mark.parametrize("path", ["/", "/mcp"])
async def test_every_tool_works_over_streamable_http(
    server: Server, connect: McpConnect, http: httpx2.AsyncClient, path: str
) -> None:
    async with connect("alice-full", path=path) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        docs = await call(client, "get_docs")
        stream = (
            await call(
                client,
                "create_stream",
                name=f"Journal {path}",
                entry_settings={"use_rating": True, "rating_type": "stars"},
            )
        )["stream"]
        stream_id = stream["stream_id"]
        created = (
            await call(
                client,
                "create_entry",
                content=f"Walked to the lighthouse {path}",
                stream_id=stream_id,
                tags=["walk"],
                rating=4,
                include_content=True,
            )
        )["entry"]
        entry_id = created["entry_id"]
        updated = await call(
            client, "update_entry", entry_id=entry_id, title="Lighthouse", expected_version=1
        )
        streams = await call(client, "list_streams")
        one_stream = await call(client, "get_stream", stream_id=stream_id)
        listed = await call(client, "list_entries", stream_id=stream_id)
        detail = await call(client, "get_entry", entry_id=entry_id)
        searched = await call(client, "search_entries", query="lighthouse")
        tags = await call(client, "list_tags")
        history = await call(client, "get_entry_history", entry_id=entry_id)
        renamed = await call(client, "update_stream", stream_id=stream_id, description="walks")
        found = await call(client, "search", query="lighthouse")
        fetched = await call(client, "fetch", id=entry_id)

        image = png(6, 4, payload=path.encode() * 50)
        encoded = base64.b64encode(image).decode()
        added = await call(
            client, "add_attachment", entry_id=entry_id, data=encoded, filename="walk.png"
        )
        attachment_id = added["attachment_id"]
        picture = await client.call_tool("get_attachment_data", {"attachment_id": attachment_id})
        signed = await call(client, "get_attachment_url", attachment_id=attachment_id)
        extra = await call(client, "add_attachment", entry_id=entry_id, data=encoded, filename="b")
        removed = await call(client, "delete_attachment", attachment_id=extra["attachment_id"])
        counted = await call(client, "list_entries", stream_id=stream_id)

        deleted = await call(client, "delete_entry", entry_id=entry_id)
        trash = await call(client, "list_trash")
        restored = await call(client, "restore_entry", entry_id=entry_id)

    assert names == {t.name for t in TOOLS}
    assert "Inbox" in docs["guide"]
    assert (updated["version"], updated["changed"]) == (2, ["title"])
    assert created["last_edited_by"] == "alice-full"
    assert created["rating"] == 4  # stars, in display units
    assert any(s["stream_id"] == stream_id for s in streams["streams"])
    assert one_stream["stream"]["entry_settings"]["rating_type"] == "stars"
    assert [e["entry_id"] for e in listed["entries"]] == [entry_id]
    assert detail["stream_context"]["name"] == f"Journal {path}"
    assert detail["stream_context"]["rating_scale"] == "stars 0-5"
    assert detail["entry"]["last_edited_by"] == "alice-full"
    assert entry_id in [e["entry_id"] for e in searched["entries"]]
    assert tags["tags"]["walk"] >= 1
    assert [v["version"] for v in history["versions"]] == [2, 1]
    assert renamed["stream"]["description"] == "walks"
    assert entry_id in [r["id"] for r in found["results"]]
    assert fetched["text"] == f"Walked to the lighthouse {path}"
    # the image round trip: added over MCP, identical bytes, and its metadata block
    assert (added["mime_type"], added["width"], added["height"]) == ("image/png", 6, 4)
    assert added["entry_version"] == 3
    assert (removed["removed"], removed["entry_version"]) == (True, 5)
    assert counted["entries"][0]["image_count"] == 1
    assert not picture.is_error
    assert base64.b64decode(picture.content[0].data) == image  # type: ignore[union-attr]
    assert picture.content[0].mime_type == "image/png"  # type: ignore[union-attr]
    assert "6x4" in picture.content[1].text  # type: ignore[union-attr]
    # the signed URL downloads the same bytes without a bearer token
    assert signed["url"].startswith(f"{server.url}/attachments/{attachment_id}?")
    download = await http.get(signed["url"])
    assert download.status_code == 200
    assert download.content == image
    assert download.headers["content-type"] == "image/png"
    assert deleted["deleted"] is True
    assert entry_id in [e["entry_id"] for e in trash["entries"]]
    assert restored["entry_id"] == entry_id


async def test_tampered_or_expired_download_links_are_refused(
    server: Server, connect: McpConnect, http: httpx2.AsyncClient
) -> None:
    async with connect("alice-full") as client:
        entry_id = (await call(client, "create_entry", content="photo"))["entry_id"]
        async with server_trace(server) as trace:
            added = await trace.add_attachment(principal(server, "alice"), UUID(entry_id), png())
            attachment = added.attachment
        signed = await call(
            client, "get_attachment_url", attachment_id=str(attachment.attachment_id)
        )
    url = urlsplit(signed["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    tampered_sig = f"{server.url}{url.path}?" + urlencode({**query, "sig": "A" * 43})
    other_account = f"{server.url}{url.path}?" + urlencode(
        {**query, "account": server.accounts["bob"]}
    )
    past = FixedClock(datetime.now(UTC) - timedelta(hours=2))
    expired = AttachmentUrlSigner(SECRET, server.url, clock=past).sign(
        UUID(server.accounts["alice"]), attachment.attachment_id
    )

    assert (await http.get(signed["url"])).status_code == 200
    for bad in (tampered_sig, other_account, expired.url, f"{server.url}{url.path}"):
        response = await http.get(bad)
        assert response.status_code == 403, bad
        assert response.json()["error"] == "permission_denied"


async def test_read_key_sees_no_write_tools_and_writing_gets_403_with_the_scope_challenge(
    server: Server, connect: McpConnect, http: httpx2.AsyncClient
) -> None:
    async with connect("alice-read") as client:
        names = {t.name for t in (await client.list_tools()).tools}
        listed = await call(client, "list_entries", include_content=False)
        with pytest.raises(MCPError) as refused:
            await client.call_tool("create_entry", {"content": "nope"})

    raw = await http.post(
        "/mcp",
        json={
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "delete_entry", "arguments": {"entry_id": str(UUID(int=1))}},
        },
        headers={
            **JSON,
            "Mcp-Protocol-Version": "2025-06-18",
            "Authorization": f"Bearer {server.keys['alice-read']}",
        },
    )

    assert names == {t.name for t in TOOLS} - WRITE_TOOLS
    assert listed["total"] >= 0
    assert "full" in str(refused.value)
    assert raw.status_code == 403
    assert raw.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", resource_metadata='
        f'"{server.url}/.well-known/oauth-protected-resource/mcp", scope="full"'
    )


async def test_revoked_or_unknown_key_gets_401_with_the_challenge(
    server: Server, http: httpx2.AsyncClient
) -> None:
    for token in (server.keys["alice-revoked"], "trace_notakey"):
        response = await http.post(
            "/mcp", json=INIT, headers={**JSON, "Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == (
            f'Bearer error="invalid_token", resource_metadata='
            f'"{server.url}/.well-known/oauth-protected-resource/mcp", scope="read full"'
        )
        assert response.json()["error"] == "invalid_token"
        assert "revoked" in response.json()["error_description"]
    bare = await http.head("/")
    assert bare.status_code == 401
    assert bare.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{server.url}/.well-known/oauth-protected-resource", '
        'scope="read full"'
    )


async def test_protected_resource_metadata_is_served_at_both_paths(
    server: Server, http: httpx2.AsyncClient
) -> None:
    root = (await http.get("/.well-known/oauth-protected-resource")).json()
    mcp = (await http.get("/.well-known/oauth-protected-resource/mcp")).json()

    assert root["resource"] == server.url
    assert mcp["resource"] == f"{server.url}/mcp"
    assert root["authorization_servers"] == mcp["authorization_servers"] == [server.url]


async def test_a_burst_over_the_rate_limit_gets_429_with_retry_after(
    server: Server, http: httpx2.AsyncClient
) -> None:
    # Tool calls spend the key's budget (handshakes have a larger flood guard).
    headers = {
        **JSON,
        "Authorization": f"Bearer {server.keys['alice-burst']}",
        "Mcp-Protocol-Version": "2025-06-18",
    }
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_tags", "arguments": {}},
    }
    statuses: list[int] = []
    retry_after: list[str] = []

    async def one() -> None:
        response = await http.post("/mcp", json=call, headers=headers)
        statuses.append(response.status_code)
        if response.status_code == 429:
            retry_after.append(response.headers["retry-after"])

    async with anyio.create_task_group() as tg:
        for _ in range(160):
            tg.start_soon(one)

    assert statuses.count(200) >= 100
    assert 429 in statuses
    assert set(statuses) <= {200, 429}
    assert all(int(value) >= 1 for value in retry_after)


async def test_ids_from_another_account_are_not_found(server: Server, connect: McpConnect) -> None:
    async with connect("alice-full") as client:
        entry_id = (await call(client, "create_entry", content="alice only"))["entry_id"]
        stream_id = (await call(client, "create_stream", name="Alice private"))["stream"][
            "stream_id"
        ]

    async with connect("bob-full") as client:
        errors = [
            await call_error(client, "get_entry", entry_id=entry_id),
            await call_error(client, "update_entry", entry_id=entry_id, content="bob was here"),
            await call_error(client, "delete_entry", entry_id=entry_id),
            await call_error(client, "restore_entry", entry_id=entry_id),
            await call_error(client, "get_stream", stream_id=stream_id),
            await call_error(client, "fetch", id=entry_id),
        ]
        search = await call(client, "search_entries", query="alice")

    assert {e["code"] for e in errors} == {"not_found"}
    assert search["entries"] == []


async def test_error_paths_reach_the_model_as_tool_errors(
    server: Server, connect: McpConnect
) -> None:
    async with connect("alice-full") as client:
        entry_id = (await call(client, "create_entry", content="v1"))["entry_id"]
        await call(client, "update_entry", entry_id=entry_id, content="v2")
        conflict = await call_error(
            client, "update_entry", entry_id=entry_id, content="v3", expected_version=1
        )
        invalid = await call_error(client, "create_entry", content="x", priority=9)
        missing = await call_error(client, "get_entry", entry_id=str(UUID(int=5)))
        bad_id = await call_error(client, "get_entry", entry_id="not-a-uuid")
        with pytest.raises(MCPError):
            await client.call_tool("no_such_tool", {})

    assert (conflict["code"], conflict["expected_version"], conflict["current_version"]) == (
        "version_conflict",
        1,
        2,
    )
    assert (invalid["code"], invalid["field"]) == ("invalid_input", "priority")
    assert invalid["allowed"] == [0, 1, 2, 3, 4]
    assert missing["code"] == "not_found"
    assert (bad_id["code"], bad_id["field"]) == ("invalid_input", "entry_id")


async def test_legacy_protocol_clients_work_against_the_stateless_server(
    connect: McpConnect,
) -> None:
    async with connect("alice-read", mode="legacy") as client:
        version = client.protocol_version
        result = await call(client, "list_streams")

    assert version.startswith("2025-")
    assert "streams" in result
