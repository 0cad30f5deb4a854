"""The contract every :class:`~trace_core.credentials.CredentialStore` must meet.

Use it by subclassing in a test module and providing a ``credentials`` fixture
that yields a fresh, empty store::

    class TestMyStore(CredentialStoreContract):
        @pytest.fixture
        async def credentials(self):
            yield MyStore(...)

The tests need an ``anyio_backend`` fixture (pytest's anyio plugin).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import anyio
import msgspec
import pytest

from trace_core.credentials import (
    ApiKey,
    AuthorizationCode,
    CodeStatus,
    CredentialStore,
    OAuthClient,
    OAuthToken,
    RotationStatus,
    WebSession,
)
from trace_core.errors import ConflictError
from trace_core.model import Scope
from trace_core.testing.contracts._base import ContractSuite

__all__ = ["CredentialStoreContract"]

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GRACE = timedelta(seconds=60)


def make_key(account_id: UUID, name: str = "laptop", *, at: datetime = T0) -> ApiKey:
    """Build an API key record with a unique hash."""
    key_id = uuid4()
    return ApiKey(
        key_id=key_id,
        account_id=account_id,
        name=name,
        prefix="trace_abcd1234",
        secret_hash=f"hash-{key_id}",
        scope=Scope.READ,
        created_at=at,
    )


def make_client(client_id: str = "client-1", *, at: datetime = T0) -> OAuthClient:
    """Build a public DCR client."""
    return OAuthClient(
        client_id=client_id,
        client_name="Claude",
        redirect_uris=("https://claude.ai/api/mcp/auth_callback",),
        created_at=at,
        extra={"client_uri": "https://claude.ai"},
    )


def make_token(
    account_id: UUID,
    *,
    family_id: UUID | None = None,
    client_id: str = "client-1",
    at: datetime = T0,
    access_ttl: timedelta = timedelta(hours=1),
    refresh_ttl: timedelta | None = timedelta(days=365),
) -> OAuthToken:
    """Build a token record with unique hashes."""
    token_id = uuid4()
    return OAuthToken(
        token_id=token_id,
        family_id=family_id or uuid4(),
        account_id=account_id,
        client_id=client_id,
        scope=Scope.FULL,
        resource="https://trace.example",
        access_token_hash=f"at-{token_id}",
        refresh_token_hash=f"rt-{token_id}" if refresh_ttl is not None else None,
        issued_at=at,
        access_expires_at=at + access_ttl,
        refresh_expires_at=at + refresh_ttl if refresh_ttl is not None else None,
    )


def make_code(
    account_id: UUID, *, at: datetime = T0, client_id: str = "client-1"
) -> AuthorizationCode:
    """Build an authorization code record."""
    return AuthorizationCode(
        code_hash=f"code-{uuid4()}",
        client_id=client_id,
        account_id=account_id,
        redirect_uri="https://claude.ai/api/mcp/auth_callback",
        scope=Scope.READ,
        resource="https://trace.example/mcp",
        code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        family_id=uuid4(),
        created_at=at,
        expires_at=at + timedelta(minutes=10),
    )


def make_session(
    account_id: UUID, *, at: datetime = T0, ttl: timedelta = timedelta(hours=1)
) -> WebSession:
    """Build a web session record with a unique hash."""
    return WebSession(
        session_hash=f"session-{uuid4()}",
        account_id=account_id,
        created_at=at,
        expires_at=at + ttl,
    )


class CredentialStoreContract(ContractSuite):
    """Behaviour shared by every credential store."""

    # --- API keys ---------------------------------------------------------

    @pytest.mark.anyio
    async def test_an_api_key_is_found_by_its_hash_and_listed_for_its_account_only(
        self, credentials: CredentialStore
    ) -> None:
        alice, bob = uuid4(), uuid4()
        key = make_key(alice)
        await credentials.add_api_key(key)
        await credentials.add_api_key(make_key(bob, at=T0 + timedelta(seconds=1)))

        assert await credentials.get_api_key_by_hash(key.secret_hash) == key
        assert await credentials.get_api_key_by_hash("nope") is None
        assert [k.key_id for k in await credentials.list_api_keys(alice)] == [key.key_id]
        assert await credentials.get_api_key(alice, key.key_id) == key
        assert await credentials.get_api_key(bob, key.key_id) is None

    @pytest.mark.anyio
    async def test_api_keys_are_listed_newest_first(self, credentials: CredentialStore) -> None:
        alice = uuid4()
        old = make_key(alice, "old", at=T0)
        new = make_key(alice, "new", at=T0 + timedelta(hours=1))
        await credentials.add_api_key(old)
        await credentials.add_api_key(new)
        assert [k.name for k in await credentials.list_api_keys(alice)] == ["new", "old"]

    @pytest.mark.anyio
    async def test_a_duplicate_api_key_hash_is_a_conflict(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        key = make_key(alice)
        await credentials.add_api_key(key)
        with pytest.raises(ConflictError):
            await credentials.add_api_key(msgspec.structs.replace(key, key_id=uuid4()))

    @pytest.mark.anyio
    async def test_revoking_a_key_stamps_it_once_and_only_for_its_account(
        self, credentials: CredentialStore
    ) -> None:
        alice, mallory = uuid4(), uuid4()
        key = make_key(alice)
        await credentials.add_api_key(key)

        assert not await credentials.revoke_api_key(mallory, key.key_id, T0)
        still = await credentials.get_api_key(alice, key.key_id)
        assert still is not None
        assert still.revoked_at is None
        assert await credentials.revoke_api_key(alice, key.key_id, T0 + timedelta(minutes=1))
        assert not await credentials.revoke_api_key(alice, key.key_id, T0 + timedelta(minutes=2))
        stored = await credentials.get_api_key_by_hash(key.secret_hash)
        assert stored is not None
        assert stored.revoked_at == T0 + timedelta(minutes=1)
        assert not stored.is_usable(T0 + timedelta(hours=1))

    @pytest.mark.anyio
    async def test_touching_a_key_records_when_it_was_last_used(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        key = make_key(alice)
        await credentials.add_api_key(key)
        await credentials.touch_api_key(key.key_id, T0 + timedelta(days=2))
        stored = await credentials.get_api_key(alice, key.key_id)
        assert stored is not None
        assert stored.last_used_at == T0 + timedelta(days=2)

    # --- clients ----------------------------------------------------------

    @pytest.mark.anyio
    async def test_a_client_round_trips_with_its_metadata_and_can_be_replaced(
        self, credentials: CredentialStore
    ) -> None:
        client = make_client()
        await credentials.save_client(client)
        assert await credentials.get_client("client-1") == client
        renamed = msgspec.structs.replace(client, client_name="Claude Desktop")
        await credentials.save_client(renamed)
        assert await credentials.get_client("client-1") == renamed
        assert await credentials.get_client("other") is None

    @pytest.mark.anyio
    async def test_deleting_a_client_makes_its_tokens_unusable(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        await credentials.save_client(make_client())
        token = make_token(alice)
        await credentials.add_token(token)
        assert await credentials.delete_client("client-1")
        assert not await credentials.delete_client("client-1")
        assert await credentials.get_client("client-1") is None
        found = await credentials.get_token_by_access_hash(token.access_token_hash)
        assert found is None or found.revoked_at is not None

    @pytest.mark.anyio
    async def test_only_never_used_registered_clients_older_than_the_cutoff_are_cleaned_up(
        self, credentials: CredentialStore
    ) -> None:
        await credentials.save_client(make_client("stale", at=T0))
        await credentials.save_client(make_client("used", at=T0))
        await credentials.touch_client("used", T0 + timedelta(minutes=5))
        await credentials.save_client(make_client("fresh", at=T0 + timedelta(days=2)))
        cimd = msgspec.structs.replace(
            make_client("https://app.example/client.json", at=T0), source="cimd"
        )
        await credentials.save_client(cimd)

        assert await credentials.delete_unused_clients(T0 + timedelta(days=1)) == 1
        assert await credentials.get_client("stale") is None
        for kept in ("used", "fresh", "https://app.example/client.json"):
            assert await credentials.get_client(kept) is not None

    # --- codes ------------------------------------------------------------

    @pytest.mark.anyio
    async def test_a_code_is_consumed_once_and_a_second_use_is_reported_as_reuse(
        self, credentials: CredentialStore
    ) -> None:
        code = make_code(uuid4())
        await credentials.add_authorization_code(code)
        first = await credentials.consume_authorization_code(code.code_hash, T0)
        assert first.status is CodeStatus.CONSUMED
        assert first.code is not None
        assert first.code.resource == code.resource
        assert first.code.family_id == code.family_id
        second = await credentials.consume_authorization_code(code.code_hash, T0)
        assert second.status is CodeStatus.REUSED
        unknown = await credentials.consume_authorization_code("nope", T0)
        assert unknown.status is CodeStatus.UNKNOWN

    @pytest.mark.anyio
    async def test_concurrent_consumers_of_one_code_see_exactly_one_success(
        self, credentials: CredentialStore
    ) -> None:
        code = make_code(uuid4())
        await credentials.add_authorization_code(code)
        results: list[CodeStatus] = []

        async def consume() -> None:
            outcome = await credentials.consume_authorization_code(code.code_hash, T0)
            results.append(outcome.status)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(consume)
        assert sorted(results) == sorted([CodeStatus.CONSUMED] + [CodeStatus.REUSED] * 4)

    # --- tokens -----------------------------------------------------------

    @pytest.mark.anyio
    async def test_a_token_is_found_by_its_access_and_refresh_hashes(
        self, credentials: CredentialStore
    ) -> None:
        token = make_token(uuid4())
        await credentials.add_token(token)
        assert await credentials.get_token_by_access_hash(token.access_token_hash) == token
        assert token.refresh_token_hash is not None
        assert await credentials.get_token_by_refresh_hash(token.refresh_token_hash) == token
        assert await credentials.get_token_by_access_hash("nope") is None

    @pytest.mark.anyio
    async def test_rotating_a_refresh_token_stores_the_successor_in_the_same_family(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        old = make_token(alice)
        await credentials.add_token(old)
        new = make_token(alice, at=T0 + timedelta(minutes=1))
        assert old.refresh_token_hash is not None

        outcome = await credentials.rotate_refresh_token(
            old.refresh_token_hash, new, now=T0 + timedelta(minutes=1), grace=GRACE
        )
        assert outcome.status is RotationStatus.ROTATED
        assert outcome.previous is not None
        assert outcome.previous.token_id == old.token_id
        stored_new = await credentials.get_token_by_access_hash(new.access_token_hash)
        assert stored_new is not None
        assert stored_new.family_id == old.family_id
        stored_old = await credentials.get_token_by_access_hash(old.access_token_hash)
        assert stored_old is not None
        assert stored_old.rotated_at == T0 + timedelta(minutes=1)

    @pytest.mark.anyio
    async def test_a_spent_refresh_token_works_again_within_the_grace_window(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        old = make_token(alice)
        await credentials.add_token(old)
        assert old.refresh_token_hash is not None
        at = T0 + timedelta(minutes=1)
        first = await credentials.rotate_refresh_token(
            old.refresh_token_hash, make_token(alice, at=at), now=at, grace=GRACE
        )
        retry = await credentials.rotate_refresh_token(
            old.refresh_token_hash,
            make_token(alice, at=at),
            now=at + timedelta(seconds=30),
            grace=GRACE,
        )
        assert first.status is RotationStatus.ROTATED
        assert retry.status is RotationStatus.ROTATED

    @pytest.mark.anyio
    async def test_reusing_a_spent_refresh_token_after_the_grace_window_revokes_the_family(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        old = make_token(alice)
        await credentials.add_token(old)
        assert old.refresh_token_hash is not None
        successor = make_token(alice, at=T0)
        await credentials.rotate_refresh_token(
            old.refresh_token_hash, successor, now=T0, grace=GRACE
        )
        outcome = await credentials.rotate_refresh_token(
            old.refresh_token_hash,
            make_token(alice),
            now=T0 + timedelta(minutes=5),
            grace=GRACE,
        )
        assert outcome.status is RotationStatus.REUSED
        stored = await credentials.get_token_by_access_hash(successor.access_token_hash)
        assert stored is not None
        assert stored.revoked_at is not None
        assert await credentials.list_tokens(alice, T0 + timedelta(minutes=5)) == []

    @pytest.mark.anyio
    async def test_revoked_or_expired_refresh_tokens_do_not_rotate(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        expired = make_token(alice, refresh_ttl=timedelta(days=1))
        revoked = make_token(alice)
        await credentials.add_token(expired)
        await credentials.add_token(revoked)
        await credentials.revoke_token_family(revoked.family_id, T0)
        assert expired.refresh_token_hash is not None
        assert revoked.refresh_token_hash is not None
        later = T0 + timedelta(days=2)
        for token in (expired, revoked):
            assert token.refresh_token_hash is not None
            new = make_token(alice, at=later)
            outcome = await credentials.rotate_refresh_token(
                token.refresh_token_hash, new, now=later, grace=GRACE
            )
            assert outcome.status is RotationStatus.INVALID
            assert await credentials.get_token_by_access_hash(new.access_token_hash) is None
        unknown = await credentials.rotate_refresh_token(
            "nope", make_token(alice), now=later, grace=GRACE
        )
        assert unknown.status is RotationStatus.INVALID

    @pytest.mark.anyio
    async def test_revoking_a_family_revokes_every_member_and_nothing_else(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        family = uuid4()
        a = make_token(alice, family_id=family)
        b = make_token(alice, family_id=family, at=T0 + timedelta(seconds=1))
        other = make_token(alice)
        for token in (a, b, other):
            await credentials.add_token(token)
        assert await credentials.revoke_token_family(family, T0 + timedelta(minutes=1)) == 2
        assert await credentials.revoke_token_family(family, T0 + timedelta(minutes=2)) == 0
        live = await credentials.list_tokens(alice, T0 + timedelta(minutes=3))
        assert [t.token_id for t in live] == [other.token_id]

    @pytest.mark.anyio
    async def test_disconnecting_an_app_revokes_only_that_accounts_tokens_for_it(
        self, credentials: CredentialStore
    ) -> None:
        alice, bob = uuid4(), uuid4()
        mine = make_token(alice)
        theirs = make_token(bob)
        other_app = make_token(alice, client_id="client-2")
        for token in (mine, theirs, other_app):
            await credentials.add_token(token)
        assert await credentials.revoke_client_tokens(alice, "client-1", T0) == 1
        assert [t.token_id for t in await credentials.list_tokens(alice, T0)] == [
            other_app.token_id
        ]
        assert [t.token_id for t in await credentials.list_tokens(bob, T0)] == [theirs.token_id]

    @pytest.mark.anyio
    async def test_expired_codes_and_dead_tokens_are_deleted(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        code = make_code(alice)
        dead = make_token(alice, refresh_ttl=None)
        refreshable = make_token(alice)
        for token in (dead, refreshable):
            await credentials.add_token(token)
        await credentials.add_authorization_code(code)
        later = T0 + timedelta(days=1)
        assert await credentials.delete_expired(later) == 2
        assert await credentials.get_token_by_access_hash(dead.access_token_hash) is None
        assert await credentials.get_token_by_access_hash(refreshable.access_token_hash)
        gone = await credentials.consume_authorization_code(code.code_hash, later)
        assert gone.status is CodeStatus.UNKNOWN

    # --- web sessions -----------------------------------------------------

    @pytest.mark.anyio
    async def test_a_web_session_is_found_by_its_hash_until_it_is_ended(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        session = make_session(alice)
        other = make_session(alice)
        await credentials.add_session(session)
        await credentials.add_session(other)

        assert await credentials.get_session(session.session_hash) == session
        assert await credentials.get_session("nope") is None
        assert await credentials.end_session(session.session_hash) is True
        assert await credentials.get_session(session.session_hash) is None
        assert await credentials.end_session(session.session_hash) is False
        assert await credentials.get_session(other.session_hash) == other

    @pytest.mark.anyio
    async def test_a_web_session_expiry_can_be_moved(self, credentials: CredentialStore) -> None:
        session = make_session(uuid4())
        await credentials.add_session(session)
        later = session.expires_at + timedelta(hours=5)

        assert await credentials.extend_session(session.session_hash, later) is True
        assert await credentials.extend_session("nope", later) is False
        stored = await credentials.get_session(session.session_hash)
        assert stored is not None
        assert stored.expires_at == later
        assert stored.created_at == session.created_at

    @pytest.mark.anyio
    async def test_a_duplicate_web_session_hash_is_a_conflict(
        self, credentials: CredentialStore
    ) -> None:
        session = make_session(uuid4())
        await credentials.add_session(session)
        with pytest.raises(ConflictError):
            await credentials.add_session(msgspec.structs.replace(session, account_id=uuid4()))

    @pytest.mark.anyio
    async def test_ending_an_accounts_sessions_leaves_other_accounts_signed_in(
        self, credentials: CredentialStore
    ) -> None:
        alice, bob = uuid4(), uuid4()
        laptop, phone, bobs = make_session(alice), make_session(alice), make_session(bob)
        for session in (laptop, phone, bobs):
            await credentials.add_session(session)

        assert await credentials.end_account_sessions(alice) == 2

        assert await credentials.get_session(laptop.session_hash) is None
        assert await credentials.get_session(phone.session_hash) is None
        assert await credentials.get_session(bobs.session_hash) == bobs
        assert await credentials.end_account_sessions(alice) == 0

    @pytest.mark.anyio
    async def test_expired_web_sessions_are_deleted_and_live_ones_kept(
        self, credentials: CredentialStore
    ) -> None:
        alice = uuid4()
        short = make_session(alice, ttl=timedelta(minutes=5))
        long = make_session(alice, ttl=timedelta(hours=2))
        await credentials.add_session(short)
        await credentials.add_session(long)
        later = T0 + timedelta(hours=1)
        stored = await credentials.get_session(short.session_hash)
        assert stored is not None
        assert not stored.is_live(later)

        assert await credentials.delete_expired(later) == 1

        assert await credentials.get_session(short.session_hash) is None
        assert await credentials.get_session(long.session_hash) == long

    # --- rate limits ------------------------------------------------------

    @pytest.mark.anyio
    async def test_a_rate_limit_bucket_refuses_hits_over_the_limit_until_the_window_ends(
        self, credentials: CredentialStore
    ) -> None:
        window = timedelta(minutes=1)
        start = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
        for i in range(3):
            assert (
                await credentials.hit_rate_limit(
                    "login:alice", now=start + timedelta(seconds=i), window=window, limit=3
                )
                is None
            )
        retry = await credentials.hit_rate_limit(
            "login:alice", now=start + timedelta(seconds=20), window=window, limit=3
        )
        assert retry == pytest.approx(40.0)
        assert (
            await credentials.hit_rate_limit("login:bob", now=start, window=window, limit=3) is None
        )
        assert (
            await credentials.hit_rate_limit(
                "login:alice", now=start + timedelta(seconds=61), window=window, limit=3
            )
            is None
        )
