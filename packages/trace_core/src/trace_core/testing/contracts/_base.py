"""The base every contract suite extends."""

from __future__ import annotations

import pytest

__all__ = ["ContractSuite"]


@pytest.mark.anyio
class ContractSuite:
    """Runs the suite's async tests through anyio's pytest plugin, on asyncio.

    anyio's plugin (installed with anyio) runs a test marked ``anyio`` once per
    ``anyio_backend``; the suites pin it to asyncio, which every Trace adapter
    runs on. A subclass may override the fixture (e.g. to add ``"trio"``).
    """

    @pytest.fixture
    def anyio_backend(self) -> str:
        """Run on asyncio."""
        return "asyncio"
