"""The account's time zone: which calendar day "today" is for the person.

``accounts.time_zone`` holds an IANA name (``Europe/Paris``); existing accounts
get ``UTC``, what "today" meant for them before.

Revision ID: 0200_account_time_zone
Revises: 0001_core
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0200_account_time_zone"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("account_time_zone",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("time_zone", sa.String(), nullable=False, server_default="UTC"))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("time_zone")
