"""trace_sql: Trace storage on SQLite (aiosqlite) and PostgreSQL (asyncpg).

Build storage from a URL with :func:`open_storage` (migrates first) or
:func:`create_storage`; files go in :class:`FilesystemBlobStore`.
"""

from trace_sql.blobs import FilesystemBlobStore
from trace_sql.engine import create_engine, normalize_url, sqlite_url
from trace_sql.migrate import migrate, migrate_async
from trace_sql.storage import SqlStorage, SqlUnitOfWork, create_storage, open_storage

__all__ = [
    "FilesystemBlobStore",
    "SqlStorage",
    "SqlUnitOfWork",
    "create_engine",
    "create_storage",
    "migrate",
    "migrate_async",
    "normalize_url",
    "open_storage",
    "sqlite_url",
]
