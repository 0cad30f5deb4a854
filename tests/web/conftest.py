"""The people's pages on in-memory adapters, driven like a browser (cookies, forms)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from web_support import IMAGE_LIMIT, ORIGIN, PASSWORD, Site, sign_in

from trace_core.limits import Limits
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_http.bootstrap import runtime_for
from trace_http.settings import McpSettings, ServerSettings, Settings
from trace_http.web.app import create_app
from trace_oauth.config import OAuthConfig
from trace_oauth.server import AuthorizationService
from trace_oauth.tokens import SecretHasher


@pytest.fixture
async def site() -> Site:
    clock = FixedClock()
    storage = InMemoryStorage()
    credentials = InMemoryCredentialStore()
    trace = Trace(
        storage=storage,
        blobs=InMemoryBlobStore(),
        search=InMemorySearchIndex(),
        clock=clock,
        limits=Limits(max_attachment_bytes=IMAGE_LIMIT),
    )
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    alice = await trace.create_account("alice@example.com", name="Alice", password_hash=cheap)
    bob = await trace.create_account("bob@example.com", password_hash=cheap)
    config = OAuthConfig(issuer=ORIGIN)
    hasher = SecretHasher(config.hash_key)
    oauth = AuthorizationService(
        config=config, credentials=credentials, storage=storage, clock=clock, hasher=hasher
    )
    settings = Settings(
        server=ServerSettings(public_url=ORIGIN),
        mcp=McpSettings(attachment_url_secret="a" * 32),
    )
    runtime = runtime_for(
        settings,
        trace=trace,
        credentials=credentials,
        hasher=hasher,
        oauth=oauth,
        session_secret=b"s" * 32,
        background=(),
    )
    return Site(
        app=create_app(runtime), trace=trace, alice=alice, bob=bob, clock=clock, runtime=runtime
    )


@pytest.fixture
async def alice_browser(site: Site) -> AsyncIterator[httpx.AsyncClient]:
    async with site.browser() as browser:
        await sign_in(browser)
        yield browser
