"""trace_core."""
