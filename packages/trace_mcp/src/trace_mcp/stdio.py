"""Serve the Trace tools over stdio, for local clients that start ``trace mcp`` themselves."""

from __future__ import annotations

from mcp.server.stdio import stdio_server

from trace_mcp.server import TraceMcp

__all__ = ["serve_stdio"]


async def serve_stdio(mcp: TraceMcp) -> None:
    """Serve ``mcp`` (built with a fixed principal) on stdin/stdout until the client closes.

    Nothing else may write to stdout meanwhile: it is the protocol channel.
    """
    if mcp.principal is None:
        raise ValueError("a stdio server needs a fixed principal (TraceMcp(principal=...))")
    server = mcp.server
    async with stdio_server() as (read_stream, write_stream):
        await server.run(read_stream, write_stream, server.create_initialization_options())
