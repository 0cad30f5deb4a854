"""Tags without case: one spelling per tag and account, and a key to find it by.

``entry_tags.tag_key`` holds the case-folded name (``trace_core.tags.tag_key``,
computed here in Python: SQLite's ``lower()`` is ASCII-only). Existing spellings
of one tag are merged per account into the first one written (the tag of the
oldest entry carrying it, trashed entries included): every entry keeps its tag,
under that spelling, once. Version snapshots are history and stay as written.

Revision ID: 0210_tag_case_merge
Revises: 0001_core
Create Date: 2026-12-05
"""

import unicodedata
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0210_tag_case_merge"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("tag_case_merge",)
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types and tables at this revision.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
entries = sa.table(
    "entries",
    sa.column("entry_id", sa.Uuid()),
    sa.column("account_id", sa.Uuid()),
    sa.column("tags", JSON),
    sa.column("created_at", TIMESTAMP),
    sa.column("deleted_at", TIMESTAMP),
)
entry_tags = sa.table(
    "entry_tags",
    sa.column("entry_id", sa.Uuid()),
    sa.column("account_id", sa.Uuid()),
    sa.column("tag", sa.String()),
    sa.column("tag_key", sa.String()),
)


def _key(tag: str) -> str:
    # A frozen copy of trace_core.tags.tag_key at this revision.
    return unicodedata.normalize("NFC", tag.strip()).removeprefix("#").strip().casefold()


def _merged(tags: list[Any], first: dict[str, str]) -> list[Any]:
    """Return ``tags`` in the account's first spellings, each tag once."""
    out: list[Any] = []
    seen: set[str] = set()
    for tag in tags:
        if not isinstance(tag, str):
            out.append(tag)
            continue
        key = _key(tag)
        if key in seen:
            continue
        seen.add(key)
        out.append(first.setdefault(key, tag))
    return out


def upgrade() -> None:
    op.add_column("entry_tags", sa.Column("tag_key", sa.String(), nullable=True))
    bind = op.get_bind()
    first_spelling: dict[Any, dict[str, str]] = {}
    rows = bind.execute(
        sa.select(
            entries.c.entry_id, entries.c.account_id, entries.c.tags, entries.c.deleted_at
        ).order_by(entries.c.created_at, entries.c.entry_id)
    ).all()
    for row in rows:
        tags = list(row.tags or [])
        merged = _merged(tags, first_spelling.setdefault(row.account_id, {}))
        if merged == tags:
            continue
        bind.execute(
            sa.update(entries).where(entries.c.entry_id == row.entry_id).values(tags=merged)
        )
        bind.execute(sa.delete(entry_tags).where(entry_tags.c.entry_id == row.entry_id))
        if row.deleted_at is None and merged:
            bind.execute(
                sa.insert(entry_tags),
                [
                    {"entry_id": row.entry_id, "account_id": row.account_id, "tag": tag}
                    for tag in merged
                    if isinstance(tag, str)
                ],
            )
    spellings = bind.execute(sa.select(entry_tags.c.tag).distinct()).scalars().all()
    for tag in spellings:
        bind.execute(sa.update(entry_tags).where(entry_tags.c.tag == tag).values(tag_key=_key(tag)))
    with op.batch_alter_table("entry_tags") as batch:
        batch.alter_column("tag_key", existing_type=sa.String(), nullable=False)
    op.create_index("ix_entry_tags_account_tag_key", "entry_tags", ["account_id", "tag_key", "tag"])


def downgrade() -> None:
    op.drop_index("ix_entry_tags_account_tag_key", table_name="entry_tags")
    with op.batch_alter_table("entry_tags") as batch:
        batch.drop_column("tag_key")
