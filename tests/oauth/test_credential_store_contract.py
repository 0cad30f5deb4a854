"""The CredentialStore contract, run against every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from trace_core.credentials import CredentialStore
from trace_core.testing.contracts.credentials import CredentialStoreContract
from trace_core.testing.memory_credentials import InMemoryCredentialStore


class TestInMemoryCredentialStore(CredentialStoreContract):
    @pytest.fixture
    async def credentials(self) -> AsyncIterator[CredentialStore]:
        return InMemoryCredentialStore()
