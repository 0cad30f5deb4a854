"""trace_meili: Trace search on Meilisearch.

:class:`MeilisearchIndex` implements the search port on one index with the
account filter always applied server-side; :class:`OutboxWorker` feeds it from
the transactional search outbox; :class:`FallbackSearchIndex` answers from the
SQL index while Meilisearch is down.
"""

from trace_meili._client import MeiliClient, OfficialMeiliClient
from trace_meili._documents import entry_document
from trace_meili._index import INDEX_SETTINGS, FallbackSearchIndex, MeilisearchIndex, build_filter
from trace_meili._query import render, variants
from trace_meili._worker import OutboxWorker

__all__ = [
    "INDEX_SETTINGS",
    "FallbackSearchIndex",
    "MeiliClient",
    "MeilisearchIndex",
    "OfficialMeiliClient",
    "OutboxWorker",
    "build_filter",
    "entry_document",
    "render",
    "variants",
]
