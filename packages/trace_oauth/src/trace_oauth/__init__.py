"""trace_oauth."""
