# ruff: noqa: S608  (statements built from constants in this file, no outside input)
r"""PostgreSQL search vector (#13): stream name, attachment file names, compounds and CJK grams.

``entries.search_vector`` is computed by ``trace_entry_search_vector_of`` (one
SQL function, so the entry trigger and the triggers below compute it alike):

- title, weight A;
- tags, the entry's stream's current name and its live attachments' file
  names (punctuation in a file name separates words: ``Q3_report.pdf`` is
  ``Q3 report pdf``), weight B;
- content, weight C;
- ``entries.search_extra`` (``0500_search_fields``), weight C: its joined
  compounds (``wifi`` for ``Wi-Fi``) with the configured language, like the
  words; its CJK grams with the ``simple`` configuration (never stemmed, never
  unaccented), which the query side matches with ``to_tsquery('simple', ...)``.

Triggers keep it current: the entry's (insert; update of title, content,
tags, stream or search_extra, which covers moving an entry), a stream's
rename, and an attachment's insert, delete and update (removed, restored,
renamed, moved). Every existing vector is recomputed. SQLite: nothing (its
FTS5 columns are ``0500_search_fields``'s).

Revision ID: 0510_postgres_search_fields
Revises: 0500_search_fields
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0510_postgres_search_fields"
down_revision: str | Sequence[str] | None = "0500_search_fields"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_ACCOUNTS_SETTING = "trace.all_accounts"  # trace_sql.rls, frozen here

# Frozen copies (trace_sql.search.postgres keeps the living ones; a test
# checks they are the same). {language}: the text-search configuration;
# {fold}: ``unaccent`` or nothing.
CJK_CLASS = (
    r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u1100-\u11ff\u3130-\u318f"
    r"\uac00-\ud7af\u31f0-\u31ff\uff66-\uff9f\U00020000-\U0002fa1f"
)
FILE_PUNCTUATION = r"[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]+"

PG_VECTOR_FUNCTION = f"""
CREATE OR REPLACE FUNCTION trace_entry_search_vector_of(
    p_account uuid, p_entry uuid, p_stream uuid,
    p_title text, p_content text, p_tags jsonb, p_extra text
) RETURNS tsvector LANGUAGE sql STABLE AS $$
SELECT
    setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(coalesce(p_title, ''))), 'A')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(coalesce(
        (SELECT string_agg(t, ' ') FROM jsonb_array_elements_text(p_tags) AS t), ''))), 'B')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(coalesce(
        (SELECT s.name FROM streams AS s
         WHERE s.account_id = p_account AND s.stream_id = p_stream), ''))), 'B')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(regexp_replace(coalesce(
        (SELECT string_agg(a.filename, ' ' ORDER BY a.position) FROM attachments AS a
         WHERE a.account_id = p_account AND a.entry_id = p_entry
           AND a.removed_at IS NULL AND a.filename IS NOT NULL), ''),
        '{FILE_PUNCTUATION}', ' ', 'g'))), 'B')
    || setweight(to_tsvector('{{language}}'::regconfig, {{fold}}(p_content)), 'C')
    || CASE WHEN coalesce(p_extra, '') = '' THEN ''::tsvector ELSE
        setweight(to_tsvector('{{language}}'::regconfig,
            {{fold}}(regexp_replace(p_extra, '[{CJK_CLASS}]+', ' ', 'g'))), 'C')
        || setweight(to_tsvector('simple'::regconfig,
            regexp_replace(p_extra, '[^ {CJK_CLASS}]+', '', 'g')), 'C')
    END
$$
"""

TRIGGER_FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION trace_entry_search_vector() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        NEW.search_vector := trace_entry_search_vector_of(
            NEW.account_id, NEW.entry_id, NEW.stream_id,
            NEW.title, NEW.content, NEW.tags, NEW.search_extra);
        RETURN NEW;
    END
    $$
    """,
    # A stream's rename re-indexes its entries (AFTER: the new name is visible).
    """
    CREATE OR REPLACE FUNCTION trace_stream_search_rename() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE entries AS e SET search_vector = trace_entry_search_vector_of(
            e.account_id, e.entry_id, e.stream_id, e.title, e.content, e.tags, e.search_extra)
        WHERE e.account_id = NEW.account_id AND e.stream_id = NEW.stream_id;
        RETURN NULL;
    END
    $$
    """,
    # An attachment added, removed, restored, renamed or moved re-indexes its entry (entries).
    """
    CREATE OR REPLACE FUNCTION trace_attachment_search_files() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            UPDATE entries AS e SET search_vector = trace_entry_search_vector_of(
                e.account_id, e.entry_id, e.stream_id, e.title, e.content, e.tags,
                e.search_extra)
            WHERE e.account_id = OLD.account_id AND e.entry_id = OLD.entry_id;
        END IF;
        IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.entry_id IS DISTINCT FROM OLD.entry_id)
        THEN
            UPDATE entries AS e SET search_vector = trace_entry_search_vector_of(
                e.account_id, e.entry_id, e.stream_id, e.title, e.content, e.tags,
                e.search_extra)
            WHERE e.account_id = NEW.account_id AND e.entry_id = NEW.entry_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
]

TRIGGERS = [
    "DROP TRIGGER IF EXISTS entries_search_vector ON entries",
    """
    CREATE TRIGGER entries_search_vector
    BEFORE INSERT OR UPDATE OF title, content, tags, stream_id, search_extra ON entries
    FOR EACH ROW EXECUTE FUNCTION trace_entry_search_vector()
    """,
    """
    CREATE TRIGGER streams_search_rename AFTER UPDATE OF name ON streams
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION trace_stream_search_rename()
    """,
    """
    CREATE TRIGGER attachments_search_insert AFTER INSERT ON attachments
    FOR EACH ROW WHEN (NEW.filename IS NOT NULL AND NEW.removed_at IS NULL)
    EXECUTE FUNCTION trace_attachment_search_files()
    """,
    """
    CREATE TRIGGER attachments_search_update
    AFTER UPDATE OF filename, removed_at, entry_id ON attachments
    FOR EACH ROW WHEN (
        OLD.filename IS DISTINCT FROM NEW.filename
        OR (OLD.removed_at IS NULL) <> (NEW.removed_at IS NULL)
        OR OLD.entry_id IS DISTINCT FROM NEW.entry_id
    )
    EXECUTE FUNCTION trace_attachment_search_files()
    """,
    """
    CREATE TRIGGER attachments_search_delete AFTER DELETE ON attachments
    FOR EACH ROW WHEN (OLD.filename IS NOT NULL AND OLD.removed_at IS NULL)
    EXECUTE FUNCTION trace_attachment_search_files()
    """,
]

# 0100_search's function and trigger, for the way back.
OLD_VECTOR_FUNCTION = """
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

DOWN = [
    "DROP TRIGGER IF EXISTS attachments_search_delete ON attachments",
    "DROP TRIGGER IF EXISTS attachments_search_update ON attachments",
    "DROP TRIGGER IF EXISTS attachments_search_insert ON attachments",
    "DROP TRIGGER IF EXISTS streams_search_rename ON streams",
    "DROP TRIGGER IF EXISTS entries_search_vector ON entries",
    """
    CREATE TRIGGER entries_search_vector
    BEFORE INSERT OR UPDATE OF title, content, tags ON entries
    FOR EACH ROW EXECUTE FUNCTION trace_entry_search_vector()
    """,
]

DOWN_AFTER = [
    "DROP FUNCTION IF EXISTS trace_attachment_search_files()",
    "DROP FUNCTION IF EXISTS trace_stream_search_rename()",
    "DROP FUNCTION IF EXISTS"
    " trace_entry_search_vector_of(uuid, uuid, uuid, text, text, jsonb, text)",
]


def _settings() -> tuple[str, str]:
    """Return the configured language and the fold function (``unaccent`` or nothing)."""
    bind = op.get_bind()
    rows: dict[str, str] = dict(
        bind.execute(
            sa.text("SELECT name, value FROM search_config WHERE name IN ('language', 'unaccent')")
        ).all()
    )
    language = str(rows.get("language") or "english")
    return language, "unaccent" if rows.get("unaccent") == "on" else ""


def _recompute() -> None:
    # Row-level security: the owner sees every account's rows only so.
    op.get_bind().execute(sa.text(f"SELECT set_config('{ALL_ACCOUNTS_SETTING}', 'on', true)"))
    op.execute("UPDATE entries SET title = title")


def _can_create_btree_gin() -> bool:
    """Whether ``btree_gin`` is installed or this role may install it (trusted, or superuser)."""
    row = (
        op.get_bind()
        .execute(
            sa.text(
                "SELECT v.installed OR (v.trusted AND has_database_privilege("
                "current_database(), 'CREATE')) OR (SELECT rolsuper FROM pg_roles "
                "WHERE rolname = current_user) FROM pg_available_extension_versions AS v "
                "JOIN pg_available_extensions AS e ON e.name = v.name "
                "AND e.default_version = v.version WHERE v.name = 'btree_gin'"
            )
        )
        .first()
    )
    return bool(row and row[0])


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    language, fold = _settings()
    op.execute(PG_VECTOR_FUNCTION.format(language=language, fold=fold))
    for statement in [*TRIGGER_FUNCTIONS, *TRIGGERS]:
        op.execute(statement)
    _recompute()
    # One GIN index over (account, vector) of live entries: a search and its
    # count read only the account's matches, never the other accounts' (a
    # common word matches a share of every account), and never a row's vector
    # for a plain word (the index's answer is exact). btree_gin indexes the
    # uuid; without it the vector alone is indexed, as before.
    if _can_create_btree_gin():
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
        op.execute("DROP INDEX IF EXISTS ix_entries_search_vector")
        op.execute(
            "CREATE INDEX ix_entries_search ON entries USING gin (account_id, search_vector)"
            " WHERE deleted_at IS NULL"
        )


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    language, fold = _settings()
    op.execute("DROP INDEX IF EXISTS ix_entries_search")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_entries_search_vector ON entries USING gin (search_vector)"
    )
    for statement in DOWN:
        op.execute(statement)
    op.execute(OLD_VECTOR_FUNCTION.format(language=language, fold=fold))
    for statement in DOWN_AFTER:
        op.execute(statement)
    _recompute()
