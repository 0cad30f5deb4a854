"""PostgreSQL row-level security: the second wall between tenants.

Every query in :mod:`trace_sql.storage` names its account (the first wall).
On PostgreSQL, migration ``0400_row_level_security`` adds a second one: each
table in :data:`TENANT_TABLES` has ``ENABLE`` and ``FORCE ROW LEVEL SECURITY``
and two policies:

``trace_tenant``
    for every role: a row is visible and writable only when its ``account_id``
    equals the transaction's ``trace.account_id`` setting
    (:data:`ACCOUNT_SETTING`). Unset, nothing is visible and nothing can be
    written.
``trace_all_accounts``
    only for the role that ran the migration (the tables' owner): every row,
    when the transaction set ``trace.all_accounts`` to ``on``
    (:data:`ALL_ACCOUNTS_SETTING`). For the jobs that work across accounts (trash
    purge, the search outbox, re-indexing).

:class:`~trace_sql.storage.SqlStorage` sets the account per unit of work
(``set_config(..., true)``, i.e. ``SET LOCAL``); with ``app_role`` (setting
``storage.database_app_role``) every pooled connection runs as that role, which
is not the owner and has no ``BYPASSRLS`` (:func:`prepare_app_role` checks and
grants it), and only the all-accounts units of work switch back to the owner
for their transaction.

The catalog below lists every table of the schema. A test fails when a table is
in neither :data:`TENANT_TABLES` nor :data:`NOT_TENANT_TABLES` (nor, for tables
only SQLite has, :data:`SQLITE_ONLY_TABLES`), and when a tenant table on a
migrated PostgreSQL database lacks its policies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from trace_core.errors import InvalidInputError

__all__ = [
    "ACCOUNT_SETTING",
    "ALL_ACCOUNTS_SETTING",
    "NOT_TENANT_TABLES",
    "SQLITE_ONLY_TABLES",
    "TENANT_TABLES",
    "AppRoleError",
    "enable_statements",
    "prepare_app_role",
]

ACCOUNT_SETTING = "trace.account_id"
"""The transaction setting naming the account whose rows are visible."""

ALL_ACCOUNTS_SETTING = "trace.all_accounts"
"""The transaction setting (``on``) that opens every account's rows, to the owner only."""

TENANT_TABLES: Mapping[str, str] = {
    "streams": "a person's streams",
    "entries": "notes (and, on PostgreSQL, their search vectors: the search documents)",
    "entry_tags": "the tags of live entries",
    "entry_versions": "every version of every note",
    "attachments": "image metadata (file names, sizes, blob keys)",
    "search_outbox": "which notes changed, for an external search index",
    "search_words": "each account's words, the candidates of typo corrections",
}
"""Tables with an ``account_id`` column, under row-level security on PostgreSQL."""

NOT_TENANT_TABLES: Mapping[str, str] = {
    "accounts": (
        "the tenants themselves: found by e-mail at sign-in, before any account is "
        "known; every read is by primary key or normalized e-mail"
    ),
    "api_keys": "credential: found by secret hash before the account is known",
    "oauth_codes": "credential: found by code hash before the account is known",
    "oauth_tokens": "credential: found by token hash before the account is known",
    "web_sessions": "credential: found by session hash before the account is known",
    "oauth_clients": "registered OAuth clients, shared by every account",
    "rate_limits": "request counters by bucket (key, client or address), no notes",
    "search_config": "global search settings (language, outbox on/off)",
    "alembic_version": "the schema revision",
}
"""Tables without row-level security, with why (docs/architecture.md: how they are protected)."""

SQLITE_ONLY_TABLES: Mapping[str, str] = {
    "entry_search_docs": "SQLite search documents; SQLite has no row-level security",
    **{
        f"entry_fts_{digit}": "SQLite full-text shard; SQLite has no row-level security"
        for digit in "0123456789abcdef"
    },
}
"""Per-account tables only SQLite has (its search index); every query filters by account."""

POLICY_EXPRESSION = f"account_id = nullif(current_setting('{ACCOUNT_SETTING}', true), '')::uuid"
"""The tenant policy: ``current_setting(..., true)`` is NULL or '' when unset: nothing matches."""


def enable_statements(table: str) -> list[str]:
    """Return the statements that put ``table`` under row-level security (for migrations).

    A migration that creates a new per-account table after ``0400_row_level_security``
    runs these for it (and lists it in :data:`TENANT_TABLES`).
    """
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS trace_tenant ON {table}",
        f"CREATE POLICY trace_tenant ON {table} FOR ALL TO PUBLIC "
        f"USING ({POLICY_EXPRESSION}) WITH CHECK ({POLICY_EXPRESSION})",
        f"DROP POLICY IF EXISTS trace_all_accounts ON {table}",
        f"CREATE POLICY trace_all_accounts ON {table} FOR ALL TO CURRENT_USER "
        f"USING (current_setting('{ALL_ACCOUNTS_SETTING}', true) = 'on') "
        f"WITH CHECK (current_setting('{ALL_ACCOUNTS_SETTING}', true) = 'on')",
    ]


def disable_statements(table: str) -> list[str]:
    """Return the statements that undo :func:`enable_statements`."""
    return [
        f"DROP POLICY IF EXISTS trace_all_accounts ON {table}",
        f"DROP POLICY IF EXISTS trace_tenant ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


class AppRoleError(InvalidInputError):
    """The configured application role is missing or could bypass the policies."""

    def __init__(self, message: str) -> None:
        super().__init__(APP_ROLE_SETTING, message)


APP_ROLE_SETTING = "storage.database_app_role"


_ROLE = sa.text(
    "SELECT rolsuper, rolbypassrls, "
    "pg_has_role(r.oid, (SELECT relowner FROM pg_class WHERE oid = 'entries'::regclass), "
    "'USAGE') AS owns "
    "FROM pg_roles AS r WHERE rolname = :role"
)


async def prepare_app_role(conn: Any, role: str) -> None:
    """Check that ``role`` is bound by the policies, and grant it the tables (as the owner).

    Run on an owner connection after migrating (``SqlStorage.migrate``). The role
    must exist (the operator creates it: docs/deploy.md), must not be a
    superuser, must not have ``BYPASSRLS`` and must not be, or inherit, the
    tables' owner. It gets ``SELECT, INSERT, UPDATE, DELETE`` on every table of
    the schema and use of its sequences; nothing else (no DDL).

    Raises:
        AppRoleError: the role does not exist or could bypass row-level security.

    """
    row = (await conn.execute(_ROLE, {"role": role})).first()
    if row is None:
        raise AppRoleError(
            f"role {role!r} does not exist; create it with "
            f"CREATE ROLE {role} NOLOGIN and GRANT {role} TO the migrating user"
        )
    if row.rolsuper or row.rolbypassrls or row.owns:
        why = (
            "a superuser"
            if row.rolsuper
            else "a role with BYPASSRLS"
            if row.rolbypassrls
            else "the tables' owner (or a member of it)"
        )
        raise AppRoleError(
            f"role {role!r} is {why} and would bypass row-level security; "
            "use a role that is none of these"
        )
    quoted = conn.dialect.identifier_preparer.quote
    schema = quoted((await conn.execute(sa.text("SELECT current_schema()"))).scalar_one())
    name = quoted(role)
    await conn.execute(sa.text(f"GRANT USAGE ON SCHEMA {schema} TO {name}"))
    await conn.execute(
        sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {name}")
    )
    await conn.execute(
        sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {name}")
    )
