"""The VersionRepositoryContract suite on every storage backend (memory, sqlite, postgres)."""

from trace_core.testing.contracts.versions import VersionRepositoryContract


class TestVersionRepository(VersionRepositoryContract):
    """Runs against the root conftest's parametrized ``storage`` fixture."""
