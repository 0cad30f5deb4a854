"""The root's adapter factories: which adapter implements which port, from settings.

Part of the composition root (with :mod:`trace_http.bootstrap`, which wires what
these build into a :class:`~trace_http.runtime.Runtime`). Adapter packages are
imported inside each factory, only when the settings pick them, so a deployment
without Meilisearch or S3 never imports their clients.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from trace_http.settings import Settings

if TYPE_CHECKING:
    from trace_core.ports import BlobStore, SearchIndex, Storage
    from trace_sql import SqlStorage

__all__ = ["cursor_key", "make_blobs", "make_search", "make_storage", "migrate"]

logger = logging.getLogger("trace_http")


def make_storage(settings: Settings) -> SqlStorage:
    """Return the SQL storage for ``settings.storage.url`` (SQLite or Postgres).

    Creates the data directory for a SQLite file. Connecting is lazy.
    """
    from trace_sql import create_storage

    if settings.storage.is_sqlite:
        settings.storage.data_path.mkdir(parents=True, exist_ok=True)
    return create_storage(
        settings.storage.url,
        sqlite_synchronous=settings.storage.sqlite_synchronous,
        app_role=settings.storage.database_app_role,
    )


def make_blobs(settings: Settings) -> BlobStore:
    """Return the blob store for attachment bytes (``storage.blobs.kind``).

    ``filesystem``: files under ``storage.blobs.path``. ``s3``: the S3 adapter
    (the ``trace-http[s3]`` extra) on ``storage.blobs.bucket``; its client is
    made on first use, so building it opens no connection.
    """
    if settings.storage.blobs.kind == "s3":
        return _s3_blobs(settings)
    from trace_sql import FilesystemBlobStore

    path = settings.storage.blob_path
    path.mkdir(parents=True, exist_ok=True)
    return FilesystemBlobStore(path)


def _s3_blobs(settings: Settings) -> BlobStore:
    from trace_core.errors import InvalidInputError

    try:
        from trace_s3 import MAX_PRESIGN_SECONDS, S3BlobStore
    except ImportError as exc:
        # S3 is an optional extra of the server (trace-http[s3]).
        if exc.name not in ("trace_s3", "aiobotocore", "botocore", "aiohttp"):
            raise
        raise InvalidInputError(
            "storage.blobs.kind",
            'is s3, but the S3 blob store is not installed: install "trace-http[s3]" '
            '(or choose kind = "filesystem")',
        ) from exc

    blobs = settings.storage.blobs
    ttl = settings.mcp.attachment_url_ttl_seconds
    if blobs.presigned_downloads and ttl > MAX_PRESIGN_SECONDS:
        raise InvalidInputError(
            "mcp.attachment_url_ttl_seconds",
            f"must be at most {MAX_PRESIGN_SECONDS} (7 days) with "
            "storage.blobs.presigned_downloads: S3 URLs work 7 days at most",
        )
    assert blobs.bucket is not None  # the settings refuse kind = "s3" without one
    return S3BlobStore(
        bucket=blobs.bucket,
        prefix=blobs.prefix,
        endpoint_url=blobs.endpoint_url,
        region=blobs.region,
        access_key_id=blobs.access_key_id,
        secret_access_key=blobs.secret_access_key,
        presigned_downloads=blobs.presigned_downloads,
    )


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

        try:
            from trace_meili import FallbackSearchIndex, MeilisearchIndex, OfficialMeiliClient
        except ImportError as exc:
            # Meilisearch is an optional extra of the server (trace-http[meilisearch]).
            if exc.name not in ("trace_meili", "meilisearch"):
                raise
            raise InvalidInputError(
                "search.kind",
                "is meilisearch, but the Meilisearch adapter is not installed: "
                'install "trace-http[meilisearch]" (or choose kind = "sql")',
            ) from exc

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
    if settings.storage.database_app_role:
        # Migrates as the login role, then checks and grants the application role.
        storage = make_storage(settings)
        try:
            await storage.migrate()
        finally:
            await storage.close()
    else:
        await migrate_async(settings.storage.url)
    return sorted(await current_revisions(settings.storage.url))
