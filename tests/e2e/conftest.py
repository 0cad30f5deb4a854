"""End-to-end fixtures: ``trace serve`` as a real process on a free port.

The server runs on a fresh SQLite data directory with a known attachment-URL
secret. Accounts and API keys are seeded through the same packages the CLI uses,
against the server's database file, once the server has migrated it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import httpx2
import pytest
from e2e_support import McpConnect, Server, run_blocking, start_server, stop_server
from mcp.client.streamable_http import streamable_http_client

from mcp import Client


async def _seed(server: Server) -> None:
    from trace_core.model import Scope
    from trace_core.service import SystemClock, Trace
    from trace_oauth.api_keys import ApiKeyService
    from trace_oauth.tokens import SecretHasher
    from trace_sql import FilesystemBlobStore, create_storage
    from trace_sql.credentials import SqlCredentialStore

    storage = create_storage(server.database_url)
    try:
        trace = Trace(storage=storage, blobs=FilesystemBlobStore(server.data_dir / "blobs"))
        keys = ApiKeyService(SqlCredentialStore(storage), SystemClock(), SecretHasher())
        alice = await trace.create_account("alice@example.com")
        bob = await trace.create_account("bob@example.com")
        server.accounts = {"alice": str(alice.account_id), "bob": str(bob.account_id)}
        for name, account, scope in [
            ("alice-full", alice, Scope.FULL),
            ("alice-read", alice, Scope.READ),
            ("alice-revoked", alice, Scope.FULL),
            ("alice-burst", alice, Scope.READ),
            ("bob-full", bob, Scope.FULL),
        ]:
            created = await keys.create(account.account_id, name, scope)
            server.keys[name] = created.plaintext
            server.key_ids[name] = str(created.key.key_id)
        await keys.revoke(alice.account_id, UUID(server.key_ids["alice-revoked"]))
    finally:
        await storage.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A running server with accounts alice and bob and their API keys."""
    process, running = start_server(tmp_path_factory.mktemp("trace-e2e") / "data")
    try:
        run_blocking(lambda: _seed(running))
        yield running
    finally:
        stop_server(process)


@pytest.fixture
def connect(server: Server) -> McpConnect:
    """The official MCP client over Streamable HTTP, with a bearer key."""

    @asynccontextmanager
    async def _connect(key: str, path: str = "/mcp", **kwargs: Any) -> AsyncIterator[Client]:
        headers = {"Authorization": f"Bearer {server.keys[key]}"}
        async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
            transport = streamable_http_client(f"{server.url}{path}", http_client=http)
            async with Client(transport, **kwargs) as client:
                yield client

    return _connect


@pytest.fixture
async def http(server: Server) -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client
