# ruff: noqa: S608  (statements built from constants in this file, no outside input)
"""Search on SQLite: the account as an indexed FTS5 column (a search reads its own postings).

``entry_fts`` (migration ``0100_search``) is one FTS5 table for every account.
A search joined it to ``entry_search_docs`` and kept the account's rows, so a
common word made FTS5 walk the word's postings in every other account too:
201 ms for one word at 1M entries in ten accounts, against 10 ms for the same
account alone. This revision adds a fourth indexed column, ``account``, holding
one token per entry, ``a<account id hex>0`` (the trailing digit keeps the porter
stemmer from touching it: every suffix it strips ends in a letter). A search
matches ``{account} : "a<id>0" AND {title content tags} : (<terms>)``, so FTS5
intersects the account's posting list with the words' and skips other
accounts' postings through its doclist indexes. The ``account_id`` condition
on ``entry_search_docs`` stays: isolation does not rest on the token.

The table and its triggers are re-created and re-filled from ``entries``
(PostgreSQL is untouched: its GIN search already filters by account in the
same index scan as the rest of the row).

Revision ID: 0101_search_accounts
Revises: 0100_search
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0101_search_accounts"
down_revision: str | Sequence[str] | None = "0100_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_TAGS = "(SELECT coalesce(group_concat(value, ' '), '') FROM json_each({row}.tags))"
DOC_COLUMNS = "entry_id, account_id, stream_id, is_archived, entry_date, created_at"
TEXT_CHANGED = (
    "old.title IS NOT new.title OR old.content IS NOT new.content "
    "OR old.tags IS NOT new.tags OR old.deleted_at IS NOT new.deleted_at"
)
FTS_OPTIONS = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'"


def _account_token(row: str) -> str:
    return f"('a' || {row}.account_id || '0')"


def _doc_values(row: str) -> str:
    return ", ".join(f"{row}.{c.strip()}" for c in DOC_COLUMNS.split(","))


def _fts_insert(row: str, where: str, *, with_account: bool) -> str:
    columns = "rowid, title, content, tags" + (", account" if with_account else "")
    account = f", {_account_token(row)}" if with_account else ""
    return f"""
        INSERT INTO entry_search_docs ({DOC_COLUMNS})
            SELECT {_doc_values(row)} {where};
        INSERT INTO entry_fts ({columns})
            SELECT last_insert_rowid(), coalesce({row}.title, ''), {row}.content,
                   {SQLITE_TAGS.format(row=row)}{account}
            {where};"""


_FTS_DELETE = """
        DELETE FROM entry_fts WHERE rowid =
            (SELECT doc_id FROM entry_search_docs WHERE entry_id = old.entry_id);
        DELETE FROM entry_search_docs WHERE entry_id = old.entry_id;"""


def _statements(*, with_account: bool) -> list[str]:
    """Re-create ``entry_fts`` (with or without the account column), its triggers, its rows."""
    columns = "title, content, tags" + (", account" if with_account else "")
    account = f", {_account_token('d')}" if with_account else ""
    return [
        "DROP TRIGGER IF EXISTS entries_search_insert",
        "DROP TRIGGER IF EXISTS entries_search_update_text",
        "DROP TRIGGER IF EXISTS entries_search_delete",
        "DROP TABLE IF EXISTS entry_fts",
        f"CREATE VIRTUAL TABLE entry_fts USING fts5({columns}, {FTS_OPTIONS})",
        f"""
        CREATE TRIGGER entries_search_insert AFTER INSERT ON entries
        WHEN new.deleted_at IS NULL
        BEGIN {_fts_insert("new", "", with_account=with_account)}
        END
        """,
        f"""
        CREATE TRIGGER entries_search_update_text AFTER UPDATE ON entries
        WHEN {TEXT_CHANGED}
        BEGIN {_FTS_DELETE}
            {_fts_insert("new", "WHERE new.deleted_at IS NULL", with_account=with_account)}
        END
        """,
        f"""
        CREATE TRIGGER entries_search_delete AFTER DELETE ON entries
        BEGIN {_FTS_DELETE}
        END
        """,
        # entry_search_docs is unchanged: its doc ids stay the FTS rowids.
        f"""
        INSERT INTO entry_fts (rowid, {columns})
        SELECT d.doc_id, coalesce(e.title, ''), e.content, {SQLITE_TAGS.format(row="e")}
               {account}
        FROM entry_search_docs AS d JOIN entries AS e ON e.entry_id = d.entry_id
        ORDER BY d.doc_id
        """,
        "INSERT INTO entry_fts (entry_fts) VALUES ('optimize')",
    ]


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for statement in _statements(with_account=True):
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    for statement in _statements(with_account=False):
        op.execute(statement)
