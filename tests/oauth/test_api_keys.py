from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from trace_core.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    PlanRequiredError,
)
from trace_core.model import Account, Scope
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_oauth.api_keys import ApiKeyService
from trace_oauth.authenticator import BearerAuthenticator
from trace_oauth.config import OAuthConfig
from trace_oauth.tokens import SecretHasher

ISSUER = "https://trace.example"


@dataclass
class World:
    trace: Trace
    clock: FixedClock
    credentials: InMemoryCredentialStore
    keys: ApiKeyService
    auth: BearerAuthenticator
    alice: Account
    bob: Account


def build(config: OAuthConfig | None = None) -> World:
    clock = FixedClock()
    storage = InMemoryStorage()
    credentials = InMemoryCredentialStore()
    config = config or OAuthConfig(issuer=ISSUER)
    hasher = SecretHasher(config.hash_key)
    trace = Trace(storage=storage, blobs=InMemoryBlobStore(), clock=clock)
    keys = ApiKeyService(credentials, clock, hasher)
    auth = BearerAuthenticator(
        storage=storage, credentials=credentials, config=config, clock=clock, hasher=hasher
    )
    return World(trace, clock, credentials, keys, auth, None, None)  # type: ignore[arg-type]


@pytest.fixture
async def world() -> World:
    w = build()
    w.alice = await w.trace.create_account("alice@example.com")
    w.bob = await w.trace.create_account("bob@example.com")
    return w


@pytest.mark.anyio
async def test_a_new_key_is_shown_once_and_stored_only_as_a_hash(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "Claude Code", "full")
    assert created.plaintext.startswith("trace_")
    assert len(created.plaintext) >= len("trace_") + 43
    stored = (await world.keys.list_keys(world.alice.account_id))[0]
    assert created.plaintext not in repr(stored)
    assert stored.secret_hash != created.plaintext
    assert created.plaintext.startswith(stored.prefix)
    assert len(stored.prefix) == len("trace_") + 8


@pytest.mark.anyio
async def test_a_key_authenticates_as_its_account_with_its_name_as_actor(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "laptop script", Scope.READ)
    principal = await world.auth.authenticate(created.plaintext, resource=f"{ISSUER}/mcp")
    assert principal.account_id == world.alice.account_id
    assert principal.actor == "laptop script"
    assert principal.via == "api_key"
    assert principal.has(Scope.READ)
    assert not principal.has(Scope.FULL)


@pytest.mark.anyio
async def test_a_full_access_key_has_read_and_full(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "rw", "full")
    principal = await world.auth.authenticate(created.plaintext)
    assert principal.has(Scope.READ)
    assert principal.has(Scope.FULL)


@pytest.mark.anyio
@pytest.mark.parametrize(
    "bearer", ["", "trace_", "trace_not-a-real-key", "garbage", "tat_unknown", "Bearer x"]
)
async def test_unknown_or_malformed_credentials_are_refused(world: World, bearer: str) -> None:
    with pytest.raises(AuthenticationError):
        await world.auth.authenticate(bearer)


@pytest.mark.anyio
async def test_a_revoked_key_is_refused_on_the_next_request(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "k", "full")
    await world.auth.authenticate(created.plaintext)
    revoked = await world.keys.revoke(world.alice.account_id, created.key.key_id)
    assert revoked.revoked_at == world.clock.now()
    with pytest.raises(AuthenticationError):
        await world.auth.authenticate(created.plaintext)


@pytest.mark.anyio
async def test_one_account_cannot_revoke_anothers_key(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "k", "full")
    with pytest.raises(NotFoundError):
        await world.keys.revoke(world.bob.account_id, created.key.key_id)
    await world.auth.authenticate(created.plaintext)
    assert await world.keys.list_keys(world.bob.account_id) == []


@pytest.mark.anyio
async def test_an_expired_key_is_refused(world: World) -> None:
    created = await world.keys.create(
        world.alice.account_id, "k", "read", expires_at=world.clock.now() + timedelta(days=1)
    )
    await world.auth.authenticate(created.plaintext)
    world.clock.advance(days=2)
    with pytest.raises(AuthenticationError):
        await world.auth.authenticate(created.plaintext)


@pytest.mark.anyio
async def test_a_key_of_a_deactivated_account_is_refused(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "k", "read")
    await world.trace.update_account(world.alice.account_id, is_active=False)
    with pytest.raises(AuthenticationError):
        await world.auth.authenticate(created.plaintext)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "scope", "field"),
    [("", "read", "name"), ("x" * 101, "read", "name"), ("ok", "write", "scope")],
)
async def test_bad_key_names_and_scopes_are_refused_naming_the_field(
    world: World, name: str, scope: str, field: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await world.keys.create(world.alice.account_id, name, scope)
    assert info.value.field == field


@pytest.mark.anyio
async def test_last_used_is_recorded_but_not_written_on_every_request(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "k", "read")
    writes = 0
    original = world.credentials.touch_api_key

    async def counting_touch(*args: object) -> None:
        nonlocal writes
        writes += 1
        await original(*args)  # type: ignore[arg-type]

    world.credentials.touch_api_key = counting_touch  # type: ignore[method-assign]
    for _ in range(20):
        await world.auth.authenticate(created.plaintext)
    assert writes == 1
    first_use = world.clock.now()
    world.clock.advance(minutes=10)
    await world.auth.authenticate(created.plaintext)
    assert writes == 2
    stored = (await world.keys.list_keys(world.alice.account_id))[0]
    assert stored.last_used_at == first_use + timedelta(minutes=10)


@pytest.mark.anyio
async def test_when_integrations_require_a_plan_accounts_without_one_get_plan_required() -> None:
    w = build(OAuthConfig(issuer=ISSUER, integrations_require_plan=True))
    free = await w.trace.create_account("free@example.com")
    paid = await w.trace.create_account("paid@example.com", plan="pro")
    free_key = await w.keys.create(free.account_id, "k", "read")
    paid_key = await w.keys.create(paid.account_id, "k", "read")
    with pytest.raises(PlanRequiredError):
        await w.auth.authenticate(free_key.plaintext)
    assert (await w.auth.authenticate(paid_key.plaintext)).account_id == paid.account_id


@pytest.mark.anyio
async def test_a_required_plan_list_only_admits_the_named_plans() -> None:
    config = OAuthConfig(
        issuer=ISSUER, integrations_require_plan=True, plans_with_integrations=frozenset({"pro"})
    )
    w = build(config)
    basic = await w.trace.create_account("basic@example.com", plan="basic")
    key = await w.keys.create(basic.account_id, "k", "read")
    with pytest.raises(PlanRequiredError) as info:
        await w.auth.authenticate(key.plaintext)
    assert info.value.details["required_plan"] == ["pro"]


def test_the_issuer_loses_its_trailing_slash_and_names_two_resources() -> None:
    config = OAuthConfig(issuer="https://trace.example/")
    assert config.issuer == "https://trace.example"
    assert config.resources == {"https://trace.example", "https://trace.example/mcp"}


@pytest.mark.anyio
async def test_without_the_account_cache_a_deactivation_is_seen_on_the_next_request() -> None:
    w = build(OAuthConfig(issuer=ISSUER, account_cache_ttl=timedelta(0)))
    carol = await w.trace.create_account("carol@example.com")
    key = await w.keys.create(carol.account_id, "k", "read")
    await w.auth.authenticate(key.plaintext)
    await w.trace.update_account(carol.account_id, is_active=False)
    with pytest.raises(AuthenticationError):
        await w.auth.authenticate(key.plaintext)


@pytest.mark.anyio
async def test_a_revoked_key_is_refused_even_while_its_account_is_cached(world: World) -> None:
    created = await world.keys.create(world.alice.account_id, "k", "full")
    await world.auth.authenticate(created.plaintext)
    await world.keys.revoke(world.alice.account_id, created.key.key_id)
    with pytest.raises(AuthenticationError):
        await world.auth.authenticate(created.plaintext)
