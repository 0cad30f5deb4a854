"""The composition root: settings in, a wired :class:`~trace_core.service.Trace` out.

This is the only place that knows which adapter implements which port. Every
adapter can be passed in instead (tests pass in-memory ones; an embedding
application passes its own), in the style of cosmicpython's ``bootstrap``::

    trace = await build_trace(settings)                       # from configuration
    trace = await build_trace(settings, storage=InMemoryStorage(),
                              blobs=InMemoryBlobStore())      # fakes, no database

Adapter packages are imported lazily, only when the settings pick them, so a
deployment without Meilisearch never imports its client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trace_core.ports import BlobStore, Clock, SearchIndex, Storage
    from trace_core.service import Trace
    from trace_http.settings import Settings
    from trace_sql import SqlStorage

__all__ = [
    "build_trace",
    "cursor_key",
    "make_blobs",
    "make_search",
    "make_storage",
    "migrate",
    "open_trace",
]


def make_storage(settings: Settings) -> SqlStorage:
    """Return the SQL storage for ``settings.storage.url`` (SQLite or Postgres).

    Creates the data directory for a SQLite file. Connecting is lazy.
    """
    from trace_sql import create_storage

    if settings.storage.is_sqlite:
        settings.storage.data_path.mkdir(parents=True, exist_ok=True)
    return create_storage(
        settings.storage.url, sqlite_synchronous=settings.storage.sqlite_synchronous
    )


def make_blobs(settings: Settings) -> BlobStore:
    """Return the blob store for attachment bytes (``storage.blobs.kind``)."""
    from trace_sql import FilesystemBlobStore

    path = settings.storage.blob_path
    path.mkdir(parents=True, exist_ok=True)
    return FilesystemBlobStore(path)


def make_search(settings: Settings, storage: Storage) -> SearchIndex | None:
    """Return the search index picked by ``search.kind``, or None for the facade's fallback.

    ``sql``: the database's own full-text index, written in the same transaction
    as the entries. ``meilisearch``: the Meilisearch adapter.
    """
    from trace_sql import SqlStorage
    from trace_sql.search import create_sql_search_index

    if not isinstance(storage, SqlStorage):
        return None  # a storage passed in (tests): the facade's substring fallback
    sql_index = create_sql_search_index(storage, language=settings.search.language)
    if settings.search.kind == "meilisearch":
        from trace_core.errors import InvalidInputError
        from trace_meili import FallbackSearchIndex, MeilisearchIndex, OfficialMeiliClient

        if not settings.search.meilisearch_url:
            raise InvalidInputError(
                "search.meilisearch_url", "is required when search.kind is meilisearch"
            )
        from trace_sql.search_outbox import SqlSearchOutbox

        meili = MeilisearchIndex(
            OfficialMeiliClient(
                settings.search.meilisearch_url,
                api_key=settings.search.meilisearch_api_key,
                index_uid=settings.search.meilisearch_index,
            ),
            outbox=SqlSearchOutbox(storage),
            storage=storage,
        )
        return FallbackSearchIndex(meili, sql_index) if settings.search.fallback_to_sql else meili
    return sql_index


def cursor_key(settings: Settings) -> bytes:
    """Return the key that signs page cursors: configured, or generated once into the data dir."""
    from trace_core.keys import load_or_create_secret

    if settings.server.cursor_secret:
        return settings.server.cursor_secret.encode()
    return load_or_create_secret(settings.storage.data_path / "cursor.key")


async def migrate(settings: Settings) -> list[str]:
    """Upgrade the database schema to the newest revision of every migration branch.

    Returns:
        The revision ids the database is at afterwards.

    """
    from trace_sql import migrate_async
    from trace_sql.migrate import current_revisions

    if settings.storage.is_sqlite:
        settings.storage.data_path.mkdir(parents=True, exist_ok=True)
    await migrate_async(settings.storage.url)
    return sorted(await current_revisions(settings.storage.url))


async def build_trace(
    settings: Settings,
    *,
    storage: Storage | None = None,
    blobs: BlobStore | None = None,
    search: SearchIndex | None = None,
    clock: Clock | None = None,
    run_migrations: bool | None = None,
    cursor_secret: bytes | None = None,
) -> Trace:
    """Build the Trace facade with adapters picked by ``settings``; any can be overridden.

    Args:
        settings: the deployment's settings.
        storage: use this storage instead of the configured database.
        blobs: use this blob store instead of the configured one.
        search: use this search index instead of the configured one.
        clock: use this clock instead of the system clock.
        run_migrations: upgrade the schema first; default
            ``settings.storage.migrate_on_start`` when the storage comes from
            the settings, never for a storage passed in.
        cursor_secret: sign page cursors with this key instead of
            :func:`cursor_key`'s.

    Returns:
        The facade. Close its storage when done (or use :func:`open_trace`).

    """
    from trace_core.service import Limits, Trace

    owned: SqlStorage | None = None
    if storage is None:
        owned = make_storage(settings)
        storage = owned
    try:
        if owned is not None:
            if settings.storage.migrate_on_start if run_migrations is None else run_migrations:
                await owned.migrate()
        elif run_migrations:
            await migrate(settings)
        if blobs is None:
            blobs = make_blobs(settings)
        if search is None:
            search = make_search(settings, storage)
        key = cursor_secret if cursor_secret is not None else cursor_key(settings)
    except BaseException:
        # A storage we opened must not leak its connections when setup fails.
        if owned is not None:
            await owned.close()
        raise
    limits = Limits(trash_retention_days=settings.storage.trash_retention_days)
    return Trace(
        storage=storage, blobs=blobs, search=search, clock=clock, limits=limits, cursor_key=key
    )


@asynccontextmanager
async def open_trace(
    settings: Settings,
    *,
    storage: Storage | None = None,
    blobs: BlobStore | None = None,
    search: SearchIndex | None = None,
    clock: Clock | None = None,
    run_migrations: bool | None = None,
    cursor_secret: bytes | None = None,
) -> AsyncIterator[Trace]:
    """Build the facade as :func:`build_trace` does, and close what it opened on exit."""
    owns_storage = storage is None
    trace = await build_trace(
        settings,
        storage=storage,
        blobs=blobs,
        search=search,
        clock=clock,
        run_migrations=run_migrations,
        cursor_secret=cursor_secret,
    )
    try:
        yield trace
    finally:
        if owns_storage:
            await trace.storage.close()
