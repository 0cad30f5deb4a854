from __future__ import annotations

import pytest

from trace_core.testing.contracts.search import SearchBackend, SearchIndexContract
from trace_core.testing.memory import InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex


class TestInMemorySearchIndex(SearchIndexContract):
    @pytest.fixture
    async def search_backend(self) -> SearchBackend:
        storage = InMemoryStorage()
        return SearchBackend(storage=storage, index=InMemorySearchIndex(storage))
