"""An authorization server on in-memory adapters, served by Litestar's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from oauth_support import ISSUER, PASSWORD, AuthServer

from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_http.oauth_routes import oauth_route_handlers
from trace_oauth.api_keys import ApiKeyService
from trace_oauth.authenticator import BearerAuthenticator
from trace_oauth.clients import CimdFetcher
from trace_oauth.config import OAuthConfig
from trace_oauth.passwords import hash_password
from trace_oauth.server import AuthorizationService
from trace_oauth.tokens import SecretHasher


@pytest.fixture
def oauth_config() -> OAuthConfig:
    return OAuthConfig(issuer=ISSUER)


@pytest.fixture
def cimd_fetcher() -> CimdFetcher | None:
    return None


@pytest.fixture
async def server(
    oauth_config: OAuthConfig, cimd_fetcher: CimdFetcher | None
) -> AsyncIterator[AuthServer]:
    storage = InMemoryStorage()
    credentials = InMemoryCredentialStore()
    clock = FixedClock()
    hasher = SecretHasher(oauth_config.hash_key)
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=clock)
    alice = await trace.create_account("alice@example.com", password_hash=hash_password(PASSWORD))
    service = AuthorizationService(
        config=oauth_config,
        credentials=credentials,
        storage=storage,
        clock=clock,
        hasher=hasher,
        cimd=cimd_fetcher,
    )
    auth = BearerAuthenticator(
        storage=storage, credentials=credentials, config=oauth_config, clock=clock, hasher=hasher
    )
    app = Litestar(route_handlers=oauth_route_handlers(service, secret=b"s" * 32))
    async with AsyncTestClient(app, base_url=ISSUER) as client:
        client.follow_redirects = False
        yield AuthServer(
            client=client,
            service=service,
            credentials=credentials,
            storage=storage,
            trace=trace,
            clock=clock,
            auth=auth,
            keys=ApiKeyService(credentials, clock, hasher),
            alice=alice,
            config=oauth_config,
        )
