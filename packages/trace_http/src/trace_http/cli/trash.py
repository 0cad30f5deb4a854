"""``trace trash …``: see, restore and purge deleted entries."""

from __future__ import annotations

from datetime import datetime

import click

from trace_core.inputs import parse_uuid
from trace_core.limits import MAX_OFFSET
from trace_core.model import Entry, Page
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.cli._output import json_option, print_json, print_table, stderr, when
from trace_http.runtime import Runtime, run_maintenance_once


@click.group()
def trash() -> None:
    """See, restore and purge deleted entries."""


@trash.command("list")
@click.option("--user", "email", required=True, help="Email of the account.")
@click.option("--limit", type=click.IntRange(1, 100), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0, MAX_OFFSET), default=0, show_default=True)
@click.option("--cursor", help="Start after the page that printed this cursor.")
@json_option
@pass_state
def list_trash(
    state: CliState, email: str, limit: int, offset: int, cursor: str | None, as_json: bool
) -> None:
    """List an account's deleted entries, most recently deleted first."""

    async def body(runtime: Runtime) -> tuple[Page[Entry], list[datetime | None]]:
        trace = runtime.trace
        _, principal = await cli_principal(trace, email)
        page = await trace.list_trash(principal, limit=limit, offset=offset, cursor=cursor)
        return page, [trace.purge_at(e) for e in page.items]

    page, purge_dates = state.run(body)
    if page.next_cursor is not None:
        stderr.print(f"more: --cursor {page.next_cursor}", soft_wrap=True)
    if as_json:
        print_json(page.items)
        return
    print_table(
        f"{page.total} deleted entr{'y' if page.total == 1 else 'ies'}",
        ["id", "title", "deleted", "purged after"],
        [
            [e.entry_id, e.title or e.content[:40], when(e.deleted_at), when(purge)]
            for e, purge in zip(page.items, purge_dates, strict=True)
        ],
    )


@trash.command("restore")
@click.argument("entry_id")
@click.option("--user", "email", required=True, help="Email of the account.")
@pass_state
def restore(state: CliState, entry_id: str, email: str) -> None:
    """Bring ENTRY_ID back from the trash."""
    ident = parse_uuid("entry_id", entry_id)

    async def body(runtime: Runtime) -> Entry:
        trace = runtime.trace
        _, principal = await cli_principal(trace, email)
        return await trace.restore_entry(principal, ident)

    restored = state.run(body)
    click.echo(str(restored.entry_id))
    stderr.print(f"restored entry (now version {restored.version})")


@trash.command("purge")
@pass_state
def purge(state: CliState) -> None:
    """Delete for good every entry deleted longer ago than storage.trash_retention_days.

    Removes the entries, their versions and their attachment files, in every
    account. The server also does this every storage.maintenance_interval_seconds.
    """

    async def body(runtime: Runtime) -> int:
        return await run_maintenance_once(runtime.trace)

    purged = state.run(body)
    click.echo(str(purged))
    stderr.print(f"purged {purged} entr{'y' if purged == 1 else 'ies'}")
