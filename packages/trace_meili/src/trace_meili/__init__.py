"""trace_meili."""
