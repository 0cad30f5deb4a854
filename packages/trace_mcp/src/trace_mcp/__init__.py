"""trace_mcp: Trace's MCP tools on the official ``mcp`` SDK (no web framework here).

- :class:`TraceMcp` builds the server (tools, per-caller tool lists, error mapping);
- :data:`WRITE_TOOLS` names the tools that need the ``full`` scope;
- :class:`AttachmentUrlSigner` signs the attachment download URLs;
- :func:`serve_stdio` runs the server on stdin/stdout.
"""

from trace_mcp.server import (
    DIRECT_PROTOCOL_VERSIONS,
    PRINCIPAL_SCOPE_KEY,
    McpOptions,
    TraceMcp,
    shows_write_tools,
)
from trace_mcp.signing import (
    ATTACHMENT_PATH,
    AttachmentUrlSigner,
    SignedUrl,
    load_or_create_secret,
)
from trace_mcp.stdio import serve_stdio
from trace_mcp.tools import TOOLS, WRITE_TOOLS, ToolSpec

__all__ = [
    "ATTACHMENT_PATH",
    "DIRECT_PROTOCOL_VERSIONS",
    "PRINCIPAL_SCOPE_KEY",
    "TOOLS",
    "WRITE_TOOLS",
    "AttachmentUrlSigner",
    "McpOptions",
    "SignedUrl",
    "ToolSpec",
    "TraceMcp",
    "load_or_create_secret",
    "serve_stdio",
    "shows_write_tools",
]
