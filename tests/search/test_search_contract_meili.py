"""The search contract on a real Meilisearch server (set TRACE_TEST_MEILI_URL to run it).

Entries are written to SQLite with the outbox on; ``settle`` drains the outbox
into Meilisearch, as the background worker does in a deployment. The server
must be Meilisearch 1.10 or newer (negative operator, federated search for OR).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from trace_core.testing.contracts.search import SearchBackend, SearchIndexContract
from trace_meili import MeilisearchIndex, OfficialMeiliClient, OutboxWorker
from trace_sql.engine import sqlite_url
from trace_sql.search_outbox import SqlSearchOutbox
from trace_sql.storage import open_storage

MEILI_URL = os.environ.get("TRACE_TEST_MEILI_URL")

pytestmark = [
    pytest.mark.meili,
    pytest.mark.skipif(
        not MEILI_URL,
        reason="no Meilisearch server: set TRACE_TEST_MEILI_URL (e.g. http://127.0.0.1:7700) "
        "and TRACE_TEST_MEILI_KEY to run the Meilisearch contract",
    ),
]


class TestMeilisearchIndex(SearchIndexContract):
    @pytest.fixture
    async def search_backend(self, tmp_path: Path) -> AsyncIterator[SearchBackend]:
        assert MEILI_URL
        storage = await open_storage(sqlite_url(tmp_path / "meili.db"))
        outbox = SqlSearchOutbox(storage)
        await outbox.enable()
        client = OfficialMeiliClient(
            MEILI_URL,
            api_key=os.environ.get("TRACE_TEST_MEILI_KEY"),
            index_uid=f"trace_test_{uuid.uuid4().hex[:10]}",
        )
        index = MeilisearchIndex(client)
        await index.configure()
        worker = OutboxWorker(outbox, storage, index, jitter=0)

        async def settle() -> None:
            await worker.drain()

        try:
            # Meilisearch does not stem ("migrating" does not find "migration") and
            # corrects typos in its own search (no vocabulary).
            yield SearchBackend(
                storage=storage, index=index, settle=settle, stems=False, vocabulary=False
            )
        finally:
            await client.delete_index()
            await storage.close()
