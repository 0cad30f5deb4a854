"""Built-in search on the SQL database: SQLite FTS5 and PostgreSQL full-text search.

Both adapters are ``indexed_by_storage``: triggers created by the
``0100_search`` migration (on SQLite re-created by ``0101_search_accounts``,
split into sixteen FTS5 tables by ``0102_search_shards`` and given the stream
name, attachment file names and ``entries.search_extra`` by
``0500_search_fields``) index an entry in the same transaction that writes it,
so an entry is searchable the moment ``create_entry`` returns, and
:meth:`~trace_core.ports.SearchIndex.index` has nothing left to do.

Queries are built from the parsed clauses of
:meth:`~trace_core.ports.SearchRequest.parsed_query` (every word quoted,
phrases, ``OR`` and exclusions written by :func:`fts5_match` and
:func:`tsquery`), passed as bind parameters, never spliced into SQL; the
filters are the storage's own ``list_entries`` clauses, always scoped by
``account_id``. Typo corrections come from each account's own words
(``search_words``, :meth:`SqlSearchIndex.similar_words`).
"""

from __future__ import annotations

from trace_sql.search._common import SqlSearchIndex
from trace_sql.search.postgres import PostgresSearchIndex, tsquery
from trace_sql.search.sqlite import (
    FTS_SHARDS,
    SqliteSearchIndex,
    account_match,
    fts5_match,
    fts_table,
)
from trace_sql.storage import SqlStorage

__all__ = [
    "FTS_SHARDS",
    "PostgresSearchIndex",
    "SqlSearchIndex",
    "SqliteSearchIndex",
    "account_match",
    "create_sql_search_index",
    "fts5_match",
    "fts_table",
    "tsquery",
]


def create_sql_search_index(storage: SqlStorage, *, language: str = "english") -> SqlSearchIndex:
    """Return the built-in search index for ``storage``'s database."""
    if storage.dialect_name == "sqlite":
        return SqliteSearchIndex(storage)
    return PostgresSearchIndex(storage, language=language)
