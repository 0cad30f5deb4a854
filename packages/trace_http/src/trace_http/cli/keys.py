"""``trace key …``: API keys, printed once at creation; only their hash is stored."""

from __future__ import annotations

from uuid import UUID

import click

from trace_core.errors import InvalidInputError, NotFoundError
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.cli._output import json_option, print_json, print_table, stderr, when
from trace_http.runtime import Runtime

__all__ = ["key"]


@click.group()
def key() -> None:
    """Create, list and revoke API keys (sent as "Authorization: Bearer KEY")."""


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

    \b
    Example:
      trace key create --user ada@example.com --name "Claude Code" --scope full
    """

    async def body(runtime: Runtime) -> tuple[str, str]:
        account, _ = await cli_principal(runtime.trace, email)
        created = await runtime.api_keys.create(account.account_id, name, scope)
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

    async def body(runtime: Runtime) -> list[dict[str, object]]:
        account, _ = await cli_principal(runtime.trace, email)
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
            for k in await runtime.api_keys.list_keys(account.account_id)
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

    async def body(runtime: Runtime) -> str:
        trace = runtime.trace
        keys = runtime.api_keys
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
