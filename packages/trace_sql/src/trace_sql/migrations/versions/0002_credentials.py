"""Credentials: API keys, OAuth clients, authorization codes, tokens, rate-limit buckets.

Revision ID: 0002_credentials
Revises: 0001_core
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002_credentials"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = ("credentials",)
depends_on: str | Sequence[str] | None = None

# Frozen copies of the column types at this revision.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("prefix", sa.String(), nullable=False),
        sa.Column("secret_hash", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.Column("expires_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_api_keys"),
        sa.UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
    )
    op.create_index("ix_api_keys_account_id", "api_keys", ["account_id"])

    op.create_table(
        "oauth_clients",
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("client_name", sa.String(), nullable=False),
        sa.Column("redirect_uris", JSON, nullable=False),
        sa.Column("grant_types", JSON, nullable=False),
        sa.Column("response_types", JSON, nullable=False),
        sa.Column("token_endpoint_auth_method", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=True),
        sa.Column("application_type", sa.String(), nullable=True),
        sa.Column("client_secret_hash", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("extra", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("last_used_at", TIMESTAMP, nullable=True),
        sa.Column("metadata_expires_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("client_id", name="pk_oauth_clients"),
    )

    op.create_table(
        "oauth_codes",
        sa.Column("code_hash", sa.String(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("redirect_uri", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("resource", sa.String(), nullable=False),
        sa.Column("code_challenge", sa.String(), nullable=False),
        sa.Column("code_challenge_method", sa.String(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("code_hash", name="pk_oauth_codes"),
    )
    op.create_index("ix_oauth_codes_client_id", "oauth_codes", ["client_id"])
    op.create_index("ix_oauth_codes_expires_at", "oauth_codes", ["expires_at"])

    op.create_table(
        "oauth_tokens",
        sa.Column("token_id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("resource", sa.String(), nullable=False),
        sa.Column("access_token_hash", sa.String(), nullable=False),
        sa.Column("refresh_token_hash", sa.String(), nullable=True),
        sa.Column("issued_at", TIMESTAMP, nullable=False),
        sa.Column("access_expires_at", TIMESTAMP, nullable=False),
        sa.Column("refresh_expires_at", TIMESTAMP, nullable=True),
        sa.Column("rotated_at", TIMESTAMP, nullable=True),
        sa.Column("revoked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_oauth_tokens"),
        sa.UniqueConstraint("access_token_hash", name="uq_oauth_tokens_access_token_hash"),
        sa.UniqueConstraint("refresh_token_hash", name="uq_oauth_tokens_refresh_token_hash"),
    )
    op.create_index("ix_oauth_tokens_family_id", "oauth_tokens", ["family_id"])
    op.create_index("ix_oauth_tokens_client_id", "oauth_tokens", ["client_id"])
    op.create_index(
        "ix_oauth_tokens_account_id_client_id", "oauth_tokens", ["account_id", "client_id"]
    )

    op.create_table(
        "rate_limits",
        sa.Column("bucket", sa.String(), nullable=False),
        sa.Column("window_start", TIMESTAMP, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("bucket", name="pk_rate_limits"),
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    op.drop_table("oauth_tokens")
    op.drop_table("oauth_codes")
    op.drop_table("oauth_clients")
    op.drop_table("api_keys")
