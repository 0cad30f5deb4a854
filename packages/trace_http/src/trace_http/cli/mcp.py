"""``trace mcp``: the MCP tools over stdio, for local clients that start the server themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from trace_http.cli import CliState, pass_state

if TYPE_CHECKING:
    from trace_http.runtime import Runtime


@click.command()
@click.option("--user", "email", required=True, help="Email of the account to act for.")
@click.option("--read-only", is_flag=True, help="Offer and allow only reading tools (scope read).")
@pass_state
def mcp(state: CliState, email: str, read_only: bool) -> None:
    """Serve the Trace MCP tools on stdin/stdout (e.g. Claude Desktop's "command" config).

    Acts with Full Access unless --read-only. Writes are recorded as made by "stdio".
    Nothing but the protocol is written to stdout.
    """
    from trace_core.model import Principal, Scope
    from trace_mcp import McpOptions, TraceMcp, serve_stdio

    async def body(runtime: Runtime) -> None:
        trace = runtime.trace
        account = await trace.get_account_by_email(email)
        principal = Principal(
            account_id=account.account_id,
            scopes=frozenset({Scope.READ if read_only else Scope.FULL}),
            actor="stdio",
            via="stdio",
        )
        options = runtime.options
        server = TraceMcp(
            trace,
            options=McpOptions(
                public_url=options.public_url, max_response_chars=options.max_response_chars
            ),
            signer=runtime.signer,
            principal=principal,
        )
        await serve_stdio(server)

    state.run(body)
