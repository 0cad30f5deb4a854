"""The token endpoint: code exchange, every error path, refresh rotation, revocation."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from oauth_support import ISSUER, AuthServer, Flow, pkce_pair

from trace_core.errors import AuthenticationError
from trace_oauth.config import OAuthConfig


async def _code(server: AuthServer, **flow_args: str) -> tuple[Flow, str]:
    client = await server.register()
    flow = Flow(client["client_id"], **flow_args)  # type: ignore[arg-type]
    answer = await server.authorize(flow)
    return flow, answer["code"]


@pytest.mark.anyio
async def test_a_code_becomes_tokens_as_json_that_is_never_cached(server: AuthServer) -> None:
    flow, code = await _code(server)
    response = await server.exchange(flow, code)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "read full"
    assert body["access_token"].startswith("tat_")
    assert body["refresh_token"].startswith("trt_")


@pytest.mark.anyio
async def test_tokens_are_stored_only_as_hashes(server: AuthServer) -> None:
    _, tokens = await server.tokens()
    live = await server.credentials.list_tokens(server.alice.account_id, server.clock.now())
    assert len(live) == 1
    stored = repr(live[0])
    assert tokens["access_token"] not in stored
    assert tokens["refresh_token"] not in stored


@pytest.mark.anyio
async def test_a_wrong_code_verifier_is_invalid_grant(server: AuthServer) -> None:
    flow, code = await _code(server)
    other_verifier, _ = pkce_pair()
    response = await server.exchange(flow, code, code_verifier=other_verifier)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_a_missing_code_verifier_is_invalid_request(server: AuthServer) -> None:
    flow, code = await _code(server)
    flow.verifier = ""
    response = await server.exchange(flow, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


@pytest.mark.anyio
async def test_a_code_works_once_and_replaying_it_revokes_what_it_issued(
    server: AuthServer,
) -> None:
    flow, code = await _code(server)
    first = await server.exchange(flow, code)
    assert first.status_code == 200
    access = first.json()["access_token"]
    await server.auth.authenticate(access)
    replay = await server.exchange(flow, code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(access)


@pytest.mark.anyio
async def test_an_expired_code_is_invalid_grant(server: AuthServer) -> None:
    flow, code = await _code(server)
    server.clock.advance(minutes=11)
    response = await server.exchange(flow, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_a_different_redirect_uri_is_invalid_grant(server: AuthServer) -> None:
    client = await server.register(
        redirect_uris=[
            "https://claude.ai/api/mcp/auth_callback",
            "https://claude.com/api/mcp/auth_callback",
        ]
    )
    flow = Flow(client["client_id"])
    answer = await server.authorize(flow)
    response = await server.exchange(
        flow, answer["code"], redirect_uri="https://claude.com/api/mcp/auth_callback"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_a_code_of_another_client_is_invalid_grant(server: AuthServer) -> None:
    flow, code = await _code(server)
    other = await server.register()
    flow.client_id = other["client_id"]
    response = await server.exchange(flow, code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_a_foreign_resource_at_the_token_endpoint_is_invalid_target(
    server: AuthServer,
) -> None:
    flow, code = await _code(server)
    response = await server.exchange(flow, code, resource="https://evil.example/mcp")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


@pytest.mark.anyio
async def test_without_a_resource_the_token_is_for_the_server_origin(server: AuthServer) -> None:
    flow, code = await _code(server, resource=None)  # type: ignore[arg-type]
    response = await server.exchange(flow, code)
    assert response.status_code == 200
    record = (await server.credentials.list_tokens(server.alice.account_id, server.clock.now()))[0]
    assert record.resource == ISSUER
    principal = await server.auth.authenticate(
        response.json()["access_token"], resource=f"{ISSUER}/mcp"
    )
    assert principal.account_id == server.alice.account_id


@pytest.mark.anyio
async def test_the_resource_from_authorize_is_bound_into_the_token(server: AuthServer) -> None:
    flow, code = await _code(server, resource=f"{ISSUER}/mcp")
    flow.resource = None
    response = await server.exchange(flow, code)
    assert response.status_code == 200
    record = (await server.credentials.list_tokens(server.alice.account_id, server.clock.now()))[0]
    assert record.resource == f"{ISSUER}/mcp"


@pytest.mark.anyio
async def test_an_access_token_is_refused_at_another_resource(server: AuthServer) -> None:
    _, tokens = await server.tokens()
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(tokens["access_token"], resource="https://other.example/mcp")


@pytest.mark.anyio
@pytest.mark.parametrize("client_id", ["no-such-client", ""])
async def test_an_unknown_client_gets_401_invalid_client(
    server: AuthServer, client_id: str
) -> None:
    flow, code = await _code(server)
    flow.client_id = client_id
    response = await server.exchange(flow, code)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


@pytest.mark.anyio
async def test_a_deleted_client_gets_401_invalid_client_on_refresh(server: AuthServer) -> None:
    flow, tokens = await server.tokens()
    await server.credentials.delete_client(flow.client_id)
    response = await server.refresh(flow, tokens["refresh_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(tokens["access_token"])


@pytest.mark.anyio
async def test_an_unsupported_grant_type_is_refused(server: AuthServer) -> None:
    response = await server.client.post(
        "/token", data={"grant_type": "password", "username": "a", "password": "b"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


@pytest.mark.anyio
async def test_an_expired_access_token_is_refused(server: AuthServer) -> None:
    _, tokens = await server.tokens()
    server.clock.advance(hours=1, seconds=1)
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(tokens["access_token"])


@pytest.mark.anyio
@pytest.mark.parametrize(
    "oauth_config",
    [OAuthConfig(issuer=ISSUER, access_token_ttl=timedelta(days=365))],
)
async def test_the_access_token_lifetime_is_configurable(server: AuthServer) -> None:
    _, tokens = await server.tokens()
    assert tokens["expires_in"] == 365 * 24 * 3600
    server.clock.advance(days=300)
    await server.auth.authenticate(tokens["access_token"])


# --- refresh ----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_refreshing_rotates_both_tokens_and_keeps_the_scope(server: AuthServer) -> None:
    flow, tokens = await server.tokens(grant="read")
    response = await server.refresh(flow, tokens["refresh_token"])
    assert response.status_code == 200, response.text
    fresh = response.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["scope"] == "read"
    principal = await server.auth.authenticate(fresh["access_token"])
    assert {s.value for s in principal.scopes} == {"read"}


@pytest.mark.anyio
async def test_the_old_refresh_token_still_works_within_the_grace_window(
    server: AuthServer,
) -> None:
    flow, tokens = await server.tokens()
    assert (await server.refresh(flow, tokens["refresh_token"])).status_code == 200
    server.clock.advance(seconds=30)
    retry = await server.refresh(flow, tokens["refresh_token"])
    assert retry.status_code == 200


@pytest.mark.anyio
async def test_reusing_a_rotated_refresh_token_after_the_grace_window_revokes_the_family(
    server: AuthServer,
) -> None:
    flow, tokens = await server.tokens()
    fresh = (await server.refresh(flow, tokens["refresh_token"])).json()
    server.clock.advance(seconds=61)
    reuse = await server.refresh(flow, tokens["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(fresh["access_token"])
    after = await server.refresh(flow, fresh["refresh_token"])
    assert after.status_code == 400
    assert after.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_a_refresh_may_narrow_full_to_read_but_never_widen(server: AuthServer) -> None:
    flow, full = await server.tokens(grant="full")
    narrowed = await server.refresh(flow, full["refresh_token"], scope="read")
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "read"

    flow, read = await server.tokens(grant="read")
    widened = await server.refresh(flow, read["refresh_token"], scope="full")
    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_scope"


@pytest.mark.anyio
async def test_unknown_scopes_on_refresh_are_ignored(server: AuthServer) -> None:
    flow, tokens = await server.tokens(grant="full")
    response = await server.refresh(flow, tokens["refresh_token"], scope="offline_access claudeai")
    assert response.status_code == 200
    assert response.json()["scope"] == "read full"


@pytest.mark.anyio
async def test_a_refresh_token_of_another_client_is_invalid_grant(server: AuthServer) -> None:
    _, tokens = await server.tokens()
    other = await server.register()
    response = await server.refresh(Flow(other["client_id"]), tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_an_expired_refresh_token_is_invalid_grant(server: AuthServer) -> None:
    flow, tokens = await server.tokens()
    server.clock.advance(days=366)
    response = await server.refresh(flow, tokens["refresh_token"])
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_a_foreign_resource_on_refresh_is_invalid_target(server: AuthServer) -> None:
    flow, tokens = await server.tokens()
    response = await server.refresh(flow, tokens["refresh_token"], resource="https://x.example")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


# --- revocation --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
async def test_revoking_either_token_ends_the_whole_grant_immediately(
    server: AuthServer, which: str
) -> None:
    flow, tokens = await server.tokens()
    response = await server.client.post(
        "/revoke",
        data={"token": tokens[which], "token_type_hint": which, "client_id": flow.client_id},
    )
    assert response.status_code == 200
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(tokens["access_token"])
    refresh = await server.refresh(flow, tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"


@pytest.mark.anyio
async def test_revoking_an_unknown_token_is_still_200(server: AuthServer) -> None:
    client = await server.register()
    response = await server.client.post(
        "/revoke", data={"token": "tat_nonsense", "client_id": client["client_id"]}
    )
    assert response.status_code == 200


@pytest.mark.anyio
async def test_disconnecting_an_app_revokes_its_tokens(server: AuthServer) -> None:
    flow, tokens = await server.tokens()
    apps = await server.service.connected_apps(server.alice.account_id)
    assert [client.client_name for client, _ in apps] == ["Claude"]
    assert await server.service.disconnect(server.alice.account_id, flow.client_id) == 1
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(tokens["access_token"])
    assert await server.service.connected_apps(server.alice.account_id) == []


@pytest.fixture
def authlib_at_debug() -> Iterator[None]:
    """An operator running with debug logging, before the server is built."""
    authlib = logging.getLogger("authlib")
    before = authlib.level
    authlib.setLevel(logging.DEBUG)
    yield
    authlib.setLevel(before)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.mark.anyio
async def test_issued_tokens_never_reach_the_log_even_at_debug_level(
    authlib_at_debug: None, server: AuthServer
) -> None:
    collect = _Collect()
    root = logging.getLogger()
    before = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        flow, tokens = await server.tokens()
        refreshed = (await server.refresh(flow, tokens["refresh_token"])).json()
    finally:
        root.removeHandler(collect)
        root.setLevel(before)
    text = "\n".join(collect.lines)
    assert collect.lines
    for secret in (tokens["access_token"], tokens["refresh_token"], refreshed["access_token"]):
        assert secret not in text


@pytest.mark.anyio
@pytest.mark.parametrize("value", ['a"b', "a\\b", "caf\u00e9", "a\x01b", "x" * 5000])
@pytest.mark.parametrize(
    "parameter",
    [
        "grant_type",
        "code",
        "redirect_uri",
        "client_id",
        "code_verifier",
        "refresh_token",
        "resource",
        "scope",
    ],
)
async def test_no_token_or_revocation_parameter_value_makes_a_server_error(
    server: AuthServer, parameter: str, value: str
) -> None:
    flow, code = await _code(server)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": flow.redirect_uri,
        "client_id": flow.client_id,
        "code_verifier": flow.verifier,
        parameter: value,
    }
    answer = await server.client.post("/token", data=data)
    assert answer.status_code in (200, 400, 401), answer.text
    revoked = await server.client.post(
        "/revoke", data={"token": value, "client_id": flow.client_id, parameter: value}
    )
    assert revoked.status_code in (200, 400, 401), revoked.text
