"""``trace stream …``: notebooks."""

from __future__ import annotations

import click
import msgspec

from trace_core.errors import InvalidInputError
from trace_core.model import EntrySettings, NewStream, Stream
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.cli._output import json_option, print_json, print_table, stderr, when
from trace_http.runtime import Runtime


@click.group()
def stream() -> None:
    """Create and list streams (notebooks)."""


def parse_entry_settings(text: str) -> EntrySettings:
    """Decode ``--settings`` JSON into EntrySettings, naming the bad key or value."""
    try:
        return msgspec.json.decode(text, type=EntrySettings)
    except msgspec.ValidationError as exc:
        raise InvalidInputError("settings", str(exc).replace("`$.", "`")) from None
    except msgspec.DecodeError as exc:
        raise InvalidInputError("settings", f"not valid JSON: {exc}") from None


@stream.command("create")
@click.argument("name")
@click.option("--user", "email", required=True, help="Email of the account that owns it.")
@click.option("--description", help="What the stream is for.")
@click.option("--color", help="Hex color, e.g. '#3b82f6'.")
@click.option("--icon", help="Icon identifier, e.g. 'book'.")
@click.option("--private", "is_private", is_flag=True, help="Mark the stream private.")
@click.option(
    "--settings",
    "settings_json",
    help='Entry settings as JSON, e.g. \'{"use_status": true, "statuses": ["todo", "done"]}\'.',
)
@pass_state
def create_stream(
    state: CliState,
    name: str,
    email: str,
    description: str | None,
    color: str | None,
    icon: str | None,
    is_private: bool,
    settings_json: str | None,
) -> None:
    """Create a stream NAME for an account and print its id."""
    entry_settings = parse_entry_settings(settings_json) if settings_json else EntrySettings()
    new = NewStream(
        name=name,
        description=description,
        color=color,
        icon=icon,
        is_private=is_private,
        entry_settings=entry_settings,
    )

    async def body(runtime: Runtime) -> Stream:
        trace = runtime.trace
        _, principal = await cli_principal(trace, email)
        return await trace.create_stream(principal, new)

    created = state.run(body)
    click.echo(str(created.stream_id))
    stderr.print(f"created stream {created.name!r}")


@stream.command("list")
@click.option("--user", "email", required=True, help="Email of the account.")
@click.option("--archived", is_flag=True, help="Include archived streams.")
@json_option
@pass_state
def list_streams(state: CliState, email: str, archived: bool, as_json: bool) -> None:
    """List an account's streams with their entry counts."""

    async def body(runtime: Runtime) -> list[Stream]:
        trace = runtime.trace
        _, principal = await cli_principal(trace, email)
        return await trace.list_streams(principal, include_archived=archived)

    streams = state.run(body)
    if as_json:
        print_json(streams)
        return
    print_table(
        f"{len(streams)} stream(s), {sum(s.entry_count for s in streams)} entries",
        ["name", "entries", "id", "color", "icon", "created"],
        [
            [s.name, s.entry_count, s.stream_id, s.color, s.icon, when(s.created_at)]
            for s in streams
        ],
    )
