"""``trace migrate`` and ``trace serve``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from trace_http.cli import CliState, pass_state

if TYPE_CHECKING:
    from trace_http.runtime import Runtime


@click.command()
@pass_state
def migrate(state: CliState) -> None:
    """Upgrade the database schema to the newest version.

    Safe to run any number of times; the server and the other commands also
    migrate on start unless storage.migrate_on_start is false.
    """

    async def body(runtime: Runtime) -> list[str]:
        return await runtime.migrate()

    heads = state.run(body, run_migrations=False)
    click.echo(f"database at {', '.join(heads) or 'base'}")


@click.command()
@click.option(
    "--host", default=None, help="Interface to listen on [default: server.host, 127.0.0.1]."
)
@click.option("--port", type=int, default=None, help="TCP port [default: server.port, 8000].")
@pass_state
def serve(state: CliState, host: str | None, port: int | None) -> None:
    """Run the Trace server (MCP at / and /mcp, OAuth, web UI).

    Migrates the database first. Prints the data directory, the database, the
    public URL and the address to open. Stop with Ctrl-C (requests in flight finish).
    """
    from trace_http.web.app import listening_socket
    from trace_http.web.app import serve as run_server
    from trace_http.web.observe import startup_line

    async def body(runtime: Runtime) -> None:
        options = runtime.options
        # Bound first: a port in use is the one line printed, and exit code 2.
        sock = listening_socket(options.host, options.port)
        # Data directory, database, public URL, where to go (rich is not loaded to serve).
        click.echo(startup_line(options), err=True)
        await run_server(runtime, sock)

    state.run(body, serving=True, host=host, port=port)
