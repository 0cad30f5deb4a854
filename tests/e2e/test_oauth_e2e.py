"""OAuth end to end: the official SDK's ``OAuthClientProvider`` against a real ``trace serve``.

The SDK does everything a real client does — 401, Protected Resource Metadata,
authorization server metadata, dynamic registration, PKCE with ``resource``,
the ``iss`` check, token exchange, 403 step-up, refresh. The only part played
by the test is the person: a small "browser" that opens the authorization URL,
posts the real sign-in form, then the real consent form with the access level
the person picks.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from e2e_support import Server, run_blocking, start_server, stop_server
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)

from mcp import Client

PASSWORD = "correct horse battery staple"
CALLBACK = "http://localhost:3030/callback"

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def _seed(server: Server) -> None:
    from trace_core.service import Trace
    from trace_oauth.passwords import hash_password
    from trace_sql import FilesystemBlobStore, create_storage

    storage = create_storage(server.database_url)
    try:
        trace = Trace(storage=storage, blobs=FilesystemBlobStore(server.data_dir / "blobs"))
        await trace.create_account("alice@example.com", password_hash=hash_password(PASSWORD))
    finally:
        await storage.close()


@pytest.fixture(scope="module")
def oauth_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``trace serve`` with no grace window for spent refresh tokens (so reuse is testable)."""
    process, running = start_server(
        tmp_path_factory.mktemp("trace-oauth-e2e") / "data",
        {"TRACE_AUTH_REFRESH_GRACE_SECONDS": "0"},
    )
    try:
        run_blocking(lambda: _seed(running))
        yield running
    finally:
        stop_server(process)


class MemoryTokens:
    """The SDK's token storage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} field on the page"
    return unescape(match.group(1))


@dataclass
class Person:
    """Signs in and consents in a browser, choosing the access level from ``grants`` in turn."""

    base_url: str
    grants: list[str]
    authorize_urls: list[str] = field(default_factory=list)
    answer: AuthorizationCodeResult | None = None

    async def open(self, url: str) -> None:
        self.authorize_urls.append(url)
        grant = self.grants.pop(0)
        async with httpx2.AsyncClient(base_url=self.base_url, timeout=30) as browser:
            login = await browser.get(url)
            assert login.status_code == 200, login.text
            consent = await browser.post(
                "/authorize/login",
                data={
                    "csrf_token": _field(login.text, "csrf_token"),
                    "request": _field(login.text, "request"),
                    "email": "alice@example.com",
                    "password": PASSWORD,
                },
            )
            assert consent.status_code == 200, consent.text
            assert "trace e2e" in consent.text
            decision = await browser.post(
                "/authorize/consent",
                data={
                    "csrf_token": _field(consent.text, "csrf_token"),
                    "request": _field(consent.text, "request"),
                    "scope": grant,
                    "decision": "allow",
                },
            )
        assert decision.status_code == 302, decision.text
        location = decision.headers["location"]
        assert location.startswith(CALLBACK)
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        self.answer = AuthorizationCodeResult(
            code=query["code"], state=query.get("state"), iss=query.get("iss")
        )

    async def callback(self) -> AuthorizationCodeResult:
        assert self.answer is not None
        answer, self.answer = self.answer, None
        return answer


@dataclass
class Connection:
    client: Client
    provider: OAuthClientProvider
    storage: MemoryTokens
    person: Person


@asynccontextmanager
async def connect(
    server: Server, grants: list[str], path: str = "/mcp"
) -> AsyncIterator[Connection]:
    storage = MemoryTokens()
    person = Person(server.url, list(grants))
    provider = OAuthClientProvider(
        server_url=f"{server.url}{path}",
        client_metadata=OAuthClientMetadata(
            client_name="trace e2e",
            redirect_uris=[CALLBACK],  # type: ignore[list-item]
            grant_types=["authorization_code", "refresh_token"],
            response_types=["code"],
        ),
        storage=storage,
        redirect_handler=person.open,
        callback_handler=person.callback,
    )
    async with httpx2.AsyncClient(auth=provider, timeout=30) as http:
        transport = streamable_http_client(f"{server.url}{path}", http_client=http)
        async with Client(transport) as client:
            yield Connection(client, provider, storage, person)


async def _ok(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> Any:
    result = await client.call_tool(tool, arguments or {})
    assert not result.is_error, result.content
    return result.structured_content


async def test_the_sdk_client_discovers_registers_signs_in_and_calls_tools(
    oauth_server: Server,
) -> None:
    async with connect(oauth_server, ["full"]) as conn:
        await _ok(conn.client, "list_streams")
        created = await _ok(
            conn.client, "create_entry", {"content": "written over OAuth", "include_content": True}
        )
    assert len(conn.person.authorize_urls) == 1
    authorize = parse_qs(urlsplit(conn.person.authorize_urls[0]).query)
    assert authorize["code_challenge_method"] == ["S256"]
    assert authorize["resource"] == [f"{oauth_server.url}/mcp"]
    assert conn.storage.client is not None
    assert conn.storage.tokens is not None
    assert conn.storage.tokens.refresh_token
    assert created["entry"]["last_edited_by"] == "trace e2e"


async def test_a_read_only_grant_is_refused_a_write_and_the_client_steps_up(
    oauth_server: Server,
) -> None:
    async with connect(oauth_server, ["read", "full"]) as conn:
        await _ok(conn.client, "list_streams")
        assert conn.storage.tokens is not None
        read_token = conn.storage.tokens.access_token
        async with httpx2.AsyncClient(timeout=30) as http:
            refused = await http.post(
                f"{oauth_server.url}/mcp",
                headers={
                    "Authorization": f"Bearer {read_token}",
                    "Accept": "application/json, text/event-stream",
                    "Content-Type": "application/json",
                },
                json={
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": "create_entry", "arguments": {"content": "x"}},
                },
            )
        assert refused.status_code == 403
        challenge = refused.headers["www-authenticate"]
        assert 'error="insufficient_scope"' in challenge
        assert 'scope="full"' in challenge
        # The SDK sees the same 403, authorizes again for "full", and retries.
        await _ok(conn.client, "create_entry", {"content": "after step-up"})
    assert len(conn.person.authorize_urls) == 2
    second = parse_qs(urlsplit(conn.person.authorize_urls[1]).query)
    assert "full" in second["scope"][0].split()


async def test_refresh_rotates_and_reusing_the_old_refresh_token_revokes_the_grant(
    oauth_server: Server,
) -> None:
    async with connect(oauth_server, ["full"]) as conn:
        await _ok(conn.client, "list_streams")
        assert conn.storage.tokens is not None
        first = conn.storage.tokens
        # Make the SDK believe its access token expired: it refreshes before the next call.
        conn.provider.context.token_expiry_time = time.time() - 1
        await _ok(conn.client, "list_streams")
        second = conn.storage.tokens
        assert second is not None
        assert second.access_token != first.access_token
        assert second.refresh_token != first.refresh_token

        async with httpx2.AsyncClient(base_url=oauth_server.url, timeout=30) as http:
            client_id = conn.storage.client.client_id  # type: ignore[union-attr]
            replay = await http.post(
                "/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": first.refresh_token,
                    "client_id": client_id,
                },
            )
            assert replay.status_code == 400
            assert replay.json()["error"] == "invalid_grant"
            # The replay revoked the whole family: the current tokens are dead too.
            probe = await http.post(
                "/mcp",
                headers={
                    "Authorization": f"Bearer {second.access_token}",
                    "Accept": "application/json, text/event-stream",
                },
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            )
            assert probe.status_code == 401
            assert 'error="invalid_token"' in probe.headers["www-authenticate"]
            refresh = await http.post(
                "/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": second.refresh_token,
                    "client_id": client_id,
                },
            )
            assert refresh.json()["error"] == "invalid_grant"


async def test_revocation_takes_effect_on_the_next_request(oauth_server: Server) -> None:
    async with connect(oauth_server, ["full", "full"], path="/") as conn:
        await _ok(conn.client, "list_streams")
        assert conn.storage.tokens is not None
        token = conn.storage.tokens.access_token
        async with httpx2.AsyncClient(base_url=oauth_server.url, timeout=30) as http:
            revoked = await http.post(
                "/revoke",
                data={"token": token, "client_id": conn.storage.client.client_id},  # type: ignore[union-attr]
            )
            assert revoked.status_code == 200
            probe = await http.post(
                "/",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/json, text/event-stream",
                },
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            )
        assert probe.status_code == 401
        # The SDK copes: it gets a 401, signs in again, and goes on.
        await _ok(conn.client, "list_streams")
    assert len(conn.person.authorize_urls) == 2
