# ruff: noqa: S608  (statements built from constants in this file, no outside input)
"""Search: FTS5 (SQLite) or tsvector + GIN (PostgreSQL), and the search outbox.

Both engines index in the same transaction as the entry write, with triggers on
``entries``, so whatever writes an entry (the repository, a bulk import, a
manual fix in a SQL shell) keeps the index right.

SQLite: ``entry_fts`` is an FTS5 table over title, content and tags (porter
stemming on a diacritics-folding unicode61 tokenizer, prefix indexes for
typing). Its rowid is ``entry_search_docs.doc_id`` (an INTEGER PRIMARY KEY,
stable across VACUUM, unlike the implicit rowid of ``entries``), a row that
also copies the columns the common filters and the tie-break order need. Only
live (not deleted) entries are indexed.

PostgreSQL: ``entries.search_vector`` (title weight A, tags B, content C) is set
by a BEFORE trigger and indexed with GIN. The text-search language is baked
into the trigger function; ``PostgresSearchIndex`` replaces the function and
recomputes the vectors when it is configured with another language.

``search_outbox`` records which entries changed, for an external index
(Meilisearch). Triggers write it only while ``search_config.outbox`` is ``on``.

Revision ID: 0100_search
Revises: 0001_core
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0100_search"
down_revision: str | Sequence[str] | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_TAGS = "(SELECT coalesce(group_concat(value, ' '), '') FROM json_each({row}.tags))"
SQLITE_NOW = "((julianday('now') - 2440587.5) * 86400.0)"
OUTBOX_ON = "(SELECT value FROM search_config WHERE name = 'outbox') = 'on'"

DOC_COLUMNS = "entry_id, account_id, stream_id, is_archived, entry_date, created_at"
TEXT_CHANGED = (
    "old.title IS NOT new.title OR old.content IS NOT new.content "
    "OR old.tags IS NOT new.tags OR old.deleted_at IS NOT new.deleted_at"
)
META_CHANGED = (
    "old.stream_id IS NOT new.stream_id OR old.is_archived IS NOT new.is_archived "
    "OR old.entry_date IS NOT new.entry_date OR old.created_at IS NOT new.created_at"
)


def _doc_values(row: str) -> str:
    return ", ".join(f"{row}.{c.strip()}" for c in DOC_COLUMNS.split(","))


def _fts_insert(row: str, where: str = "") -> str:
    return f"""
        INSERT INTO entry_search_docs ({DOC_COLUMNS})
            SELECT {_doc_values(row)} {where};
        INSERT INTO entry_fts (rowid, title, content, tags)
            SELECT last_insert_rowid(), coalesce({row}.title, ''), {row}.content,
                   {SQLITE_TAGS.format(row=row)}
            {where};"""


_FTS_DELETE = """
        DELETE FROM entry_fts WHERE rowid =
            (SELECT doc_id FROM entry_search_docs WHERE entry_id = old.entry_id);
        DELETE FROM entry_search_docs WHERE entry_id = old.entry_id;"""

SQLITE_UP = [
    # One row per live entry: the FTS rowid (an INTEGER PRIMARY KEY, stable
    # across VACUUM) and copies of the columns the common filters and the
    # tie-break order need, so ranking many matches never reads the entries
    # table (whose rows carry the content).
    """
    CREATE TABLE entry_search_docs (
        doc_id INTEGER PRIMARY KEY,
        entry_id CHAR(32) NOT NULL UNIQUE,
        account_id CHAR(32) NOT NULL,
        stream_id CHAR(32),
        is_archived BOOLEAN NOT NULL,
        entry_date DATE NOT NULL,
        created_at DATETIME NOT NULL
    )
    """,
    """
    CREATE VIRTUAL TABLE entry_fts USING fts5(
        title, content, tags,
        tokenize = 'porter unicode61 remove_diacritics 2',
        prefix = '2 3'
    )
    """,
    f"""
    CREATE TRIGGER entries_search_insert AFTER INSERT ON entries
    WHEN new.deleted_at IS NULL
    BEGIN {_fts_insert("new")}
    END
    """,
    # The repository's UPDATE sets every column, so "UPDATE OF" alone would
    # re-index on every pin or status change: compare values instead.
    f"""
    CREATE TRIGGER entries_search_update_text AFTER UPDATE ON entries
    WHEN {TEXT_CHANGED}
    BEGIN {_FTS_DELETE} {_fts_insert("new", "WHERE new.deleted_at IS NULL")}
    END
    """,
    f"""
    CREATE TRIGGER entries_search_update_meta AFTER UPDATE ON entries
    WHEN NOT ({TEXT_CHANGED}) AND ({META_CHANGED})
    BEGIN
        UPDATE entry_search_docs SET stream_id = new.stream_id,
            is_archived = new.is_archived, entry_date = new.entry_date,
            created_at = new.created_at
        WHERE entry_id = new.entry_id;
    END
    """,
    f"""
    CREATE TRIGGER entries_search_delete AFTER DELETE ON entries
    BEGIN {_FTS_DELETE}
    END
    """,
    f"""
    CREATE TRIGGER entries_outbox_insert AFTER INSERT ON entries WHEN {OUTBOX_ON}
    BEGIN
        INSERT INTO search_outbox (account_id, entry_id, enqueued_at, available_at, attempts)
        VALUES (new.account_id, new.entry_id, {SQLITE_NOW}, {SQLITE_NOW}, 0);
    END
    """,
    f"""
    CREATE TRIGGER entries_outbox_update AFTER UPDATE ON entries WHEN {OUTBOX_ON}
    BEGIN
        INSERT INTO search_outbox (account_id, entry_id, enqueued_at, available_at, attempts)
        VALUES (new.account_id, new.entry_id, {SQLITE_NOW}, {SQLITE_NOW}, 0);
    END
    """,
    f"""
    CREATE TRIGGER entries_outbox_delete AFTER DELETE ON entries WHEN {OUTBOX_ON}
    BEGIN
        INSERT INTO search_outbox (account_id, entry_id, enqueued_at, available_at, attempts)
        VALUES (old.account_id, old.entry_id, {SQLITE_NOW}, {SQLITE_NOW}, 0);
    END
    """,
    # Index what is already there (a database migrated after entries were written).
    f"""
    INSERT INTO entry_search_docs ({DOC_COLUMNS})
    SELECT {DOC_COLUMNS} FROM entries WHERE deleted_at IS NULL ORDER BY created_at
    """,
    f"""
    INSERT INTO entry_fts (rowid, title, content, tags)
    SELECT d.doc_id, coalesce(e.title, ''), e.content, {SQLITE_TAGS.format(row="e")}
    FROM entry_search_docs AS d JOIN entries AS e ON e.entry_id = d.entry_id
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS entries_outbox_delete",
    "DROP TRIGGER IF EXISTS entries_outbox_update",
    "DROP TRIGGER IF EXISTS entries_outbox_insert",
    "DROP TRIGGER IF EXISTS entries_search_delete",
    "DROP TRIGGER IF EXISTS entries_search_update_meta",
    "DROP TRIGGER IF EXISTS entries_search_update_text",
    "DROP TRIGGER IF EXISTS entries_search_insert",
    "DROP TABLE IF EXISTS entry_fts",
    "DROP TABLE IF EXISTS entry_search_docs",
]

PG_VECTOR_FUNCTION = """
CREATE OR REPLACE FUNCTION trace_entry_search_vector() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_vector :=
        setweight(to_tsvector('{language}'::regconfig, {fold}(coalesce(NEW.title, ''))), 'A')
        || setweight(to_tsvector('{language}'::regconfig, {fold}(coalesce(
            (SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(NEW.tags) AS t), ''))), 'B')
        || setweight(to_tsvector('{language}'::regconfig, {fold}(NEW.content)), 'C');
    RETURN NEW;
END
$$
"""

PG_UP = [
    "ALTER TABLE entries ADD COLUMN search_vector tsvector",
    """
    CREATE TRIGGER entries_search_vector
    BEFORE INSERT OR UPDATE OF title, content, tags ON entries
    FOR EACH ROW EXECUTE FUNCTION trace_entry_search_vector()
    """,
    "UPDATE entries SET title = title",
    "CREATE INDEX ix_entries_search_vector ON entries USING gin (search_vector)",
    """
    CREATE OR REPLACE FUNCTION trace_entry_outbox() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        row_account uuid;
        row_entry uuid;
    BEGIN
        IF (SELECT value FROM search_config WHERE name = 'outbox') IS DISTINCT FROM 'on' THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'DELETE' THEN
            row_account := OLD.account_id; row_entry := OLD.entry_id;
        ELSE
            row_account := NEW.account_id; row_entry := NEW.entry_id;
        END IF;
        INSERT INTO search_outbox (account_id, entry_id, enqueued_at, available_at, attempts)
        VALUES (row_account, row_entry, extract(epoch FROM clock_timestamp()),
                extract(epoch FROM clock_timestamp()), 0);
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER entries_outbox AFTER INSERT OR UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION trace_entry_outbox()
    """,
]

PG_DOWN = [
    "DROP TRIGGER IF EXISTS entries_outbox ON entries",
    "DROP FUNCTION IF EXISTS trace_entry_outbox()",
    "DROP TRIGGER IF EXISTS entries_search_vector ON entries",
    "DROP FUNCTION IF EXISTS trace_entry_search_vector()",
    "DROP INDEX IF EXISTS ix_entries_search_vector",
    "ALTER TABLE entries DROP COLUMN IF EXISTS search_vector",
]


def upgrade() -> None:
    op.create_table(
        "search_config",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_search_config"),
    )
    op.bulk_insert(
        sa.table("search_config", sa.column("name"), sa.column("value")),
        [{"name": "outbox", "value": "off"}, {"name": "language", "value": "english"}],
    )
    op.create_table(
        "search_outbox",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("entry_id", sa.Uuid(), nullable=False),
        # Seconds since the epoch: compared and computed the same way on both engines.
        sa.Column("enqueued_at", sa.Double(), nullable=False),
        sa.Column("available_at", sa.Double(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_search_outbox_available_at", "search_outbox", ["available_at", "id"])
    if op.get_context().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(statement)
        return
    # unaccent folds diacritics ("Café" finds "cafe"), as SQLite's tokenizer
    # does; without the extension, search still works, accents just matter.
    bind = op.get_bind()
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'unaccent'")
    ).first()
    fold = ""
    if available is not None:
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
        fold = "unaccent"
    op.execute(
        sa.text("INSERT INTO search_config (name, value) VALUES ('unaccent', :value)").bindparams(
            value="on" if fold else "off"
        )
    )
    op.execute(PG_UP[0])
    op.execute(PG_VECTOR_FUNCTION.format(language="english", fold=fold))
    for statement in PG_UP[1:]:
        op.execute(statement)


def downgrade() -> None:
    statements = SQLITE_DOWN if op.get_context().dialect.name == "sqlite" else PG_DOWN
    for statement in statements:
        op.execute(statement)
    op.drop_index("ix_search_outbox_available_at", table_name="search_outbox")
    op.drop_table("search_outbox")
    op.drop_table("search_config")
