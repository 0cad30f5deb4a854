"""The whole OAuth flow on SQLite and PostgreSQL: the authlib thread hop meets real drivers."""

from __future__ import annotations

import anyio
import msgspec
import pytest
from oauth_support import AuthServer, Flow, largest_accepted_metadata

from trace_core.credentials import CredentialStore
from trace_core.errors import AuthenticationError
from trace_core.ports import Storage
from trace_sql import SqlStorage
from trace_sql.credentials import SqlCredentialStore


@pytest.fixture
def oauth_backend(sql_storage: SqlStorage) -> tuple[Storage, CredentialStore]:
    return sql_storage, SqlCredentialStore(sql_storage)


@pytest.mark.anyio
async def test_sign_in_tokens_refresh_reuse_and_revoke_on_sql(server: AuthServer) -> None:
    flow, tokens = await server.tokens()
    principal = await server.auth.authenticate(tokens["access_token"])
    assert principal.actor == "Claude"

    fresh = (await server.refresh(flow, tokens["refresh_token"])).json()
    server.clock.advance(seconds=61)
    reuse = await server.refresh(flow, tokens["refresh_token"])
    assert reuse.json()["error"] == "invalid_grant"
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(fresh["access_token"])

    flow, tokens = await server.tokens()
    revoked = await server.client.post(
        "/revoke", data={"token": tokens["refresh_token"], "client_id": flow.client_id}
    )
    assert revoked.status_code == 200
    with pytest.raises(AuthenticationError):
        await server.auth.authenticate(tokens["access_token"])


@pytest.mark.anyio
async def test_a_code_raced_by_two_token_requests_is_exchanged_once(server: AuthServer) -> None:
    client = await server.register()
    flow = Flow(client["client_id"])
    code = (await server.authorize(flow))["code"]
    statuses: list[int] = []

    async def exchange() -> None:
        statuses.append((await server.exchange(flow, code)).status_code)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(exchange)
    assert sorted(statuses) == [200, 400, 400, 400]


@pytest.mark.anyio
async def test_a_refresh_token_raced_within_the_grace_window_rotates_for_each(
    server: AuthServer,
) -> None:
    flow, tokens = await server.tokens()
    statuses: list[int] = []

    async def refresh() -> None:
        statuses.append((await server.refresh(flow, tokens["refresh_token"])).status_code)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as tg:
            for _ in range(3):
                tg.start_soon(refresh)
    assert statuses == [200, 200, 200]


@pytest.mark.anyio
async def test_a_revocation_on_one_replica_is_seen_by_another_on_the_next_request(
    server: AuthServer, sql_url: str
) -> None:
    from trace_oauth.authenticator import BearerAuthenticator
    from trace_sql import create_storage

    flow, tokens = await server.tokens()
    key = await server.keys.create(server.alice.account_id, "replicated", "read")
    other_storage = create_storage(sql_url)
    try:
        replica = BearerAuthenticator(
            storage=other_storage,
            credentials=SqlCredentialStore(other_storage),
            config=server.config,
            clock=server.clock,
        )
        await replica.authenticate(key.plaintext)
        await replica.authenticate(tokens["access_token"])
        await server.keys.revoke(server.alice.account_id, key.key.key_id)
        revoked = await server.client.post(
            "/revoke",
            data={"token": tokens["access_token"], "client_id": flow.client_id},
        )
        assert revoked.status_code == 200
        with pytest.raises(AuthenticationError):
            await replica.authenticate(key.plaintext)
        with pytest.raises(AuthenticationError):
            await replica.authenticate(tokens["access_token"])
    finally:
        await other_storage.close()


@pytest.mark.anyio
async def test_the_largest_accepted_registration_stores_under_40_kb_on_sql(
    server: AuthServer,
) -> None:
    body = await server.register(**largest_accepted_metadata())
    stored = await server.credentials.get_client(body["client_id"])
    assert stored is not None
    assert stored.extra["contacts"] == ["c" * 320] * 5
    assert len(msgspec.json.encode(stored)) < 40_000
