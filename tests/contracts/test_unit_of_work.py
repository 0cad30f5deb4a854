"""The UnitOfWorkContract suite on every storage backend (memory, sqlite, postgres)."""

from trace_core.testing.contracts.unit_of_work import UnitOfWorkContract


class TestUnitOfWork(UnitOfWorkContract):
    """Runs against the root conftest's parametrized ``storage`` fixture."""
