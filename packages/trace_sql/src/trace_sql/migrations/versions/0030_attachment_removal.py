"""Removing an image is a versioned write: removed images are kept until purged.

``attachments.removed_at`` marks an image removed from its entry (hidden
everywhere, its bytes kept for the trash retention period so the removal can be
undone); ``entry_versions.attachment`` names the image an ``attachment_added``,
``attachment_removed`` or ``attachment_restored`` version concerns.

Revision ID: 0030_attachment_removal
Revises: 0001_core
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0030_attachment_removal"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("attachment_removal",)
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types at this revision.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
REMOVED = "removed_at IS NOT NULL"


def upgrade() -> None:
    op.add_column("attachments", sa.Column("removed_at", TIMESTAMP, nullable=True))
    op.add_column("entry_versions", sa.Column("attachment", JSON, nullable=True))
    op.create_index(
        "ix_attachments_removed_at",
        "attachments",
        ["removed_at"],
        sqlite_where=sa.text(REMOVED),
        postgresql_where=sa.text(REMOVED),
    )


def downgrade() -> None:
    op.drop_index("ix_attachments_removed_at", table_name="attachments")
    with op.batch_alter_table("entry_versions") as batch:
        batch.drop_column("attachment")
    with op.batch_alter_table("attachments") as batch:
        batch.drop_column("removed_at")
