"""``trace key …`` (API keys) and ``trace user passwd`` (set a password).

Registered in :data:`trace_http.cli.COMMANDS` (``key``) and on the ``user``
group. API keys are printed once, at creation; only their hash is stored. A new
password ends the account's web sessions (signed in on the server's pages).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING
from uuid import UUID

import click

from trace_core.errors import InvalidInputError, NotFoundError
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.commands._output import json_option, print_json, print_table, stderr, when

if TYPE_CHECKING:
    from trace_core.credentials import CredentialStore
    from trace_core.service import Trace
    from trace_oauth.api_keys import ApiKeyService

__all__ = ["key", "passwd"]


def _credentials(trace: Trace) -> CredentialStore | None:
    """Return the credential store in the facade's SQL database (None on other storage)."""
    from trace_sql import SqlStorage
    from trace_sql.credentials import SqlCredentialStore

    return SqlCredentialStore(trace.storage) if isinstance(trace.storage, SqlStorage) else None


def _keys(trace: Trace, state: CliState) -> ApiKeyService:
    from trace_oauth.api_keys import ApiKeyService
    from trace_oauth.tokens import SecretHasher

    credentials = _credentials(trace)
    if credentials is None:
        raise InvalidInputError("storage", "API keys are kept in the SQL database")
    hasher = SecretHasher(state.settings.auth.credential_hash_key)
    return ApiKeyService(credentials, trace.clock, hasher)


@click.group()
def key() -> None:
    """Create, list and revoke API keys (sent as ``Authorization: Bearer KEY``)."""


@key.command("create")
@click.option("--user", "email", required=True, help="Email of the account the key acts for.")
@click.option("--name", required=True, help="What the key is for; shown as the editor of writes.")
@click.option(
    "--scope",
    type=click.Choice(["read", "full"]),
    default="read",
    show_default=True,
    help="read: Read Only; full: Full Access (create, edit, delete).",
)
@pass_state
def create_key(state: CliState, email: str, name: str, scope: str) -> None:
    """Create an API key and print it once; it cannot be shown again.

    Example: trace key create --user ada@example.com --name "Claude Code" --scope full
    """

    async def body(trace: Trace) -> tuple[str, str]:
        account, _ = await cli_principal(trace, email)
        created = await _keys(trace, state).create(account.account_id, name, scope)
        return created.plaintext, str(created.key.key_id)

    plaintext, key_id = state.run(body)
    click.echo(plaintext)
    stderr.print(
        f"created {scope} key {name!r} (id {key_id}). Copy it now: it is never shown again."
    )


@key.command("list")
@click.option("--user", "email", required=True, help="Email of the account.")
@json_option
@pass_state
def list_keys(state: CliState, email: str, as_json: bool) -> None:
    """List an account's API keys: name, prefix, scope, created, last used, revoked."""

    async def body(trace: Trace) -> list[dict[str, object]]:
        account, _ = await cli_principal(trace, email)
        return [
            {
                "key_id": str(k.key_id),
                "name": k.name,
                "prefix": k.prefix,
                "scope": k.scope.value,
                "created_at": k.created_at,
                "last_used_at": k.last_used_at,
                "revoked_at": k.revoked_at,
            }
            for k in await _keys(trace, state).list_keys(account.account_id)
        ]

    keys = state.run(body)
    if as_json:
        print_json(keys)
        return
    print_table(
        f"{len(keys)} key(s)",
        ["name", "id", "prefix", "scope", "created", "last used", "revoked"],
        [
            [
                k["name"],
                k["key_id"],
                f"{k['prefix']}…",
                k["scope"],
                when(k["created_at"]),  # type: ignore[arg-type]
                when(k["last_used_at"]),  # type: ignore[arg-type]
                when(k["revoked_at"]),  # type: ignore[arg-type]
            ]
            for k in keys
        ],
    )


@key.command("revoke")
@click.argument("key_id")
@click.option("--user", "email", help="Email of the account (default: whichever owns the key).")
@pass_state
def revoke_key(state: CliState, key_id: str, email: str | None) -> None:
    """Revoke the API key KEY_ID; it stops working on the next request."""
    try:
        ident = UUID(key_id)
    except ValueError:
        raise InvalidInputError("KEY_ID", f"{key_id!r} is not a key id (a UUID)") from None

    async def body(trace: Trace) -> str:
        keys = _keys(trace, state)
        accounts = (
            [(await cli_principal(trace, email))[0]] if email else await trace.list_accounts()
        )
        for account in accounts:
            if await keys.credentials.get_api_key(account.account_id, ident) is not None:
                revoked = await keys.revoke(account.account_id, ident)
                return revoked.name
        raise NotFoundError("api key", ident)

    name = state.run(body)
    stderr.print(f"revoked key {name!r} ({key_id})")


@click.command("passwd")
@click.argument("email")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the new password from the first line of stdin instead of prompting.",
)
@pass_state
def passwd(state: CliState, email: str, password_stdin: bool) -> None:
    """Set the password EMAIL signs in with (on the OAuth login page).

    Everywhere the account is signed in on the server's pages, it is signed out.

    Example: echo 'a long new password' | trace user passwd ada@example.com --password-stdin
    """
    from trace_oauth.passwords import hash_password

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InvalidInputError("password", "nothing was read")
    password_hash = hash_password(password)

    async def body(trace: Trace) -> None:
        from trace_oauth.sessions import set_password

        account = await trace.get_account_by_email(email)
        credentials = _credentials(trace)
        if credentials is None:  # no shared database: no web sessions to end
            await trace.update_account(account.account_id, password_hash=password_hash)
        else:
            await set_password(trace, credentials, account.account_id, password_hash)

    state.run(body)
    stderr.print(f"password set for {email}")
