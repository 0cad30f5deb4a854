"""The EntryRepositoryContract suite on every storage backend (memory, sqlite, postgres)."""

from trace_core.testing.contracts.entries import EntryRepositoryContract


class TestEntryRepository(EntryRepositoryContract):
    """Runs against the root conftest's parametrized ``storage`` fixture."""
