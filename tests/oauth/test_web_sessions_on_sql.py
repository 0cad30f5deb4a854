"""Web sessions live in the shared database: every replica sees a sign-in and its end.

Runs on SQLite (a file) and PostgreSQL. ``trace user passwd`` runs as a separate
process would, on its own connection to the same database.
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from oauth_support import ISSUER, AuthServer, hidden, oauth_app, sign_in

from trace_core.credentials import CredentialStore
from trace_core.ports import Storage
from trace_http.cli import main
from trace_oauth.api_keys import ApiKeyService
from trace_oauth.server import AuthorizationService
from trace_oauth.tokens import SecretHasher
from trace_sql import SqlStorage, create_storage
from trace_sql.credentials import SqlCredentialStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def oauth_backend(sql_storage: SqlStorage) -> tuple[Storage, CredentialStore]:
    return sql_storage, SqlCredentialStore(sql_storage)


def _replica(server: AuthServer, storage: SqlStorage) -> Litestar:
    """A second server on its own connections to the same database, with the same secrets."""
    credentials = SqlCredentialStore(storage)
    hasher = SecretHasher(server.config.hash_key)
    service = AuthorizationService(
        config=server.config,
        credentials=credentials,
        storage=storage,
        clock=server.clock,
        hasher=hasher,
    )
    return oauth_app(service, api_keys=ApiKeyService(credentials, server.clock, hasher))


async def test_a_session_started_on_one_replica_works_on_another_and_ends_on_both(
    server: AuthServer, sql_url: str
) -> None:
    storage = create_storage(sql_url)
    try:
        transport = httpx.ASGITransport(app=_replica(server, storage))
        async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as replica:
            await sign_in(server.client)
            # The same browser, sent to the other replica by the load balancer.
            replica.cookies.update(server.client.cookies)

            page = await replica.get("/settings/integrations")
            assert page.status_code == 200
            token = hidden(page.text, "csrf_token")
            created = await replica.post(
                "/settings/integrations/keys",
                data={"csrf_token": token, "name": "from replica", "scope": "read"},
            )
            assert created.status_code == 201
            out = await replica.post("/signout", data={"csrf_token": token})
            assert out.status_code == 303

        assert (await server.client.get("/settings/integrations")).status_code == 303
    finally:
        await storage.close()


async def test_after_trace_user_passwd_the_old_session_no_longer_signs_in(
    server: AuthServer, sql_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("TRACE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TRACE_DATABASE_URL", sql_url)
    await sign_in(server.client)

    def passwd() -> int:
        result = CliRunner().invoke(
            main,
            ["user", "passwd", "alice@example.com", "--password-stdin"],
            input="a long new password\n",
            catch_exceptions=False,
        )
        return result.exit_code

    with anyio.fail_after(60):
        assert await anyio.to_thread.run_sync(passwd) == 0

    assert (await server.client.get("/settings/integrations")).status_code == 303
