# ruff: noqa: S608  (statements built from constants in this file, no outside input)
"""Search on SQLite: sixteen FTS5 tables, an account's entries in one of them.

With the account token of ``0101_search_accounts`` a search reads only its own
account's postings, but bm25 still computes each word's IDF by counting the
word's documents in the whole FTS5 table: about 20 ms for one common word at 1M
entries in ten accounts, whatever the account's own size. FTS5 keeps no
per-word document counts, so the count is a scan of the word's postings in
every tenant; and the statistics (document count, mean length) are every
tenant's too.

This revision splits ``entry_fts`` into ``entry_fts_0`` .. ``entry_fts_f``: an
entry is indexed in the table named by the LAST hex digit of its account id
(random for uuid4 and uuid7 alike; the version and variant nibbles are not). A
search queries its account's table only, so bm25's scan and statistics cover
the accounts that share that digit: about 1/16 of the other tenants. The account
token column and the ``entry_search_docs.account_id`` check stay (several
accounts share a table, and isolation does not rest on the routing).

Per shard there are three triggers (insert, text update, delete) whose WHEN
condition routes the row, so indexing stays in the transaction of the entry
write. An entry never changes account, so a text update re-indexes it in the
table it was in. ``entry_search_docs`` is unchanged: its doc ids stay the FTS
rowids, now unique across the shards.

Downgrade re-creates the single table of ``0101_search_accounts``.

Revision ID: 0102_search_shards
Revises: 0101_search_accounts
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0102_search_shards"
down_revision: str | Sequence[str] | None = "0101_search_accounts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHARDS = "0123456789abcdef"
SQLITE_TAGS = "(SELECT coalesce(group_concat(value, ' '), '') FROM json_each({row}.tags))"
DOC_COLUMNS = "entry_id, account_id, stream_id, is_archived, entry_date, created_at"
TEXT_CHANGED = (
    "old.title IS NOT new.title OR old.content IS NOT new.content "
    "OR old.tags IS NOT new.tags OR old.deleted_at IS NOT new.deleted_at"
)
FTS_COLUMNS = "title, content, tags, account"
FTS_OPTIONS = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'"
TRIGGERS = ("entries_search_insert", "entries_search_update_text", "entries_search_delete")


def _shard_of(row: str) -> str:
    """SQL for the shard digit of ``row``'s account (the last hex digit of its id)."""
    return f"lower(substr({row}.account_id, -1))"


def _doc_values(row: str) -> str:
    return ", ".join(f"{row}.{c.strip()}" for c in DOC_COLUMNS.split(","))


def _fts_insert(table: str, row: str, where: str) -> str:
    return f"""
        INSERT INTO entry_search_docs ({DOC_COLUMNS})
            SELECT {_doc_values(row)} {where};
        INSERT INTO {table} (rowid, {FTS_COLUMNS})
            SELECT last_insert_rowid(), coalesce({row}.title, ''), {row}.content,
                   {SQLITE_TAGS.format(row=row)}, ('a' || {row}.account_id || '0')
            {where};"""


def _fts_delete(table: str) -> str:
    return f"""
        DELETE FROM {table} WHERE rowid =
            (SELECT doc_id FROM entry_search_docs WHERE entry_id = old.entry_id);
        DELETE FROM entry_search_docs WHERE entry_id = old.entry_id;"""


def _create(table: str, suffix: str, when: str | None, when_old: str | None) -> list[str]:
    """Create ``table``, its three triggers (names + ``suffix``) and fill it.

    ``when``/``when_old`` restrict the triggers to the rows of one shard (by the
    new or the old row); ``None`` indexes every row (one table).
    """
    route_new = f" AND {when}" if when else ""
    route_old = f"WHEN {when_old}" if when_old else ""
    fill_where = f"WHERE {_shard_of('d')} = '{suffix[1:]}'" if when else ""
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5({FTS_COLUMNS}, {FTS_OPTIONS})",
        f"""
        CREATE TRIGGER entries_search_insert{suffix} AFTER INSERT ON entries
        WHEN new.deleted_at IS NULL{route_new}
        BEGIN {_fts_insert(table, "new", "")}
        END
        """,
        f"""
        CREATE TRIGGER entries_search_update_text{suffix} AFTER UPDATE ON entries
        WHEN ({TEXT_CHANGED}){route_new}
        BEGIN {_fts_delete(table)}
            {_fts_insert(table, "new", "WHERE new.deleted_at IS NULL")}
        END
        """,
        f"""
        CREATE TRIGGER entries_search_delete{suffix} AFTER DELETE ON entries
        {route_old}
        BEGIN {_fts_delete(table)}
        END
        """,
        f"""
        INSERT INTO {table} (rowid, {FTS_COLUMNS})
        SELECT d.doc_id, coalesce(e.title, ''), e.content, {SQLITE_TAGS.format(row="e")},
               'a' || d.account_id || '0'
        FROM entry_search_docs AS d JOIN entries AS e ON e.entry_id = d.entry_id
        {fill_where}
        ORDER BY d.doc_id
        """,
        f"INSERT INTO {table} ({table}) VALUES ('optimize')",
    ]


def _drop(table: str, suffix: str) -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {name}{suffix}" for name in TRIGGERS),
        f"DROP TABLE IF EXISTS {table}",
    ]


def upgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    statements = [f"DROP TRIGGER IF EXISTS {name}" for name in TRIGGERS]
    for digit in SHARDS:
        statements += _create(
            f"entry_fts_{digit}",
            f"_{digit}",
            f"{_shard_of('new')} = '{digit}'",
            f"{_shard_of('old')} = '{digit}'",
        )
    statements.append("DROP TABLE entry_fts")
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_context().dialect.name != "sqlite":
        return
    statements: list[str] = []
    for digit in SHARDS:
        statements += _drop(f"entry_fts_{digit}", f"_{digit}")
    statements += _create("entry_fts", "", None, None)
    for statement in statements:
        op.execute(statement)
