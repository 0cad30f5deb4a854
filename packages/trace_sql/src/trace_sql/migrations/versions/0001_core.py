"""Core schema: accounts, streams, entries (+ tag mirror), versions, attachments.

Revision ID: 0001_core
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001_core"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types at this revision (do not import tables.py:
# a migration must not change when the current schema does).
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
LIVE = "deleted_at IS NULL"
DELETED = "deleted_at IS NOT NULL"


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("email_normalized", sa.String(), nullable=False),
        sa.Column("name", sa.String(), nullable=True),
        sa.Column("password_hash", sa.String(), nullable=True),
        sa.Column("plan", sa.String(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("account_id", name="pk_accounts"),
        sa.UniqueConstraint("email_normalized", name="uq_accounts_email_normalized"),
    )
    op.create_table(
        "streams",
        sa.Column("stream_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("color", sa.String(), nullable=True),
        sa.Column("icon", sa.String(), nullable=True),
        sa.Column("is_private", sa.Boolean(), nullable=False),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("entry_settings", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("stream_id", name="pk_streams"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name="fk_streams_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("account_id", "stream_id", name="uq_streams_account_id_stream_id"),
    )
    op.create_table(
        "entries",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("stream_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("entry_date", sa.Date(), nullable=False),
        sa.Column("tags", JSON, nullable=False),
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
        sa.Column("mentions", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("last_edited_by", sa.String(), nullable=True),
        sa.Column("deleted_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name="pk_entries"),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.account_id"],
            name="fk_entries_account_id_accounts",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "stream_id"],
            ["streams.account_id", "streams.stream_id"],
            name="fk_entries_account_id_stream_id_streams",
        ),
    )
    order = [sa.text("entry_date DESC"), sa.text("created_at DESC"), sa.text("entry_id DESC")]
    op.create_index(
        "ix_entries_list",
        "entries",
        [sa.text("account_id"), *order],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_index(
        "ix_entries_stream_list",
        "entries",
        [sa.text("account_id"), sa.text("stream_id"), *order],
        sqlite_where=sa.text(LIVE),
        postgresql_where=sa.text(LIVE),
    )
    op.create_index(
        "ix_entries_trash",
        "entries",
        [sa.text("account_id"), sa.text("deleted_at DESC")],
        sqlite_where=sa.text(DELETED),
        postgresql_where=sa.text(DELETED),
    )
    op.create_index(
        "ix_entries_deleted_at",
        "entries",
        ["deleted_at"],
        sqlite_where=sa.text(DELETED),
        postgresql_where=sa.text(DELETED),
    )
    op.create_table(
        "entry_tags",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("tag", sa.String(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "tag", name="pk_entry_tags"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name="fk_entry_tags_entry_id_entries",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_entry_tags_account_tag", "entry_tags", ["account_id", "tag"])
    op.create_table(
        "entry_versions",
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("written_by", sa.String(), nullable=False),
        sa.Column("written_at", TIMESTAMP, nullable=False),
        sa.Column("snapshot", JSON, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", "version", name="pk_entry_versions"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name="fk_entry_versions_entry_id_entries",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_entry_versions_account_written", "entry_versions", ["account_id", "written_at"]
    )
    op.create_table(
        "attachments",
        sa.Column("attachment_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        sa.Column("mime_type", sa.String(), nullable=False),
        sa.Column("file_size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("captured_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("blob_key", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("attachment_id", name="pk_attachments"),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.entry_id"],
            name="fk_attachments_entry_id_entries",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_attachments_entry", "attachments", ["account_id", "entry_id", "position"])


def downgrade() -> None:
    op.drop_table("attachments")
    op.drop_table("entry_versions")
    op.drop_table("entry_tags")
    op.drop_table("entries")
    op.drop_table("streams")
    op.drop_table("accounts")
