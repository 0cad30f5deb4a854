"""SQLAlchemy Core tables of Trace's storage.

One shared :data:`metadata`: every table module in ``trace_sql`` (core,
credentials, search) registers its tables here, so Alembic and the test
fixtures see the whole schema. Entities are msgspec Structs, converted to and
from rows explicitly in :mod:`trace_sql.storage`; nothing is ORM-mapped.

Tags are stored twice, kept in sync in the same transaction by the entry
repository: ``entries.tags`` (JSON, the entry's ordered list) and
``entry_tags`` (one row per distinct tag of a *live* entry), which makes tag
filters (any/all) and tag counts plain indexed lookups.
"""

from __future__ import annotations

import sqlalchemy as sa

from trace_sql.types import JSONType, UTCDateTime

__all__ = [
    "accounts",
    "attachments",
    "entries",
    "entry_tags",
    "entry_versions",
    "metadata",
    "search_words",
    "streams",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("account_id", sa.Uuid(), primary_key=True),
    sa.Column("email", sa.String(), nullable=False),
    # Python's str.lower() (Unicode-aware), unlike SQLite's ASCII-only lower().
    sa.Column("email_normalized", sa.String(), nullable=False, unique=True),
    sa.Column("name", sa.String(), nullable=True),
    sa.Column("password_hash", sa.String(), nullable=True),
    sa.Column("plan", sa.String(), nullable=True),
    sa.Column("is_active", sa.Boolean(), nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    # An IANA zone name (migration 0200_account_time_zone).
    sa.Column("time_zone", sa.String(), nullable=False, server_default="UTC"),
)

streams = sa.Table(
    "streams",
    metadata,
    sa.Column("stream_id", sa.Uuid(), primary_key=True),
    sa.Column(
        "account_id",
        sa.Uuid(),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("name", sa.String(), nullable=False),
    # name.casefold(): names are unique per account ignoring case (migration
    # 0010_stream_names), which holds even when two creates race.
    sa.Column("name_key", sa.String(), nullable=True),
    sa.Column("description", sa.Text(), nullable=True),
    sa.Column("color", sa.String(), nullable=True),
    sa.Column("icon", sa.String(), nullable=True),
    sa.Column("is_private", sa.Boolean(), nullable=False),
    sa.Column("is_archived", sa.Boolean(), nullable=False),
    sa.Column("entry_settings", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    # Target of entries' (account_id, stream_id) foreign key: an entry can only
    # ever point at a stream of its own account.
    sa.UniqueConstraint("account_id", "stream_id"),
    sa.Index("uq_streams_account_id_name_key", "account_id", "name_key", unique=True),
)

entries = sa.Table(
    "entries",
    metadata,
    sa.Column("entry_id", sa.Uuid(), primary_key=True),
    sa.Column(
        "account_id",
        sa.Uuid(),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("stream_id", sa.Uuid(), nullable=True),
    sa.Column("title", sa.Text(), nullable=True),
    sa.Column("content", sa.Text(), nullable=False),
    sa.Column("entry_date", sa.Date(), nullable=False),
    sa.Column("tags", JSONType, nullable=False),
    sa.Column("status", sa.String(), nullable=True),
    sa.Column("type", sa.String(), nullable=True),
    sa.Column("priority", sa.SmallInteger(), nullable=False),
    sa.Column("rating", sa.SmallInteger(), nullable=True),
    sa.Column("due_date", sa.Date(), nullable=True),
    sa.Column("is_pinned", sa.Boolean(), nullable=False),
    sa.Column("is_archived", sa.Boolean(), nullable=False),
    sa.Column("latitude", sa.Double(), nullable=True),
    sa.Column("longitude", sa.Double(), nullable=True),
    sa.Column("place_name", sa.String(), nullable=True),
    sa.Column("city", sa.String(), nullable=True),
    sa.Column("country", sa.String(), nullable=True),
    sa.Column("mentions", JSONType, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("last_edited_by", sa.String(), nullable=True),
    sa.Column("deleted_at", UTCDateTime(), nullable=True),
    # trace_core.search_text.search_extra of title, content and tags (joined
    # compounds, CJK grams), written with the entry for the search triggers to
    # index (migration 0500_search_fields).
    sa.Column("search_extra", sa.Text(), nullable=False, server_default=""),
    sa.ForeignKeyConstraint(
        ["account_id", "stream_id"],
        ["streams.account_id", "streams.stream_id"],
        name="fk_entries_account_id_stream_id_streams",
    ),
)

# The list order (entry_date, created_at, entry_id, all descending) over live
# entries, per account and per stream; partial so the trash does not bloat them.
sa.Index(
    "ix_entries_list",
    entries.c.account_id,
    entries.c.entry_date.desc(),
    entries.c.created_at.desc(),
    entries.c.entry_id.desc(),
    sqlite_where=entries.c.deleted_at.is_(None),
    postgresql_where=entries.c.deleted_at.is_(None),
)
sa.Index(
    "ix_entries_stream_list",
    entries.c.account_id,
    entries.c.stream_id,
    entries.c.entry_date.desc(),
    entries.c.created_at.desc(),
    entries.c.entry_id.desc(),
    sqlite_where=entries.c.deleted_at.is_(None),
    postgresql_where=entries.c.deleted_at.is_(None),
)
# Counting live entries (every listing's ``total``) from the index alone, per
# account, archive flag and stream; entry_id last so tag filters stay in the index.
sa.Index(
    "ix_entries_count",
    entries.c.account_id,
    entries.c.is_archived,
    entries.c.stream_id,
    entries.c.entry_id,
    sqlite_where=entries.c.deleted_at.is_(None),
    postgresql_where=entries.c.deleted_at.is_(None),
)
# The trash, per account (most recently deleted first) and for the purge job.
sa.Index(
    "ix_entries_trash",
    entries.c.account_id,
    entries.c.deleted_at.desc(),
    sqlite_where=entries.c.deleted_at.is_not(None),
    postgresql_where=entries.c.deleted_at.is_not(None),
)
sa.Index(
    "ix_entries_deleted_at",
    entries.c.deleted_at,
    sqlite_where=entries.c.deleted_at.is_not(None),
    postgresql_where=entries.c.deleted_at.is_not(None),
)

entry_tags = sa.Table(
    "entry_tags",
    metadata,
    sa.Column("entry_id", sa.Uuid(), sa.ForeignKey("entries.entry_id", ondelete="CASCADE")),
    sa.Column("tag", sa.String(), nullable=False),
    sa.Column("account_id", sa.Uuid(), nullable=False),
    # trace_core.tags.tag_key(tag), computed in Python (SQLite's lower() is ASCII-only);
    # migration 0210_tag_case_merge.
    sa.Column("tag_key", sa.String(), nullable=False),
    sa.PrimaryKeyConstraint("entry_id", "tag"),
    sa.Index("ix_entry_tags_account_tag", "account_id", "tag"),
    # With tag: the account's spelling of a tag is one index seek.
    sa.Index("ix_entry_tags_account_tag_key", "account_id", "tag_key", "tag"),
)

entry_versions = sa.Table(
    "entry_versions",
    metadata,
    sa.Column("entry_id", sa.Uuid(), sa.ForeignKey("entries.entry_id", ondelete="CASCADE")),
    sa.Column("version", sa.Integer()),
    sa.Column("account_id", sa.Uuid(), nullable=False),
    sa.Column("action", sa.String(), nullable=False),
    sa.Column("written_by", sa.String(), nullable=False),
    sa.Column("written_at", UTCDateTime(), nullable=False),
    sa.Column("snapshot", JSONType, nullable=False),
    # Which image an attachment_* action concerns (id, type, file name); else NULL.
    sa.Column("attachment", JSONType, nullable=True),
    # One snapshot per version of an entry.
    sa.PrimaryKeyConstraint("entry_id", "version"),
    sa.Index("ix_entry_versions_account_written", "account_id", "written_at"),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("attachment_id", sa.Uuid(), primary_key=True),
    sa.Column("account_id", sa.Uuid(), nullable=False),
    sa.Column(
        "entry_id",
        sa.Uuid(),
        sa.ForeignKey("entries.entry_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("mime_type", sa.String(), nullable=False),
    sa.Column("file_size", sa.BigInteger(), nullable=False),
    sa.Column("width", sa.Integer(), nullable=True),
    sa.Column("height", sa.Integer(), nullable=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("captured_at", UTCDateTime(), nullable=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("blob_key", sa.String(), nullable=False),
    sa.Column("sha256", sa.String(), nullable=False),
    sa.Column("filename", sa.String(), nullable=True),
    # Set when the image was removed from its entry; purged after the trash retention.
    sa.Column("removed_at", UTCDateTime(), nullable=True),
    sa.Index("ix_attachments_entry", "account_id", "entry_id", "position"),
)
# The purge job's look-up of images removed long enough ago.
sa.Index(
    "ix_attachments_removed_at",
    attachments.c.removed_at,
    sqlite_where=attachments.c.removed_at.is_not(None),
    postgresql_where=attachments.c.removed_at.is_not(None),
)

# Each account's vocabulary (trace_core.search_text.vocabulary of its entries'
# title, content and tags): the candidates of typo corrections. Insert-only,
# maintained by the entries repository; recomputed by a search rebuild.
search_words = sa.Table(
    "search_words",
    metadata,
    sa.Column(
        "account_id",
        sa.Uuid(),
        sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("word", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("account_id", "word"),
    sqlite_with_rowid=False,
)
