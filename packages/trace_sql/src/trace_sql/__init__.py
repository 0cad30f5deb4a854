"""trace_sql."""
