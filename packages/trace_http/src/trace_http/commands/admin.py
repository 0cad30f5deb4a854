"""``trace migrate`` and ``trace serve``."""

from __future__ import annotations

import asyncio
import importlib.util

import click

from trace_http.cli import CliState, echo_error, pass_state


@click.command()
@pass_state
def migrate(state: CliState) -> None:
    """Upgrade the database schema to the newest version.

    Safe to run any number of times; the server and the other commands also
    migrate on start unless storage.migrate_on_start is false.
    """
    from trace_http.bootstrap import migrate as run_migrate

    settings = state.settings
    heads = asyncio.run(run_migrate(settings))
    click.echo(f"database at {', '.join(heads) or 'base'}")


@click.command()
@click.option(
    "--host", default=None, help="Interface to listen on [default: server.host, 127.0.0.1]."
)
@click.option("--port", type=int, default=None, help="TCP port [default: server.port, 8000].")
@pass_state
def serve(state: CliState, host: str | None, port: int | None) -> None:
    """Run the Trace server (MCP at / and /mcp, OAuth, web UI).

    Migrates the database first. Stop with Ctrl-C.
    """
    if importlib.util.find_spec("trace_http.app") is None:
        echo_error(
            "the HTTP server is not part of this build yet (trace_http.app is missing); "
            "the administrative commands (trace --help) work"
        )
        raise SystemExit(1)
    from trace_http.app import serve as run_server  # type: ignore[import-not-found,unused-ignore]

    settings = state.settings
    run_server(settings, host=host, port=port)
