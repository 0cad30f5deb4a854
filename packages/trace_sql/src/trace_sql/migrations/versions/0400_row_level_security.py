"""PostgreSQL row-level security on every per-account table (a second wall between tenants).

Each table of :data:`trace_sql.rls.TENANT_TABLES` gets ``ENABLE`` and ``FORCE ROW
LEVEL SECURITY`` and the policies of :func:`trace_sql.rls.enable_statements`:
rows are visible and writable only for the transaction's ``trace.account_id``;
the owner (the role running this migration) sees every row only in a
transaction that set ``trace.all_accounts = on``. A table in the catalog that a
later revision creates is skipped here: that revision enables it itself.

SQLite: nothing (SQLite has no row-level security).

This revision depends on EVERY head before it (``DOWN_REVISIONS``, the one list
to update when other branches add revisions: a merge re-points it at the heads
of the merged tree, so row-level security is switched on after every table exists).

Revision ID: 0400_row_level_security
Revises: 0002_credentials, 0011_entry_counts, 0020_web_sessions,
    0030_attachment_removal, 0102_search_shards, 0200_account_time_zone,
    0210_tag_case_merge
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from trace_sql.rls import TENANT_TABLES, disable_statements, enable_statements

revision: str = "0400_row_level_security"
# The one list of the heads this revision follows (see the docstring).
down_revision: str | Sequence[str] | None = (
    "0002_credentials",
    "0011_entry_counts",
    "0020_web_sessions",
    "0030_attachment_removal",
    "0102_search_shards",
    "0200_account_time_zone",
    "0210_tag_case_merge",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _existing(tables: Sequence[str]) -> list[str]:
    found = set(
        op.get_bind()
        .execute(
            sa.text(
                "SELECT tablename FROM pg_tables "
                "WHERE schemaname = current_schema() AND tablename = ANY(:names)"
            ),
            {"names": list(tables)},
        )
        .scalars()
    )
    return [t for t in tables if t in found]


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in _existing(list(TENANT_TABLES)):
        for statement in enable_statements(table):
            op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    for table in _existing(list(TENANT_TABLES)):
        for statement in disable_statements(table):
            op.execute(statement)
