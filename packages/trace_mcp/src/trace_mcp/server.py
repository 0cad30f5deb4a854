"""The MCP server: Trace's tools on the SDK's low-level ``Server``.

One :class:`TraceMcp` serves every transport. Who is calling comes from the
transport: over HTTP the composition root authenticates the request and puts the
:class:`~trace_core.model.Principal` into the ASGI scope under
:data:`PRINCIPAL_SCOPE_KEY`; stdio and in-process servers are built with a fixed
principal instead.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)

from trace_core.errors import AuthenticationError, TraceError
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_mcp._errors import error_result
from trace_mcp.signing import AttachmentUrlSigner
from trace_mcp.tools import TOOLS, ToolContext, ToolSpec

__all__ = ["PRINCIPAL_SCOPE_KEY", "McpOptions", "TraceMcp", "shows_write_tools"]

logger = logging.getLogger("trace_mcp")

PRINCIPAL_SCOPE_KEY = "trace.principal"
"""ASGI scope key under which the HTTP layer stores the authenticated Principal."""

INSTRUCTIONS = (
    "Trace holds this person's notes, journal and tasks in streams (notebooks) of Markdown "
    "entries; entries without a stream are in the Inbox. Call get_docs once for the data model "
    "and conventions. Use search_entries to find what the person wrote, list_entries to browse "
    '(stream_id omitted = all streams; null or "inbox" = the Inbox), get_entry before '
    "update_entry (pass expected_version). Deleting moves entries to a 30-day trash."
)


class McpOptions(msgspec.Struct, frozen=True, kw_only=True):
    """How the MCP server answers.

    Attributes:
        public_url: the server's public origin, for links in answers.
        max_response_chars: the cap on one tool answer (about 25k tokens).
        max_image_bytes: the largest image ``get_attachment_data`` returns inline.
        server_name: the name announced to clients.
        version: the version announced to clients.

    """

    public_url: str | None = None
    max_response_chars: int = 100_000
    max_image_bytes: int = 5 * 1024 * 1024
    server_name: str = "trace"
    version: str = "0.1.0"


def shows_write_tools(principal: Principal) -> bool:
    """Whether ``tools/list`` offers the write tools to ``principal``.

    Read-only OAuth grants still see them: calling one answers 403
    ``insufficient_scope`` over HTTP, which is how an OAuth client learns to ask
    the person for Full Access (step-up). API keys and local read-only sessions
    cannot step up, so they are not shown tools they cannot use.
    """
    return principal.has(Scope.FULL) or principal.via == "oauth"


class TraceMcp:
    """Trace's MCP server.

    Args:
        trace: the facade every tool calls.
        options: answer sizes, public URL, names.
        signer: signs attachment download URLs (``get_attachment_url``); without
            one that tool reports that downloads are not configured.
        principal: a fixed caller (stdio, in-process tests). When None the
            caller is read from the HTTP request's ASGI scope.

    """

    def __init__(
        self,
        trace: Trace,
        *,
        options: McpOptions | None = None,
        signer: AttachmentUrlSigner | None = None,
        principal: Principal | None = None,
    ) -> None:
        self.trace = trace
        self.options = options or McpOptions()
        self.signer = signer
        self.principal = principal
        self.tools: dict[str, ToolSpec] = {tool.name: tool for tool in TOOLS}
        self.server: Server[Any] = Server(
            self.options.server_name,
            version=self.options.version,
            title="Trace",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    def principal_of(self, ctx: ServerRequestContext[Any, Any]) -> Principal:
        """Return who is calling in this request.

        Raises:
            AuthenticationError: the request carries no principal (a wiring error
                in the transport: every HTTP request is authenticated first).

        """
        if self.principal is not None:
            return self.principal
        request = ctx.request
        scope = getattr(request, "scope", None)
        principal = scope.get(PRINCIPAL_SCOPE_KEY) if isinstance(scope, dict) else None
        if not isinstance(principal, Principal):
            raise AuthenticationError("this request is not authenticated")
        return principal

    def visible_tools(self, principal: Principal) -> list[ToolSpec]:
        """Return the tools ``principal`` is offered, in registry order."""
        full = shows_write_tools(principal)
        return [t for t in self.tools.values() if full or t.scope is Scope.READ]

    @staticmethod
    def _describe(spec: ToolSpec) -> Tool:
        return Tool(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            input_schema=spec.input_schema,
            output_schema=spec.output_schema,
            annotations=spec.annotations,
        )

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        try:
            principal = self.principal_of(ctx)
        except AuthenticationError:
            return ListToolsResult(tools=[])
        return ListToolsResult(
            tools=[self._describe(t) for t in self.visible_tools(principal)],
            cache_scope="private",
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: CallToolRequestParams
    ) -> CallToolResult:
        spec = self.tools.get(params.name)
        if spec is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown tool: {params.name}",
                data={"allowed": sorted(self.tools)},
            )
        try:
            principal = self.principal_of(ctx)
            return await self.call(spec, principal, params.arguments)
        except TraceError as exc:
            return error_result(exc, tool=spec.name)

    async def call(
        self, spec: ToolSpec, principal: Principal, arguments: dict[str, Any] | None
    ) -> CallToolResult:
        """Run one tool for ``principal`` and shape its answer (errors included)."""
        tool_ctx = ToolContext(
            trace=self.trace,
            principal=principal,
            max_response_chars=self.options.max_response_chars,
            max_image_bytes=self.options.max_image_bytes,
            signer=self.signer,
            public_url=self.options.public_url,
        )
        try:
            output = await spec.run(tool_ctx, arguments)
        except Exception as exc:
            return error_result(exc, tool=spec.name)
        return CallToolResult(
            content=[*output.blocks, TextContent(type="text", text=output.text)],
            structured_content=output.data,
        )
