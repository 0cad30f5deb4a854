"""Fixtures for the REST API tests: the real app on in-memory adapters, in process.

Bearer tokens ``alice-full``, ``alice-read`` and ``bob-full`` map to principals
through a fake authenticator (the real one is tested in tests/oauth); the web
session cookie is a real session of the runtime's ``web_sessions``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from litestar import Litestar
from rest_support import PUBLIC, SECRET, FakeAuthenticator, bearer

from trace_core.model import Account, Principal, Scope
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_http.bootstrap import runtime_for
from trace_http.runtime import Runtime
from trace_http.settings import AuthSettings, McpSettings, ServerSettings, Settings
from trace_http.web.app import create_app
from trace_http.web.oauth._pages import Pages
from trace_http.web.ratelimit import TokenBucketLimiter

SETTINGS = Settings(
    server=ServerSettings(public_url=PUBLIC),
    auth=AuthSettings(session_secret=SECRET),
    mcp=McpSettings(attachment_url_secret=SECRET),
)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def trace(clock: FixedClock) -> Trace:
    return Trace(
        storage=InMemoryStorage(),
        blobs=InMemoryBlobStore(),
        search=InMemorySearchIndex(),
        clock=clock,
    )


@pytest.fixture
async def accounts(trace: Trace) -> dict[str, Account]:
    return {
        "alice": await trace.create_account("alice@example.com", name="Alice"),
        "bob": await trace.create_account("bob@example.com", name="Bob"),
    }


@pytest.fixture
async def authenticator(accounts: dict[str, Account]) -> FakeAuthenticator:
    fake = FakeAuthenticator()
    for token, who, scope in (
        ("alice-full", "alice", Scope.FULL),
        ("alice-read", "alice", Scope.READ),
        ("bob-full", "bob", Scope.FULL),
    ):
        fake.tokens[token] = Principal(
            account_id=accounts[who].account_id,
            scopes=frozenset({scope}),
            actor=token,
            via="api_key",
            credential_id=token,
        )
    return fake


@pytest.fixture
def limiter() -> TokenBucketLimiter:
    return TokenBucketLimiter(burst=1_000_000, rate=1_000_000.0)


@pytest.fixture
def runtime(trace: Trace, authenticator: FakeAuthenticator, limiter: TokenBucketLimiter) -> Runtime:
    return runtime_for(
        SETTINGS, trace=trace, authenticator=authenticator, limiter=limiter, background=()
    )


@pytest.fixture
def app(runtime: Runtime) -> Litestar:
    return create_app(runtime)


@pytest.fixture
async def http(app: Litestar) -> AsyncIterator[httpx2.AsyncClient]:
    async with (
        app.lifespan(),
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC) as client,
    ):
        yield client


@pytest.fixture
async def alice_cookie(runtime: Runtime, accounts: dict[str, Account]) -> dict[str, Any]:
    """A signed-in browser of Alice's: its cookie and the CSRF token of its session."""
    pages = Pages(sessions=runtime.web_sessions, secret=runtime.session_secret, public_url=PUBLIC)
    session_id = await runtime.web_sessions.start(accounts["alice"].account_id)
    return {
        "cookie": pages.cookies.sign(session_id),
        "csrf": runtime.web_sessions.csrf_token(session_id=session_id),
    }


@pytest.fixture
async def world(http: httpx2.AsyncClient) -> dict[str, str]:
    """Alice's things, made through the API: a stream, an entry at version 2 with an image,
    an entry in the trash, and an API key (ids by name)."""
    from trace_core.testing.images import png_bytes

    alice = bearer("alice-full")
    stream = await http.post(
        "/api/v1/streams",
        json={"name": "Books", "entry_settings": {"use_status": True, "statuses": ["to read"]}},
        headers=alice,
    )
    assert stream.status_code == 201, stream.text
    stream_id = stream.json()["stream_id"]
    entry = await http.post(
        "/api/v1/entries",
        json={
            "content": "Dune, the first",
            "stream_id": stream_id,
            "tags": ["sf"],
            "status": "to read",
        },
        headers=alice,
    )
    assert entry.status_code == 201, entry.text
    entry_id = entry.json()["entry_id"]
    changed = await http.patch(
        f"/api/v1/entries/{entry_id}", json={"content": "Dune, the second"}, headers=alice
    )
    assert changed.status_code == 200, changed.text
    image = await http.post(
        f"/api/v1/entries/{entry_id}/attachments?filename=cover.png",
        content=png_bytes(),
        headers={**alice, "Content-Type": "image/png"},
    )
    assert image.status_code == 201, image.text
    trashed = await http.post("/api/v1/entries", json={"content": "gone"}, headers=alice)
    trashed_id = trashed.json()["entry_id"]
    deleted = await http.delete(f"/api/v1/entries/{trashed_id}", headers=alice)
    assert deleted.status_code == 200, deleted.text
    key = await http.post("/api/v1/keys", json={"name": "script", "scope": "read"}, headers=alice)
    assert key.status_code == 201, key.text
    return {
        "stream_id": stream_id,
        "entry_id": entry_id,
        "attachment_id": image.json()["attachment_id"],
        "trashed_id": trashed_id,
        "key_id": key.json()["key"]["key_id"],
    }
