# ruff: noqa: S608  (statements built from constants in this file, no outside input)
"""Search outbox: a stream rename and an attachment change record the affected entries.

Meilisearch documents carry the entry's stream name and its attachments' file
names (``trace_meili._documents``), so changing either must reach the index
like an entry write does. While ``search_config.outbox`` is ``on``:

- renaming a stream records every live entry of the stream;
- adding, removing, restoring, renaming or deleting an attachment records its
  entry (purging an attachment removed earlier records nothing: it was not
  on the entry any more).

The outbox records entry ids only; the worker reads each entry and the names
as they are when it drains the item. Moving an entry to another stream is an
entry write, recorded by ``0100_search`` already.

Revision ID: 0520_meili_outbox_fields
Revises: 0510_postgres_search_fields
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0520_meili_outbox_fields"
down_revision: str | Sequence[str] | None = "0510_postgres_search_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
OUTBOX_ON = "(SELECT value FROM search_config WHERE name = 'outbox') = 'on'"
OUTBOX_COLUMNS = "account_id, entry_id, enqueued_at, available_at, attempts"


def _sqlite_record(row: str, where: str = "") -> str:
    return f"""
        INSERT INTO search_outbox ({OUTBOX_COLUMNS})
        SELECT {row}.account_id, {row}.entry_id, {SQLITE_NOW}, {SQLITE_NOW}, 0 {where};"""


SQLITE_UP = [
    f"""
    CREATE TRIGGER streams_outbox_rename AFTER UPDATE ON streams
    WHEN old.name IS NOT new.name AND {OUTBOX_ON}
    BEGIN
        INSERT INTO search_outbox ({OUTBOX_COLUMNS})
        SELECT account_id, entry_id, {SQLITE_NOW}, {SQLITE_NOW}, 0 FROM entries
        WHERE account_id = new.account_id AND stream_id = new.stream_id
            AND deleted_at IS NULL;
    END
    """,
    f"""
    CREATE TRIGGER attachments_outbox_insert AFTER INSERT ON attachments
    WHEN {OUTBOX_ON}
    BEGIN {_sqlite_record("new")}
    END
    """,
    f"""
    CREATE TRIGGER attachments_outbox_update AFTER UPDATE ON attachments
    WHEN (old.removed_at IS NOT new.removed_at OR old.filename IS NOT new.filename
        OR old.entry_id IS NOT new.entry_id) AND {OUTBOX_ON}
    BEGIN {_sqlite_record("new")}
        {_sqlite_record("old", "WHERE old.entry_id IS NOT new.entry_id")}
    END
    """,
    f"""
    CREATE TRIGGER attachments_outbox_delete AFTER DELETE ON attachments
    WHEN old.removed_at IS NULL AND {OUTBOX_ON}
    BEGIN {_sqlite_record("old")}
    END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS attachments_outbox_delete",
    "DROP TRIGGER IF EXISTS attachments_outbox_update",
    "DROP TRIGGER IF EXISTS attachments_outbox_insert",
    "DROP TRIGGER IF EXISTS streams_outbox_rename",
]

PG_NOW = "extract(epoch FROM clock_timestamp())"
PG_OUTBOX_OFF = "(SELECT value FROM search_config WHERE name = 'outbox') IS DISTINCT FROM 'on'"

PG_UP = [
    f"""
    CREATE OR REPLACE FUNCTION trace_stream_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF {PG_OUTBOX_OFF} THEN
            RETURN NULL;
        END IF;
        INSERT INTO search_outbox ({OUTBOX_COLUMNS})
        SELECT account_id, entry_id, {PG_NOW}, {PG_NOW}, 0 FROM entries
        WHERE account_id = NEW.account_id AND stream_id = NEW.stream_id
            AND deleted_at IS NULL;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER streams_outbox_rename AFTER UPDATE OF name ON streams
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION trace_stream_outbox()
    """,
    f"""
    CREATE OR REPLACE FUNCTION trace_attachment_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF {PG_OUTBOX_OFF} THEN
            RETURN NULL;
        END IF;
        IF TG_OP <> 'INSERT' THEN
            INSERT INTO search_outbox ({OUTBOX_COLUMNS})
            VALUES (OLD.account_id, OLD.entry_id, {PG_NOW}, {PG_NOW}, 0);
        END IF;
        IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.entry_id IS DISTINCT FROM OLD.entry_id)
        THEN
            INSERT INTO search_outbox ({OUTBOX_COLUMNS})
            VALUES (NEW.account_id, NEW.entry_id, {PG_NOW}, {PG_NOW}, 0);
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER attachments_outbox_insert AFTER INSERT ON attachments
    FOR EACH ROW EXECUTE FUNCTION trace_attachment_outbox()
    """,
    """
    CREATE TRIGGER attachments_outbox_update
    AFTER UPDATE OF removed_at, filename, entry_id ON attachments
    FOR EACH ROW WHEN (OLD.removed_at IS DISTINCT FROM NEW.removed_at
        OR OLD.filename IS DISTINCT FROM NEW.filename
        OR OLD.entry_id IS DISTINCT FROM NEW.entry_id)
    EXECUTE FUNCTION trace_attachment_outbox()
    """,
    """
    CREATE TRIGGER attachments_outbox_delete AFTER DELETE ON attachments
    FOR EACH ROW WHEN (OLD.removed_at IS NULL)
    EXECUTE FUNCTION trace_attachment_outbox()
    """,
]

PG_DOWN = [
    "DROP TRIGGER IF EXISTS attachments_outbox_delete ON attachments",
    "DROP TRIGGER IF EXISTS attachments_outbox_update ON attachments",
    "DROP TRIGGER IF EXISTS attachments_outbox_insert ON attachments",
    "DROP FUNCTION IF EXISTS trace_attachment_outbox()",
    "DROP TRIGGER IF EXISTS streams_outbox_rename ON streams",
    "DROP FUNCTION IF EXISTS trace_stream_outbox()",
]


def upgrade() -> None:
    statements = SQLITE_UP if op.get_context().dialect.name == "sqlite" else PG_UP
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_context().dialect.name == "sqlite" else PG_DOWN
    for statement in statements:
        op.execute(statement)
