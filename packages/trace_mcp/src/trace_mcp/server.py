"""The MCP server: Trace's tools on the SDK's low-level ``Server``.

One :class:`TraceMcp` serves every transport. Who is calling comes from the
transport: over HTTP the composition root authenticates the request and puts the
:class:`~trace_core.model.Principal` into the ASGI scope under
:data:`PRINCIPAL_SCOPE_KEY`; stdio and in-process servers are built with a fixed
principal instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import msgspec
from mcp.server import Server, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    CallToolRequestParams,
    CallToolResult,
    CompleteRequestParams,
    CompleteResult,
    Completion,
    EmptyResult,
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListToolsResult,
    PaginatedRequestParams,
    Prompt,
    PromptArgument,
    PromptMessage,
    PromptReference,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    SetLevelRequestParams,
    TextContent,
    TextResourceContents,
    Tool,
)

from trace_core.errors import AuthenticationError, TraceError, quote
from trace_core.limits import MAX_STREAM_NAME_CHARS
from trace_core.model import Principal, Scope
from trace_core.service import Trace
from trace_mcp._errors import error_result
from trace_mcp._guide import GUIDE
from trace_mcp._schema import portable
from trace_mcp.signing import AttachmentUrlSigner
from trace_mcp.tools import TOOLS, ToolContext, ToolOutput, ToolSpec

__all__ = [
    "DIRECT_PROTOCOL_VERSIONS",
    "PRINCIPAL_SCOPE_KEY",
    "McpOptions",
    "TraceMcp",
    "shows_write_tools",
]

logger = logging.getLogger("trace_mcp")

GUIDE_URI = "trace://guide"
WEEKLY_REVIEW = "weekly_review"

PRINCIPAL_SCOPE_KEY = "trace.principal"
"""ASGI scope key under which the HTTP layer stores the authenticated Principal."""

DIRECT_PROTOCOL_VERSIONS = frozenset({"2025-06-18", "2025-11-25"})
"""Protocol versions whose stateless ``tools/call`` and ``ping`` :meth:`TraceMcp.answer_directly`
answers itself (the wire form of their results is the same as the SDK's; a test compares them)."""

_CALL_PARAMS = frozenset({"name", "arguments", "_meta"})
_META_KEYS = frozenset({"progressToken"})

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
        observer: told of every tool run: ``(tool, error code or None, seconds)``
            (the server's metrics and access log).

    """

    def __init__(
        self,
        trace: Trace,
        *,
        options: McpOptions | None = None,
        signer: AttachmentUrlSigner | None = None,
        principal: Principal | None = None,
        observer: Callable[[str, str | None, float], None] | None = None,
    ) -> None:
        self.trace = trace
        self.observer = observer
        self.options = options or McpOptions()
        self.signer = signer
        self.principal = principal
        self.tools: dict[str, ToolSpec[Any]] = {tool.name: tool for tool in TOOLS}
        self._described: dict[str, Tool] = {tool.name: self._describe(tool) for tool in TOOLS}
        self.server: Server[Any] = Server(
            self.options.server_name,
            version=self.options.version,
            title="Trace",
            instructions=INSTRUCTIONS,
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_list_resources=self._list_resources,
            on_read_resource=self._read_resource,
            on_list_prompts=self._list_prompts,
            on_get_prompt=self._get_prompt,
            on_completion=self._complete,
        )
        # 2026-07-28 tools/call requests have their Mcp-Param-* headers checked
        # against the tool's input schema; without this lookup the SDK would run
        # (and serialise) the whole tools/list for every call.
        self.server.get_tool_input_schema = self._input_schema
        # Clients on the handshake-era protocol may set a log level; Trace sends
        # no log notifications, so accepting it is all there is to do. (Added
        # directly: the constructor argument is deprecated as of 2026-07-28.)
        self.server.add_request_handler(
            "logging/setLevel", SetLevelRequestParams, self._set_log_level
        )

    def _input_schema(self, name: str) -> dict[str, Any] | None:
        tool = self._described.get(name)
        return tool.input_schema if tool is not None else None

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

    def visible_tools(self, principal: Principal) -> list[ToolSpec[Any]]:
        """Return the tools ``principal`` is offered, in registry order."""
        full = shows_write_tools(principal)
        return [t for t in self.tools.values() if full or t.scope is Scope.READ]

    @staticmethod
    def _describe(spec: ToolSpec[Any]) -> Tool:
        return Tool(
            name=spec.name,
            title=spec.title,
            description=spec.description,
            input_schema=spec.input_schema,
            output_schema=portable(spec.output_schema),
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
            tools=[self._described[t.name] for t in self.visible_tools(principal)],
            cache_scope="private",
        )

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: CallToolRequestParams
    ) -> CallToolResult:
        spec = self.tools.get(params.name)
        if spec is None:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Unknown tool: {quote(params.name)}",
                data={"allowed": sorted(self.tools)},
            )
        try:
            principal = self.principal_of(ctx)
            return await self.call(spec, principal, params.arguments)
        except TraceError as exc:
            return error_result(exc, tool=spec.name)

    async def call(
        self, spec: ToolSpec[Any], principal: Principal, arguments: dict[str, Any] | None
    ) -> CallToolResult:
        """Run one tool for ``principal`` and shape its answer (errors included)."""
        output = await self._run(spec, principal, arguments)
        if isinstance(output, CallToolResult):
            return output
        return CallToolResult(
            content=[*output.blocks, TextContent(type="text", text=output.text)],
            structured_content=output.data,
        )

    async def answer_directly(self, principal: Principal, message: Any) -> dict[str, Any] | None:
        """Answer a decoded JSON-RPC ``message`` without the SDK's transport, if it is plain.

        The SDK's stateless transport builds a transport, a task, memory streams and
        pydantic envelopes for every POST (about 0.7 ms of CPU before any tool runs);
        the common requests of the handshake-era protocols (:data:`DIRECT_PROTOCOL_VERSIONS`)
        need none of it: a ``tools/call`` of a known tool with an object (or no)
        ``arguments``, and ``ping``. Anything else (other methods, unknown tools,
        batches, notifications, malformed envelopes, ``_meta`` beyond a progress
        token) returns None and goes to the SDK, which owns every error shape.
        The caller checks the protocol version and the HTTP headers.

        Returns:
            The JSON-RPC response object, or None to let the SDK answer.

        """
        if type(message) is not dict or message.get("jsonrpc") != "2.0":
            return None
        request_id = message.get("id")
        if type(request_id) not in (int, str) or not message.keys() <= {
            "jsonrpc",
            "id",
            "method",
            "params",
        }:
            return None
        method = message.get("method")
        params = message.get("params")
        if method == "ping":
            if params is not None and params != {}:
                return None
            return {"jsonrpc": "2.0", "id": request_id, "result": {}}
        if method != "tools/call" or type(params) is not dict or not params.keys() <= _CALL_PARAMS:
            return None
        meta = params.get("_meta")
        if meta is not None and (type(meta) is not dict or not meta.keys() <= _META_KEYS):
            return None
        name = params.get("name")
        spec = self.tools.get(name) if type(name) is str else None
        arguments = params.get("arguments")
        if spec is None or (arguments is not None and type(arguments) is not dict):
            return None
        output = await self._run(spec, principal, arguments)
        if isinstance(output, CallToolResult):
            result = output.model_dump(by_alias=True, mode="json", exclude_none=True)
            # 2026-era vocabulary: the SDK strips it from handshake-era answers.
            result.pop("resultType", None)
        else:
            content = [
                block.model_dump(by_alias=True, mode="json", exclude_none=True)
                for block in output.blocks
            ]
            content.append({"type": "text", "text": output.text})
            result = {"content": content, "structuredContent": output.data, "isError": False}
        return {"jsonrpc": "2.0", "id": request_id, "result": result}

    async def _run(
        self, spec: ToolSpec[Any], principal: Principal, arguments: dict[str, Any] | None
    ) -> ToolOutput | CallToolResult:
        tool_ctx = ToolContext(
            trace=self.trace,
            principal=principal,
            max_response_chars=self.options.max_response_chars,
            max_image_bytes=self.options.max_image_bytes,
            signer=self.signer,
            public_url=self.options.public_url,
        )
        observer = self.observer
        if observer is None:
            try:
                return await spec.run(tool_ctx, arguments)
            except Exception as exc:
                return error_result(exc, tool=spec.name)
        started = time.perf_counter()
        output: ToolOutput | CallToolResult
        try:
            output = await spec.run(tool_ctx, arguments)
        except Exception as exc:
            output = error_result(exc, tool=spec.name)
        code = None
        if isinstance(output, CallToolResult) and output.is_error:
            error = (output.structured_content or {}).get("error")
            code = str(error.get("code", "internal")) if isinstance(error, dict) else "internal"
        observer(spec.name, code, time.perf_counter() - started)
        return output

    # --- resources, prompts, completion ---------------------------------------------

    async def _list_resources(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListResourcesResult:
        return ListResourcesResult(
            resources=[
                Resource(
                    uri=GUIDE_URI,
                    name="guide",
                    title="Trace guide",
                    description="The data model and how to use the Trace tools (same as get_docs).",
                    mime_type="text/markdown",
                )
            ]
        )

    async def _read_resource(
        self, ctx: ServerRequestContext[Any, Any], params: ReadResourceRequestParams
    ) -> ReadResourceResult:
        if str(params.uri) != GUIDE_URI:
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"Resource not found: {params.uri}",
                data={"uri": str(params.uri)},
            )
        return ReadResourceResult(
            contents=[TextResourceContents(uri=GUIDE_URI, mime_type="text/markdown", text=GUIDE)]
        )

    async def _list_prompts(
        self, ctx: ServerRequestContext[Any, Any], params: PaginatedRequestParams | None
    ) -> ListPromptsResult:
        return ListPromptsResult(
            prompts=[
                Prompt(
                    name=WEEKLY_REVIEW,
                    title="Weekly review",
                    description="Review the last seven days of entries: what happened, what is "
                    "open, what to carry over.",
                    arguments=[
                        PromptArgument(
                            name="stream",
                            description="Name of the stream to review (default: every stream).",
                            required=False,
                        )
                    ],
                )
            ]
        )

    async def _get_prompt(
        self, ctx: ServerRequestContext[Any, Any], params: GetPromptRequestParams
    ) -> GetPromptResult:
        if params.name != WEEKLY_REVIEW:
            raise MCPError(code=INVALID_PARAMS, message=f"Unknown prompt: {quote(params.name)}")
        stream = (params.arguments or {}).get("stream")
        scope = (
            f"the stream named {quote(stream, MAX_STREAM_NAME_CHARS)}"
            if stream
            else "all my streams and the Inbox"
        )
        text = (
            f"Review my Trace entries from the last seven days in {scope}. Use list_streams to "
            "find the stream id if needed, then list_entries with start_date seven days ago "
            "(content_limit 500). Summarise what happened, list open tasks (status not done) "
            "and due dates coming up, and suggest what to carry over to next week. Do not "
            "change any entries."
        )
        return GetPromptResult(
            description="Weekly review of recent entries",
            messages=[PromptMessage(role="user", content=TextContent(type="text", text=text))],
        )

    async def _complete(
        self, ctx: ServerRequestContext[Any, Any], params: CompleteRequestParams
    ) -> CompleteResult:
        values: list[str] = []
        ref = params.ref
        if (
            isinstance(ref, PromptReference)
            and ref.name == WEEKLY_REVIEW
            and params.argument.name == "stream"
        ):
            try:
                principal = self.principal_of(ctx)
                streams = await self.trace.list_streams(principal)
            except TraceError:
                streams = []
            typed = params.argument.value.casefold()
            values = [s.name for s in streams if s.name.casefold().startswith(typed)][:100]
        return CompleteResult(
            completion=Completion(values=values, total=len(values), has_more=False)
        )

    async def _set_log_level(
        self, ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams
    ) -> EmptyResult:
        return EmptyResult()
