"""``trace user …``: accounts, their passwords, plans and time zones.

A new password ends the account's web sessions (signed in on the server's pages).
A plan is what ``auth.integrations_require_plan`` checks before an API key or
OAuth token of the account is accepted.
"""

from __future__ import annotations

import sys

import click

from trace_core.errors import InvalidInputError
from trace_http.cli import CliState, pass_state
from trace_http.cli._output import json_option, print_json, print_table, stderr, when
from trace_http.runtime import Runtime


@click.group()
def user() -> None:
    """Create and list accounts, and set their passwords, plans and time zones."""


def _read_password() -> str:
    """Read the password from the first line of stdin (never from argv, which others can see)."""
    line = sys.stdin.readline()
    password = line.rstrip("\r\n")
    if not password:
        raise InvalidInputError("password", "nothing was read from stdin")
    return password


@user.command("create")
@click.argument("email")
@click.option("--name", help="Display name.")
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin (for the login page).",
)
@pass_state
def create_user(state: CliState, email: str, name: str | None, password_stdin: bool) -> None:
    """Create an account for EMAIL and print its id.

    \b
    Example:
      echo 'correct horse battery' | trace user create ada@example.com --name Ada --password-stdin
    """
    password_hash = None
    if password_stdin:
        from trace_oauth import hash_password

        password_hash = hash_password(_read_password())

    async def body(runtime: Runtime) -> str:
        trace = runtime.trace
        account = await trace.create_account(email, name=name, password_hash=password_hash)
        return str(account.account_id)

    account_id = state.run(body)
    click.echo(account_id)
    stderr.print(f"created account {email}" + ("" if password_hash else " (no password set)"))


@user.command("list")
@json_option
@pass_state
def list_users(state: CliState, as_json: bool) -> None:
    """List every account, oldest first."""

    async def body(runtime: Runtime) -> list[dict[str, object]]:
        trace = runtime.trace
        return [
            {
                "account_id": str(a.account_id),
                "email": a.email,
                "name": a.name,
                "plan": a.plan,
                "is_active": a.is_active,
                "has_password": a.password_hash is not None,
                "time_zone": a.time_zone,
                "created_at": a.created_at,
            }
            for a in await trace.list_accounts()
        ]

    accounts = state.run(body)
    if as_json:
        print_json(accounts)
        return
    print_table(
        f"{len(accounts)} account(s)",
        ["email", "name", "id", "plan", "password", "active", "time zone", "created"],
        [
            [
                a["email"],
                a["name"],
                a["account_id"],
                a["plan"],
                "yes" if a["has_password"] else "no",
                "yes" if a["is_active"] else "no",
                a["time_zone"],
                when(a["created_at"]),  # type: ignore[arg-type]
            ]
            for a in accounts
        ],
    )


@user.command("passwd")
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

    \b
    Example:
      echo 'a long new password' | trace user passwd ada@example.com --password-stdin
    """
    from trace_oauth import hash_password

    if password_stdin or not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    if not password:
        raise InvalidInputError("password", "nothing was read")
    password_hash = hash_password(password)

    async def body(runtime: Runtime) -> None:
        from trace_oauth import set_password

        account = await runtime.trace.get_account_by_email(email)
        await set_password(runtime.trace, runtime.credentials, account.account_id, password_hash)

    state.run(body)
    stderr.print(f"password set for {email}")


@user.command("plan")
@click.argument("email")
@click.argument("plan")
@pass_state
def plan(state: CliState, email: str, plan: str) -> None:
    """Set the plan of EMAIL's account to PLAN, or clear it with "none".

    With auth.integrations_require_plan on, API keys and OAuth sign-ins work
    only for accounts with a plan (one of auth.plans_with_integrations, when
    that list is set). The change counts within seconds on a running server.

    \b
    Example:
      trace user plan ada@example.com pro
    """
    new_plan = None if plan.strip().lower() == "none" else plan

    async def body(runtime: Runtime) -> str | None:
        account = await runtime.trace.get_account_by_email(email)
        updated = await runtime.trace.update_account(account.account_id, plan=new_plan)
        return updated.plan

    stored = state.run(body)
    if stored is None:
        stderr.print(f"{email} has no plan now")
    else:
        stderr.print(f"{email} is on plan {stored!r} now")


@user.command("timezone")
@click.argument("email")
@click.argument("zone")
@pass_state
def timezone(state: CliState, email: str, zone: str) -> None:
    """Set the time zone of EMAIL's account to ZONE, an IANA name (default UTC).

    "Today" for the account follows it: the date of a new entry written without
    one, and which entries are overdue.

    \b
    Example:
      trace user timezone ada@example.com Europe/Paris
    """

    async def body(runtime: Runtime) -> str:
        trace = runtime.trace
        account = await trace.get_account_by_email(email)
        principal = trace.principal_for(account, actor="cli")
        return (await trace.set_time_zone(principal, zone)).time_zone

    stored = state.run(body)
    stderr.print(f"{email} is in time zone {stored} now")
