"""Core errors to MCP tool errors: the one place that decides what a model is told.

A :class:`~trace_core.errors.TraceError` becomes a tool result with
``isError: true``, a message that says what went wrong and what to do next, and
the machine-readable error (``code``, ``message`` and details such as ``field``,
``allowed``, ``expected_version``/``current_version``) as structured content.
Anything else is an internal error: logged here with its traceback, and the
model only learns that something failed.
"""

from __future__ import annotations

import logging

from mcp_types import CallToolResult, TextContent

from trace_core.errors import (
    AuthenticationError,
    InsufficientScopeError,
    NotFoundError,
    TraceError,
    UnavailableError,
    VersionConflictError,
)

__all__ = ["error_result"]

logger = logging.getLogger("trace_mcp")

_NOT_FOUND_HINTS = {
    "entry": "Check the entry_id (from list_entries or search_entries); "
    "deleted entries are in list_trash.",
    "stream": "Call list_streams for the valid stream ids.",
    "attachment": "Attachment ids are listed by get_entry.",
}


def _hint(exc: TraceError) -> str | None:
    if isinstance(exc, VersionConflictError):
        return (
            f"Call get_entry to read version {exc.current_version}, merge your change into it, "
            f"and retry with expected_version={exc.current_version}."
        )
    if isinstance(exc, NotFoundError):
        return _NOT_FOUND_HINTS.get(exc.kind)
    if isinstance(exc, InsufficientScopeError):
        return "This connection is read-only: reconnect with Full Access to make changes."
    if isinstance(exc, AuthenticationError):
        return "The key or token is invalid or revoked: create a new key or reconnect."
    if isinstance(exc, UnavailableError):
        return "Try again shortly; list_entries with query= still works meanwhile."
    return None


def error_result(exc: BaseException, *, tool: str) -> CallToolResult:
    """Return the tool-error result for ``exc`` raised while running ``tool``."""
    if isinstance(exc, TraceError):
        logger.info("tool %s refused: %s", tool, exc.code)
        text = exc.message
        hint = _hint(exc)
        if hint:
            text = f"{text}. {hint}" if not text.endswith(".") else f"{text} {hint}"
        return CallToolResult(
            content=[TextContent(type="text", text=f"Error ({exc.code}): {text}")],
            structured_content={"error": exc.to_dict()},
            is_error=True,
        )
    logger.exception("tool %s failed unexpectedly", tool)
    return CallToolResult(
        content=[
            TextContent(
                type="text", text=f"Error (internal): {tool} failed on the server; try again."
            )
        ],
        structured_content={"error": {"code": "internal", "message": f"{tool} failed"}},
        is_error=True,
    )
