"""trace_http."""
