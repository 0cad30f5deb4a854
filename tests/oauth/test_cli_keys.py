"""``trace key create/list/revoke`` and ``trace user passwd`` against a SQLite data dir."""

from __future__ import annotations

import json
import os
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner, Result

from trace_core.errors import AuthenticationError
from trace_core.model import Account, Scope
from trace_core.service import SystemClock
from trace_http.cli import main
from trace_http.settings import load_settings
from trace_oauth.authenticator import BearerAuthenticator
from trace_oauth.config import OAuthConfig
from trace_oauth.passwords import verify_password
from trace_sql import create_storage
from trace_sql.credentials import SqlCredentialStore


async def _account(email: str) -> Account | None:
    settings = load_settings(None)
    storage = create_storage(settings.storage.url)
    try:
        async with storage.unit_of_work() as uow:
            return await uow.accounts.get_by_email(email)
    finally:
        await storage.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for name in list(os.environ):
        if name.startswith("TRACE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("TRACE_DATA_DIR", str(tmp_path / "data"))
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    assert run("user", "create", "ada@example.org").exit_code == 0
    return run


async def _authenticate(bearer: str) -> tuple[str, frozenset[Scope]]:
    settings = load_settings(None)
    storage = create_storage(settings.storage.url)
    try:
        auth = BearerAuthenticator(
            storage=storage,
            credentials=SqlCredentialStore(storage),
            config=OAuthConfig(issuer="http://127.0.0.1:8000"),
            clock=SystemClock(),
        )
        principal = await auth.authenticate(bearer)
        return principal.actor, principal.scopes
    finally:
        await storage.close()


def test_a_created_key_is_printed_once_and_authenticates(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "key", "create", "--user", "ada@example.org", "--name", "Claude Code", "--scope", "full"
    )
    assert result.exit_code == 0, result.output
    plaintext = result.stdout.strip()
    assert plaintext.startswith("trace_")
    assert "never shown again" in result.stderr
    actor, scopes = anyio.run(_authenticate, plaintext)
    assert actor == "Claude Code"
    assert scopes == frozenset({Scope.FULL})

    listing = cli("key", "list", "--user", "ada@example.org", "--json")
    keys = json.loads(listing.stdout)
    assert [(k["name"], k["scope"]) for k in keys] == [("Claude Code", "full")]
    assert plaintext not in listing.stdout
    assert plaintext.startswith(keys[0]["prefix"])


def test_a_revoked_key_stops_working(cli) -> None:  # type: ignore[no-untyped-def]
    plaintext = cli("key", "create", "--user", "ada@example.org", "--name", "k").stdout.strip()
    key_id = json.loads(cli("key", "list", "--user", "ada@example.org", "--json").stdout)[0][
        "key_id"
    ]
    result = cli("key", "revoke", key_id)
    assert result.exit_code == 0, result.output
    with pytest.raises(AuthenticationError):
        anyio.run(_authenticate, plaintext)
    listed = json.loads(cli("key", "list", "--user", "ada@example.org", "--json").stdout)
    assert listed[0]["revoked_at"]


def test_revoking_an_unknown_key_fails_cleanly(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("key", "revoke", "00000000-0000-0000-0000-000000000000")
    assert result.exit_code == 1
    assert "not found" in result.stderr
    assert cli("key", "revoke", "nope").exit_code == 2


def test_a_key_scope_must_be_read_or_full(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("key", "create", "--user", "ada@example.org", "--name", "k", "--scope", "write")
    assert result.exit_code == 2


def test_passwd_sets_an_argon2id_password(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli(
        "user", "passwd", "ada@example.org", "--password-stdin", input="a long new password\n"
    )
    assert result.exit_code == 0, result.output
    account = anyio.run(_account, "ada@example.org")
    assert account is not None
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")
    assert verify_password(account.password_hash, "a long new password")


def test_passwd_refuses_a_short_password(cli) -> None:  # type: ignore[no-untyped-def]
    result = cli("user", "passwd", "ada@example.org", "--password-stdin", input="short\n")
    assert result.exit_code == 2
