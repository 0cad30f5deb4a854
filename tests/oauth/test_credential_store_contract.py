"""The CredentialStore contract, run against memory, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from trace_core.credentials import CredentialStore
from trace_core.ports import Storage
from trace_core.testing.contracts.credentials import CredentialStoreContract
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_sql import SqlStorage
from trace_sql.credentials import SqlCredentialStore


class TestCredentialStore(CredentialStoreContract):
    @pytest.fixture
    async def credentials(self, storage: Storage) -> AsyncIterator[CredentialStore]:
        if isinstance(storage, SqlStorage):
            yield SqlCredentialStore(storage)
        else:
            yield InMemoryCredentialStore()
