"""The StreamRepositoryContract suite on every storage backend (memory, sqlite, postgres)."""

from trace_core.testing.contracts.streams import StreamRepositoryContract


class TestStreamRepository(StreamRepositoryContract):
    """Runs against the root conftest's parametrized ``storage`` fixture."""
