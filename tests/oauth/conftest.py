"""An authorization server on in-memory adapters, served by Litestar's test client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from argon2 import PasswordHasher
from oauth_support import ISSUER, PASSWORD, AuthServer, oauth_app

from trace_core.credentials import CredentialStore
from trace_core.model import Account
from trace_core.ports import Storage
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_oauth.api_keys import ApiKeyService
from trace_oauth.authenticator import BearerAuthenticator
from trace_oauth.clients import CimdFetcher
from trace_oauth.config import OAuthConfig
from trace_oauth.oidc import OidcProvider
from trace_oauth.passwords import PasswordHashing
from trace_oauth.server import AuthorizationService
from trace_oauth.tokens import SecretHasher


@pytest.fixture
def oauth_config() -> OAuthConfig:
    return OAuthConfig(issuer=ISSUER)


@pytest.fixture
def cimd_fetcher() -> CimdFetcher | None:
    return None


@pytest.fixture
def signup_enabled() -> bool:
    return False


@pytest.fixture
def oidc_provider() -> OidcProvider | None:
    return None


@pytest.fixture
def password_hashing() -> PasswordHashing | None:
    """The password hashing limit the service uses (None: the process-wide one)."""
    return None


@pytest.fixture
def oauth_backend() -> tuple[Storage, CredentialStore]:
    """Where accounts and credentials live: in memory unless a test module overrides this."""
    return InMemoryStorage(), InMemoryCredentialStore()


@pytest.fixture
async def server(
    oauth_config: OAuthConfig,
    cimd_fetcher: CimdFetcher | None,
    oauth_backend: tuple[Storage, CredentialStore],
    signup_enabled: bool,
    oidc_provider: OidcProvider | None,
    password_hashing: PasswordHashing | None,
) -> AsyncIterator[AuthServer]:
    storage, credentials = oauth_backend
    clock = FixedClock()
    hasher = SecretHasher(oauth_config.hash_key)
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=clock)
    # Verifying costs what the stored hash's parameters say: a cheap argon2id hash
    # keeps the many sign-ins of this suite fast (production cost is tested in
    # test_passwords.py).
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)
    alice = await trace.create_account("alice@example.com", password_hash=cheap)
    service = AuthorizationService(
        config=oauth_config,
        credentials=credentials,
        storage=storage,
        clock=clock,
        hasher=hasher,
        cimd=cimd_fetcher,
        passwords=password_hashing,
    )
    auth = BearerAuthenticator(
        storage=storage, credentials=credentials, config=oauth_config, clock=clock, hasher=hasher
    )

    async def signup(email: str, password: str, name: str | None) -> Account:
        password_hash = await service.passwords.hash(password)
        return await trace.create_account(email, name=name, password_hash=password_hash)

    app = oauth_app(
        service,
        trace=trace,
        api_keys=ApiKeyService(credentials, clock, hasher),
        authenticator=auth,
        signup=signup if signup_enabled else None,
        oidc=oidc_provider,
    )
    # The app runs on this test's event loop (a Litestar test client would run it on
    # a portal thread's loop, which an asyncpg pool opened here cannot serve).
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
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
            app=app,
        )
