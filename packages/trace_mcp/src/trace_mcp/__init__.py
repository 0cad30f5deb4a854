"""trace_mcp."""
