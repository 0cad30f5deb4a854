"""``trace entry …``: notes."""

from __future__ import annotations

import sys

import click

from trace_core.inputs import parse_date, parse_uuid, split_tags
from trace_core.model import Entry, EntryDraft
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.cli._output import stderr
from trace_http.runtime import Runtime


@click.group()
def entry() -> None:
    """Create entries (notes, journal pages, tasks)."""


@entry.command("create")
@click.option("--user", "email", required=True, help="Email of the account that owns it.")
@click.option("--content", required=True, help="Markdown content; '-' reads it from stdin.")
@click.option("--stream", "stream_id", help="Stream id (default: the Inbox).")
@click.option("--title", help="Title.")
@click.option("--tags", help="Comma-separated tags, e.g. 'work,ideas'.")
@click.option(
    "--date", "entry_date", help="The day the entry is about, YYYY-MM-DD [default: today]."
)
@pass_state
def create_entry(
    state: CliState,
    email: str,
    content: str,
    stream_id: str | None,
    title: str | None,
    tags: str | None,
    entry_date: str | None,
) -> None:
    """Create an entry and print its id."""
    if content == "-":
        content = sys.stdin.read()
    draft = EntryDraft(
        content=content,
        title=title,
        stream_id=parse_uuid("stream", stream_id) if stream_id else None,
        tags=split_tags(tags) if tags else (),
        entry_date=parse_date("date", entry_date) if entry_date else None,
    )

    async def body(runtime: Runtime) -> Entry:
        trace = runtime.trace
        _, principal = await cli_principal(trace, email)
        return await trace.create_entry(principal, draft)

    created = state.run(body)
    click.echo(str(created.entry_id))
    stderr.print(f"created entry dated {created.entry_date.isoformat()}")
