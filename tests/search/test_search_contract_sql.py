from __future__ import annotations

import pytest

from trace_core.testing.contracts.search import SearchBackend, SearchIndexContract
from trace_sql.search import PostgresSearchIndex, SqliteSearchIndex
from trace_sql.storage import SqlStorage


class TestSqliteSearchIndex(SearchIndexContract):
    @pytest.fixture
    def search_backend(self, sqlite_storage: SqlStorage) -> SearchBackend:
        return SearchBackend(storage=sqlite_storage, index=SqliteSearchIndex(sqlite_storage))


@pytest.mark.postgres
class TestPostgresSearchIndex(SearchIndexContract):
    @pytest.fixture
    def search_backend(self, postgres_storage: SqlStorage) -> SearchBackend:
        return SearchBackend(storage=postgres_storage, index=PostgresSearchIndex(postgres_storage))
