"""Dynamic Client Registration (RFC 7591) with the shapes real MCP clients send."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import msgspec
import pytest
from oauth_support import ISSUER, AuthServer, Flow, largest_accepted_metadata

from trace_oauth.clients import MAX_METADATA_BYTES
from trace_oauth.config import OAuthConfig

CLAUDE_AI = {
    "client_name": "Claude",
    "redirect_uris": [
        "https://claude.ai/api/mcp/auth_callback",
        "https://claude.com/api/mcp/auth_callback",
    ],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "claudeai",
}
CHATGPT = {
    "client_name": "ChatGPT",
    "redirect_uris": [
        "https://chatgpt.com/connector_platform_oauth_redirect",
        "https://chatgpt.com/connector/oauth/g-abc123",
    ],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}
GEMINI_CLI = {
    "client_name": "Gemini CLI MCP Client",
    "redirect_uris": ["http://localhost:7777/oauth/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "code_challenge_method": ["S256"],
}
CLAUDE_CODE = {
    "client_name": "Claude Code (trace)",
    "redirect_uris": ["http://localhost:54212/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
}
INSPECTOR = {
    "client_name": "MCP Inspector",
    "client_uri": "https://github.com/modelcontextprotocol/inspector",
    "redirect_uris": ["http://127.0.0.1:6276/oauth/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "none",
    "scope": "",
}
PYTHON_SDK = {
    "client_name": "trace e2e",
    "redirect_uris": ["http://localhost:3030/callback"],
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "token_endpoint_auth_method": "client_secret_post",
    "scope": "read full",
}
MINIMAL = {"redirect_uris": ["https://app.example.com/cb"]}
NATIVE = {
    "client_name": "Desktop app",
    "application_type": "native",
    "redirect_uris": ["http://[::1]:8123/cb"],
    "scope": "openid offline_access read write",
}

SHAPES = {
    "claude.ai": CLAUDE_AI,
    "chatgpt": CHATGPT,
    "gemini-cli": GEMINI_CLI,
    "claude-code": CLAUDE_CODE,
    "inspector": INSPECTOR,
    "python-sdk": PYTHON_SDK,
    "minimal": MINIMAL,
    "native": NATIVE,
}


def _no_empty_values(body: dict[str, Any]) -> None:
    for key, value in body.items():
        assert value not in (None, "", [], {}), f"{key} is empty in the registration response"


@pytest.mark.anyio
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
async def test_every_real_client_shape_registers_and_completes_the_flow(
    server: AuthServer, shape: dict[str, Any]
) -> None:
    response = await server.client.post("/register", json=shape)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    _no_empty_values(body)
    assert body["client_id"]
    assert isinstance(body["client_id_issued_at"], int)
    assert body["redirect_uris"] == shape["redirect_uris"]
    assert body["grant_types"] == ["authorization_code", "refresh_token"]
    assert body["response_types"] == ["code"]
    confidential = shape.get("token_endpoint_auth_method") == "client_secret_post"
    assert ("client_secret" in body) is confidential
    assert body["token_endpoint_auth_method"] == shape.get("token_endpoint_auth_method", "none")

    for redirect_uri in shape["redirect_uris"]:
        flow = Flow(
            client_id=body["client_id"],
            client_secret=body.get("client_secret"),
            redirect_uri=redirect_uri,
            scope=shape.get("scope"),
        )
        answer = await server.authorize(flow)
        assert answer["state"] == flow.state
        assert answer["iss"] == ISSUER
        tokens = await server.exchange(flow, answer["code"])
        assert tokens.status_code == 200, tokens.text
        assert tokens.json()["refresh_token"]


@pytest.mark.anyio
async def test_unknown_and_empty_scopes_are_dropped_and_not_echoed(server: AuthServer) -> None:
    body = await server.register(scope="claudeai openid offline_access")
    assert "scope" not in body
    body = await server.register(scope="read write")
    assert body["scope"] == "read"


@pytest.mark.anyio
async def test_a_public_client_gets_no_secret_and_a_confidential_one_gets_one(
    server: AuthServer,
) -> None:
    public = await server.register(token_endpoint_auth_method="none")
    assert "client_secret" not in public
    assert "client_secret_expires_at" not in public
    confidential = await server.register(token_endpoint_auth_method="client_secret_basic")
    assert confidential["client_secret"].startswith("tcs_")
    assert confidential["client_secret_expires_at"] == 0


@pytest.mark.anyio
async def test_a_confidential_client_cannot_use_the_token_endpoint_without_its_secret(
    server: AuthServer,
) -> None:
    body = await server.register(token_endpoint_auth_method="client_secret_post")
    flow = Flow(client_id=body["client_id"])
    answer = await server.authorize(flow)
    response = await server.exchange(flow, answer["code"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.anyio
async def test_a_client_secret_basic_client_authenticates_with_http_basic(
    server: AuthServer,
) -> None:
    import base64

    body = await server.register(token_endpoint_auth_method="client_secret_basic")
    flow = Flow(client_id=body["client_id"])
    answer = await server.authorize(flow)
    basic = base64.b64encode(f"{body['client_id']}:{body['client_secret']}".encode()).decode()
    response = await server.client.post(
        "/token",
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": flow.redirect_uri,
            "code_verifier": flow.verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200, response.text


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"redirect_uris": ["http://app.example.com/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example.com/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://claude.ai@evil.example/cb"]}, "invalid_redirect_uri"),
        (
            {"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]},
            "invalid_client_metadata",
        ),
        (
            {"redirect_uris": ["https://a.example/cb"], "response_types": ["token"]},
            "invalid_client_metadata",
        ),
        (
            {
                "redirect_uris": ["https://a.example/cb"],
                "token_endpoint_auth_method": "private_key_jwt",
            },
            "invalid_client_metadata",
        ),
    ],
)
async def test_bad_registrations_are_refused_with_the_rfc7591_error(
    server: AuthServer, metadata: dict[str, Any], error: str
) -> None:
    response = await server.client.post("/register", json=metadata)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_description"]


@pytest.mark.anyio
async def test_a_body_that_is_not_a_json_object_is_refused(server: AuthServer) -> None:
    response = await server.client.post(
        "/register", content=b"not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"


@pytest.mark.anyio
@pytest.mark.parametrize("oauth_config", [OAuthConfig(issuer=ISSUER, registration_limit=3)])
async def test_registration_is_rate_limited_per_address(server: AuthServer) -> None:
    for _ in range(3):
        await server.register()
    response = await server.client.post("/register", json=MINIMAL)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.anyio
async def test_clients_never_used_are_cleaned_up_and_used_ones_are_kept(
    server: AuthServer,
) -> None:
    unused = await server.register()
    used_flow, _ = await server.tokens()
    server.clock.advance(days=2)
    assert await server.service.cleanup() >= 1
    assert await server.credentials.get_client(unused["client_id"]) is None
    assert await server.credentials.get_client(used_flow.client_id) is not None


@pytest.mark.anyio
async def test_a_fresh_unused_client_survives_cleanup(server: AuthServer) -> None:
    body = await server.register()
    server.clock.advance(hours=1)
    await server.service.cleanup()
    assert await server.credentials.get_client(body["client_id"]) is not None
    assert server.config.unused_client_ttl == timedelta(days=1)


@pytest.mark.anyio
async def test_registering_sweeps_stale_clients_now_and_then(server: AuthServer) -> None:
    stale = await server.register()
    server.clock.advance(days=2)
    await server.register()
    assert await server.credentials.get_client(stale["client_id"]) is None


async def _post_raw(server: AuthServer, body: bytes) -> Any:
    return await server.client.post(
        "/register", content=body, headers={"Content-Type": "application/json"}
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b'{"redirect_uris": ["https://app.example.com/\xff"]}',
        b"\xff\xfe{}",
        b"[" * 5000 + b"]" * 5000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"[]",
        b'"https://app.example.com/cb"',
        b"",
    ],
    ids=["invalid-utf8", "utf16-bom", "deep-array", "deep-object", "array", "string", "empty"],
)
async def test_a_body_that_is_not_a_utf8_json_object_is_invalid_client_metadata(
    server: AuthServer, body: bytes
) -> None:
    response = await _post_raw(server, body)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client_metadata"
    assert len(response.text) < 500


@pytest.mark.anyio
async def test_a_registration_body_over_64_kb_is_refused_before_it_is_read(
    server: AuthServer,
) -> None:
    body = {**MINIMAL, "padding": "x" * (MAX_METADATA_BYTES)}
    response = await server.client.post("/register", json=body)
    assert response.status_code == 413
    assert response.json()["error"] == "invalid_client_metadata"
    assert "64 KB" in response.json()["error_description"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"redirect_uris": ["https://app.example.com/cb"], "padding": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    streamed = await server.client.post(
        "/register", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"] == "invalid_client_metadata"


LONG_URI = "https://app.example.com/" + "a" * 2048


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_uri", LONG_URI),
        ("logo_uri", LONG_URI),
        ("tos_uri", LONG_URI),
        ("policy_uri", LONG_URI),
        ("client_uri", "https://app.example.com/a b"),
        ("logo_uri", "https://app.example.com/\r\nX-Evil: 1"),
        ("client_uri", {"nested": ["x"] * 1000}),
        ("software_id", "s" * 201),
        ("software_version", "1" * 201),
        ("software_id", 12345),
        ("client_name", "n" * 201),
        ("contacts", [f"person{i}@example.com" for i in range(6)]),
        ("contacts", ["x" * 321 + "@example.com"]),
        ("contacts", [{"email": "a@example.com"}]),
        ("scope", "read " * 300),
        ("grant_types", ["authorization_code"] * 11),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 else None,
)
async def test_every_stored_field_is_bounded_and_the_error_names_it(
    server: AuthServer, field: str, value: Any
) -> None:
    response = await server.client.post("/register", json={**MINIMAL, field: value})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_client_metadata"
    assert field in response.json()["error_description"]
    assert len(response.text) < 500


@pytest.mark.anyio
@pytest.mark.parametrize(
    "redirect_uris",
    [
        ["https://evil.example/cb\r\nSet-Cookie: session=stolen"],
        ["https://evil.example/c b"],
        ["https://evil.example/cb\t"],
        ["https://evil.example/cb\x00"],
        ["https://evil.example/cb\u2028"],
        ["https://evil.example/cb\u00a0"],
        [LONG_URI],
        [f"https://app.example.com/cb{i}" for i in range(11)],
    ],
    ids=["crlf", "space", "tab", "nul", "line-separator", "nbsp", "too-long", "eleven"],
)
async def test_redirect_uris_with_whitespace_or_control_characters_or_too_many_are_refused(
    server: AuthServer, redirect_uris: list[str]
) -> None:
    response = await server.client.post("/register", json={"redirect_uris": redirect_uris})
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_redirect_uri", "invalid_client_metadata")
    description = response.json()["error_description"]
    assert all(0x20 <= ord(c) <= 0x7E for c in description)
    assert len(description) < 200


@pytest.mark.anyio
async def test_the_largest_accepted_registration_stores_under_40_kb(server: AuthServer) -> None:
    body = await server.register(**largest_accepted_metadata())
    stored = await server.credentials.get_client(body["client_id"])
    assert stored is not None
    assert "unknown_field" not in stored.extra
    assert len(msgspec.json.encode(stored)) < 40_000
