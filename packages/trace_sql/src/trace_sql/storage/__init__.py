"""``SqlStorage``: every storage port of Trace on SQLAlchemy Core (SQLite and PostgreSQL).

Rows and entities are converted explicitly (``*_to_row`` / ``row_to_*``, in
``_rows``). Every query is scoped by ``account_id``. Driver errors are translated
into :mod:`trace_core.errors` where the statement runs (``_base.SqlRepository``).
One module per repository (``_accounts``, ``_streams``, ``_entries``,
``_versions``, ``_attachments``); ``_storage`` holds the unit of work and
``SqlStorage`` with its engines.
"""

from __future__ import annotations

from trace_sql.storage._accounts import SqlAccountRepository
from trace_sql.storage._attachments import SqlAttachmentRepository
from trace_sql.storage._entries import ENTRY_LIST_ORDER, SqlEntryRepository, entry_filter_clauses
from trace_sql.storage._rows import (
    account_to_row,
    attachment_to_row,
    entry_search_extra,
    entry_to_row,
    entry_words,
    row_to_account,
    row_to_attachment,
    row_to_entry,
    row_to_stream,
    row_to_version,
    stream_to_row,
    version_to_row,
)
from trace_sql.storage._storage import SqlStorage, SqlUnitOfWork, create_storage, open_storage
from trace_sql.storage._streams import SqlStreamRepository
from trace_sql.storage._versions import SqlVersionRepository

__all__ = [
    "ENTRY_LIST_ORDER",
    "SqlAccountRepository",
    "SqlAttachmentRepository",
    "SqlEntryRepository",
    "SqlStorage",
    "SqlStreamRepository",
    "SqlUnitOfWork",
    "SqlVersionRepository",
    "account_to_row",
    "attachment_to_row",
    "create_storage",
    "entry_filter_clauses",
    "entry_search_extra",
    "entry_to_row",
    "entry_words",
    "open_storage",
    "row_to_account",
    "row_to_attachment",
    "row_to_entry",
    "row_to_stream",
    "row_to_version",
    "stream_to_row",
    "version_to_row",
]
