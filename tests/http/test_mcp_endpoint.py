"""The MCP endpoint's HTTP behaviour: challenge, metadata, CORS, Host/Origin, scope, rate limit."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest
from http_support import PUBLIC, FakeAuthenticator, McpConnect

from mcp import MCPError
from trace_core.errors import InvalidInputError, PlanRequiredError
from trace_core.model import Principal
from trace_http.bootstrap import open_runtime
from trace_http.settings import McpSettings, Settings, StorageSettings

pytestmark = pytest.mark.anyio

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}
JSON_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "Mcp-Protocol-Version": "2025-06-18",
}


def tool_call(name: str, arguments: dict[str, object]) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


@pytest.mark.parametrize(
    ("path", "metadata"),
    [
        ("/", f"{PUBLIC}/.well-known/oauth-protected-resource"),
        ("/mcp", f"{PUBLIC}/.well-known/oauth-protected-resource/mcp"),
        ("/mcp/", f"{PUBLIC}/.well-known/oauth-protected-resource/mcp"),
    ],
)
async def test_request_without_token_gets_401_challenge_for_its_path(
    http: httpx2.AsyncClient, path: str, metadata: str
) -> None:
    response = await http.post(path, json=INIT, headers=JSON_HEADERS)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer resource_metadata="{metadata}", scope="read full"'
    )
    body = response.json()
    assert set(body) == {"error", "error_description"}


async def test_invalid_token_gets_invalid_token_error(http: httpx2.AsyncClient) -> None:
    response = await http.post(
        "/mcp", json=INIT, headers={**JSON_HEADERS, "Authorization": "Bearer nope"}
    )

    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token"')
    assert 'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp"' in (
        challenge
    )
    assert response.json()["error"] == "invalid_token"
    assert "revoked" in response.json()["error_description"]


async def test_token_is_checked_for_the_resource_of_the_path(
    http: httpx2.AsyncClient, keys: dict[str, Principal], authenticator: FakeAuthenticator
) -> None:
    await http.post("/", json=INIT, headers={**JSON_HEADERS, "Authorization": "Bearer alice-full"})
    await http.post(
        "/mcp/", json=INIT, headers={**JSON_HEADERS, "Authorization": "Bearer alice-full"}
    )

    assert authenticator.resources == [PUBLIC, f"{PUBLIC}/mcp"]


async def test_head_without_token_is_answered_like_post(http: httpx2.AsyncClient) -> None:
    response = await http.head("/mcp")

    assert response.status_code == 401
    assert "resource_metadata=" in response.headers["www-authenticate"]


async def test_head_with_a_valid_token_succeeds(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    response = await http.head("/", headers={"Authorization": "Bearer alice-read"})

    assert response.status_code == 204


async def test_mcp_paths_answer_directly_without_redirects(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    for path in ("/", "/mcp", "/mcp/"):
        response = await http.post(
            path, json=INIT, headers={**JSON_HEADERS, "Authorization": "Bearer alice-full"}
        )
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["result"]["serverInfo"]["name"] == "trace"


@pytest.mark.parametrize("path", ["/", "/mcp"])
async def test_preflight_succeeds_without_token(http: httpx2.AsyncClient, path: str) -> None:
    response = await http.options(
        path,
        headers={
            "Origin": "https://claude.ai",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, mcp-protocol-version, "
            "mcp-session-id, mcp-method, mcp-name, last-event-id",
        },
    )

    assert response.status_code == 204
    allowed = response.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "mcp-protocol-version", "mcp-session-id", "last-event-id"):
        assert header in allowed
    assert "POST" in response.headers["access-control-allow-methods"]


async def test_401_carries_cors_headers(http: httpx2.AsyncClient) -> None:
    response = await http.post(
        "/mcp", json=INIT, headers={**JSON_HEADERS, "Origin": "http://localhost:6274"}
    )

    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "www-authenticate" in exposed
    assert "mcp-session-id" in exposed


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/.well-known/oauth-protected-resource", PUBLIC),
        ("/.well-known/oauth-protected-resource/mcp", f"{PUBLIC}/mcp"),
    ],
)
async def test_protected_resource_metadata_names_the_resource_exactly(
    http: httpx2.AsyncClient, path: str, resource: str
) -> None:
    response = await http.get(path, headers={"Origin": "https://example.org"})

    assert response.status_code == 200
    document = response.json()
    assert document["resource"] == resource
    assert document["authorization_servers"] == [PUBLIC]
    assert document["scopes_supported"] == ["read", "full"]
    assert "offline_access" not in document["scopes_supported"]
    assert response.headers["access-control-allow-origin"] == "*"


async def test_unknown_host_is_refused_as_misdirected(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    response = await http.post(
        "/mcp",
        json=INIT,
        headers={**JSON_HEADERS, "Host": "evil.example", "Authorization": "Bearer alice-full"},
    )

    assert response.status_code == 421


async def test_loopback_host_with_any_port_is_accepted(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    response = await http.post(
        "/mcp",
        json=INIT,
        headers={**JSON_HEADERS, "Host": "127.0.0.1:5555", "Authorization": "Bearer alice-full"},
    )

    assert response.status_code == 200


async def test_foreign_origin_is_forbidden_before_authentication(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    response = await http.post(
        "/mcp",
        json=INIT,
        headers={
            **JSON_HEADERS,
            "Origin": "https://evil.example",
            "Authorization": "Bearer alice-full",
        },
    )

    assert response.status_code == 403
    assert response.json()["error"] == "invalid_origin"


async def test_own_and_loopback_origins_are_allowed(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    for origin in (PUBLIC, "http://localhost:6274", "http://127.0.0.1:3000"):
        response = await http.post(
            "/mcp",
            json=INIT,
            headers={**JSON_HEADERS, "Origin": origin, "Authorization": "Bearer alice-full"},
        )
        assert response.status_code == 200, origin


async def test_read_key_calling_a_write_tool_gets_403_insufficient_scope(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    response = await http.post(
        "/mcp",
        json=tool_call("create_entry", {"content": "hello"}),
        headers={**JSON_HEADERS, "Authorization": "Bearer alice-read"},
    )

    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", '
        'resource_metadata="http://testserver/.well-known/oauth-protected-resource/mcp", '
        'scope="full"'
    )
    error = response.json()["error"]
    assert error["data"]["code"] == "insufficient_scope"
    assert response.json()["id"] == 7


async def test_read_key_surfaces_403_to_the_sdk_client_as_an_error(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    async with mcp_client("alice-read") as client:
        with pytest.raises(MCPError) as caught:
            await client.call_tool(
                "delete_entry", {"entry_id": "7b4f6b0e-0000-4000-8000-000000000000"}
            )

    assert "full" in str(caught.value)


async def test_read_key_does_not_see_write_tools(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    async with mcp_client("alice-read") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}

    assert "search_entries" in names
    assert names.isdisjoint({"create_entry", "update_entry", "delete_entry", "create_stream"})


async def test_read_only_oauth_grant_sees_write_tools_so_it_can_step_up(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    async with mcp_client("alice-oauth-read") as client:
        names = {tool.name for tool in (await client.list_tools()).tools}

    assert "create_entry" in names


async def test_full_key_writes_and_reads_through_both_paths(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    async with mcp_client("alice-full", path="/") as client:
        created = await client.call_tool("create_entry", {"content": "buy milk", "tags": ["shop"]})
    entry_id = created.structured_content["entry_id"]

    async with mcp_client("alice-full", path="/mcp") as client:
        fetched = await client.call_tool("get_entry", {"entry_id": entry_id})

    assert not fetched.is_error
    assert fetched.structured_content["entry"]["content"] == "buy milk"
    assert fetched.structured_content["entry"]["last_edited_by"] == "alice-full"


async def test_legacy_handshake_clients_work_statelessly(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    async with mcp_client("alice-full", mode="legacy") as client:
        version = client.protocol_version
        result = await client.call_tool("list_streams", {})

    assert version.startswith("2025-")
    assert result.structured_content["total"] == 0


async def test_other_accounts_entry_is_not_found(
    mcp_client: McpConnect, keys: dict[str, Principal]
) -> None:
    async with mcp_client("alice-full") as client:
        created = await client.call_tool("create_entry", {"content": "alice's secret"})
    entry_id = created.structured_content["entry_id"]

    async with mcp_client("bob-full") as client:
        result = await client.call_tool("get_entry", {"entry_id": entry_id})
        update = await client.call_tool("update_entry", {"entry_id": entry_id, "title": "mine"})

    assert result.is_error
    assert result.structured_content["error"]["code"] == "not_found"
    assert update.structured_content["error"]["code"] == "not_found"


async def test_rate_limit_answers_429_with_retry_after(
    http: httpx2.AsyncClient, keys: dict[str, Principal], now: list[float]
) -> None:
    headers = {**JSON_HEADERS, "Authorization": "Bearer alice-read"}
    call = tool_call("list_streams", {})
    statuses = [
        (await http.post("/mcp", json=call, headers=headers)).status_code for _ in range(101)
    ]
    limited = await http.post("/mcp", json=call, headers=headers)
    other_key = await http.post(
        "/mcp", json=call, headers={**JSON_HEADERS, "Authorization": "Bearer bob-full"}
    )

    assert statuses[:100] == [200] * 100
    assert statuses[100] == 429
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) >= 1
    error = limited.json()["error"]
    assert limited.json()["id"] == 7
    assert error["data"]["code"] == "rate_limited"
    assert error["message"].startswith("rate limited, retry after 1 s")
    assert other_key.status_code == 200
    now[0] += 0.1  # one token back after 1/10 s
    assert (await http.post("/mcp", json=call, headers=headers)).status_code == 200
    assert (await http.post("/mcp", json=call, headers=headers)).status_code == 429


async def test_handshakes_and_listings_do_not_spend_the_tool_call_budget(
    http: httpx2.AsyncClient, keys: dict[str, Principal]
) -> None:
    headers = {**JSON_HEADERS, "Authorization": "Bearer alice-read"}
    listing = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
    chatter = [
        (await http.post("/mcp", json=body, headers=headers)).status_code
        for _ in range(60)
        for body in (INIT, listing)
    ]
    calls = [
        (await http.post("/mcp", json=tool_call("list_streams", {}), headers=headers)).status_code
        for _ in range(101)
    ]

    assert set(chatter) == {200}
    assert calls == [200] * 100 + [429]


async def test_health_reports_the_database(http: httpx2.AsyncClient) -> None:
    response = await http.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_account_without_the_required_plan_gets_403_plan_required(
    http: httpx2.AsyncClient, authenticator: FakeAuthenticator
) -> None:
    async def refuse(bearer: str, *, resource: str | None = None) -> Principal:
        raise PlanRequiredError("integrations need a paid plan")

    authenticator.authenticate = refuse  # type: ignore[method-assign]

    response = await http.post(
        "/mcp", json=INIT, headers={**JSON_HEADERS, "Authorization": "Bearer any"}
    )

    assert response.status_code == 403
    assert response.json()["error"] == "plan_required"


async def test_switching_auth_off_is_refused_on_a_public_address(tmp_path: Path) -> None:
    settings = Settings(
        storage=StorageSettings(data_dir=str(tmp_path)),
        mcp=McpSettings(disable_auth_for_tests=True),
    )

    with pytest.raises(InvalidInputError) as refused:
        async with open_runtime(settings, serving=True, host="0.0.0.0", port=8000):
            pass

    assert refused.value.field == "mcp.disable_auth_for_tests"
    assert not (tmp_path / "trace.db").exists()


@pytest.mark.parametrize("method", ["GET", "DELETE"])
async def test_stateless_endpoint_answers_405_to_stream_and_session_requests(
    http: httpx2.AsyncClient, keys: dict[str, Principal], method: str
) -> None:
    response = await http.request(
        method,
        "/mcp",
        headers={"Authorization": "Bearer alice-full", "Accept": "text/event-stream"},
    )

    assert response.status_code == 405
    assert "POST" in response.headers["allow"]


async def test_get_without_a_token_is_challenged_like_post(http: httpx2.AsyncClient) -> None:
    response = await http.get("/mcp", headers={"Accept": "text/event-stream"})

    assert response.status_code == 401
    assert "resource_metadata=" in response.headers["www-authenticate"]
