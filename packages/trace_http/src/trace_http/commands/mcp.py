"""``trace mcp``: the MCP tools over stdio, for local clients that start the server themselves."""

from __future__ import annotations

import click

from trace_http.cli import CliState, pass_state


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
    from trace_core.service import Trace
    from trace_mcp import (
        AttachmentUrlSigner,
        McpOptions,
        TraceMcp,
        load_or_create_secret,
        serve_stdio,
    )

    settings = state.settings

    async def body(trace: Trace) -> None:
        account = await trace.get_account_by_email(email)
        principal = Principal(
            account_id=account.account_id,
            scopes=frozenset({Scope.READ if read_only else Scope.FULL}),
            actor="stdio",
            via="stdio",
        )
        public_url = settings.server.origin
        secret = (
            settings.mcp.attachment_url_secret.encode()
            if settings.mcp.attachment_url_secret
            else load_or_create_secret(settings.storage.data_path / "attachment-url.key")
        )
        server = TraceMcp(
            trace,
            options=McpOptions(
                public_url=public_url, max_response_chars=settings.mcp.max_response_chars
            ),
            signer=AttachmentUrlSigner(
                secret, public_url, ttl_seconds=settings.mcp.attachment_url_ttl_seconds
            ),
            principal=principal,
        )
        await serve_stdio(server)

    state.run(body)
