"""Stream names unique per account, ignoring case (a database guard for concurrent creates).

Revision ID: 0010_stream_names
Revises: 0001_core
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_stream_names"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("stream_names",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("streams", sa.Column("name_key", sa.String(), nullable=True))
    streams = sa.table(
        "streams",
        sa.column("stream_id", sa.Uuid()),
        sa.column("account_id", sa.Uuid()),
        sa.column("name", sa.String()),
        sa.column("name_key", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    bind = op.get_bind()
    seen: set[tuple[object, str]] = set()
    rows = bind.execute(
        sa.select(streams.c.stream_id, streams.c.account_id, streams.c.name).order_by(
            streams.c.created_at, streams.c.stream_id
        )
    ).all()
    for stream_id, account_id, name in rows:
        # Python's casefold, as the service compares names. A duplicate that
        # slipped in earlier keeps a NULL key (NULLs never collide).
        key = name.casefold()
        if (account_id, key) in seen:
            continue
        seen.add((account_id, key))
        bind.execute(
            sa.update(streams).where(streams.c.stream_id == stream_id).values(name_key=key)
        )
    op.create_index(
        "uq_streams_account_id_name_key", "streams", ["account_id", "name_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_streams_account_id_name_key", table_name="streams")
    with op.batch_alter_table("streams") as batch:
        batch.drop_column("name_key")
