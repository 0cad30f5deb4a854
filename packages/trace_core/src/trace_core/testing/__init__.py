"""Test support shipped with trace_core: in-memory adapters and port contract suites.

Anyone writing an adapter for a Trace port can run the same contract suite
against it (see :mod:`trace_core.testing.contracts`).
"""
