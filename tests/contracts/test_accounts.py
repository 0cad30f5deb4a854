"""The AccountRepositoryContract suite on every storage backend (memory, sqlite, postgres)."""

from trace_core.testing.contracts.accounts import AccountRepositoryContract


class TestAccountRepository(AccountRepositoryContract):
    """Runs against the root conftest's parametrized ``storage`` fixture."""
