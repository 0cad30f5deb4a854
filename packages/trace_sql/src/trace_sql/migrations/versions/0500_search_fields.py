# ruff: noqa: S608  (statements built from constants in this file, no outside input)
"""Search fields (#13): compounds and CJK grams, the account's words, more indexed fields.

Both dialects:

- ``entries.search_extra``: what :func:`trace_core.search_text.search_extra`
  adds to an entry's words (joined compounds such as ``wifi`` for ``Wi-Fi``, the
  two-character grams of Chinese, Japanese and Korean runs). Written by the
  repository with every entry (triggers cannot call Python, and both dialects'
  triggers index it); backfilled here in batches.
- ``search_words(account_id, word)``: each account's vocabulary
  (:func:`trace_core.search_text.vocabulary` of its entries' title, content and
  tags), the candidates of typo corrections. Maintained by the repository on
  entry writes (insert-only; rebuilt from live entries by a search rebuild);
  backfilled here from live entries. PostgreSQL: under row-level security
  (:func:`trace_sql.rls.enable_statements`).

SQLite: the sixteen FTS5 shards of ``0102_search_shards`` are re-created with
three more columns, ``stream`` (the entry's stream's current name), ``files``
(its live attachments' file names) and ``extra`` (``entries.search_extra``),
with triggers that keep them current: entry insert, text/extra update and
delete (as before), move to another stream, archive flag, stream rename,
attachment insert, update (removed, restored, renamed) and delete. The
``account`` column holds, beside the account's token, the stream's
(``s<stream id>0``, or ``inbox0``) and ``archived0`` for an archived entry, so a
count filtered by these reads FTS5 alone. The PostgreSQL search vector is
changed by ``0510_postgres_search_fields``.

Revision ID: 0500_search_fields
Revises: 0400_row_level_security
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql, sqlite

from trace_sql.rls import ALL_ACCOUNTS_SETTING, disable_statements, enable_statements
from trace_sql.storage._rows import entry_search_extra, row_words
from trace_sql.types import JSONType

revision: str = "0500_search_fields"
down_revision: str | Sequence[str] | None = "0400_row_level_security"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 2000

SHARDS = "0123456789abcdef"
SQLITE_TAGS = "(SELECT coalesce(group_concat(value, ' '), '') FROM json_each({row}.tags))"
SQLITE_STREAM = (
    "coalesce((SELECT s.name FROM streams AS s "
    "WHERE s.account_id = {row}.account_id AND s.stream_id = {row}.stream_id), '')"
)
SQLITE_FILES = (
    "(SELECT coalesce(group_concat(a.filename, ' '), '') FROM attachments AS a "
    "WHERE a.account_id = {row}.account_id AND a.entry_id = {row}.entry_id "
    "AND a.removed_at IS NULL AND a.filename IS NOT NULL)"
)
DOC_COLUMNS = "entry_id, account_id, stream_id, is_archived, entry_date, created_at"
TEXT_CHANGED = (
    "old.title IS NOT new.title OR old.content IS NOT new.content "
    "OR old.tags IS NOT new.tags OR old.deleted_at IS NOT new.deleted_at"
)
NEW_TEXT_CHANGED = f"{TEXT_CHANGED} OR old.search_extra IS NOT new.search_extra"
FTS_OPTIONS = "tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'"
OLD_FTS_COLUMNS = "title, content, tags, account"
NEW_FTS_COLUMNS = "title, content, tags, stream, files, extra, account"
ENTRY_TRIGGERS = ("entries_search_insert", "entries_search_update_text", "entries_search_delete")
ARCHIVED_TOKEN = "archived0"  # noqa: S105 - an index token, not a secret
"""In the ``account`` column of an archived entry: counts skip archived entries in FTS5."""
INBOX_TOKEN = "inbox0"  # noqa: S105 - an index token, not a secret
"""In the ``account`` column of an entry in no stream."""
NEW_TRIGGERS = (
    "entries_search_move",
    "entries_search_archive",
    "streams_search_rename",
    "attachments_search_insert",
    "attachments_search_update",
    "attachments_search_delete",
)


def _shard_of(row: str) -> str:
    """SQL for the shard digit of ``row``'s account (the last hex digit of its id)."""
    return f"lower(substr({row}.account_id, -1))"


def _doc_values(row: str) -> str:
    return ", ".join(f"{row}.{c.strip()}" for c in DOC_COLUMNS.split(","))


def _fts_values(row: str, *, new: bool) -> str:
    values = f"coalesce({row}.title, ''), {row}.content, {SQLITE_TAGS.format(row=row)}"
    if new:
        values += (
            f", {SQLITE_STREAM.format(row=row)}, {SQLITE_FILES.format(row=row)}, {row}.search_extra"
        )
    if not new:
        return f"{values}, ('a' || {row}.account_id || '0')"
    return f"{values}, {_account_tokens(row)}"


def _account_tokens(row: str) -> str:
    """The ``account`` column: the account's token, the stream's (or ``inbox0``), ``archived0``.

    ``a<account id>0``, then ``s<stream id>0`` or ``inbox0``, then ``archived0``
    for an archived entry: counts filtered by these need no look-up per match.
    """
    return (
        f"('a' || {row}.account_id || '0'"
        f" || CASE WHEN {row}.stream_id IS NULL THEN ' {INBOX_TOKEN}'"
        f" ELSE ' s' || {row}.stream_id || '0' END"
        f" || CASE WHEN {row}.is_archived THEN ' {ARCHIVED_TOKEN}' ELSE '' END)"
    )


def _fts_insert(table: str, row: str, where: str, *, new: bool) -> str:
    columns = NEW_FTS_COLUMNS if new else OLD_FTS_COLUMNS
    return f"""
        INSERT INTO entry_search_docs ({DOC_COLUMNS})
            SELECT {_doc_values(row)} {where};
        INSERT INTO {table} (rowid, {columns})
            SELECT last_insert_rowid(), {_fts_values(row, new=new)}
            {where};"""


def _fts_delete(table: str) -> str:
    return f"""
        DELETE FROM {table} WHERE rowid =
            (SELECT doc_id FROM entry_search_docs WHERE entry_id = old.entry_id);
        DELETE FROM entry_search_docs WHERE entry_id = old.entry_id;"""


def _files_update(table: str, row: str) -> str:
    """Re-index the file names of ``row``'s entry (an attachment row) in ``table``."""
    files = SQLITE_FILES.format(row=row)
    return f"""
        UPDATE {table} SET files = {files}
        WHERE rowid = (SELECT doc_id FROM entry_search_docs WHERE entry_id = {row}.entry_id);"""


def _shard(digit: str, *, new: bool) -> list[str]:
    """Create shard ``digit`` (old or new columns), its triggers, and fill it."""
    table = f"entry_fts_{digit}"
    columns = NEW_FTS_COLUMNS if new else OLD_FTS_COLUMNS
    changed = NEW_TEXT_CHANGED if new else TEXT_CHANGED
    route_new = f"{_shard_of('new')} = '{digit}'"
    route_old = f"{_shard_of('old')} = '{digit}'"
    statements = [
        f"CREATE VIRTUAL TABLE {table} USING fts5({columns}, {FTS_OPTIONS})",
        f"""
        CREATE TRIGGER entries_search_insert_{digit} AFTER INSERT ON entries
        WHEN new.deleted_at IS NULL AND {route_new}
        BEGIN {_fts_insert(table, "new", "", new=new)}
        END
        """,
        f"""
        CREATE TRIGGER entries_search_update_text_{digit} AFTER UPDATE ON entries
        WHEN ({changed}) AND {route_new}
        BEGIN {_fts_delete(table)}
            {_fts_insert(table, "new", "WHERE new.deleted_at IS NULL", new=new)}
        END
        """,
        f"""
        CREATE TRIGGER entries_search_delete_{digit} AFTER DELETE ON entries
        WHEN {route_old}
        BEGIN {_fts_delete(table)}
        END
        """,
        f"""
        INSERT INTO {table} (rowid, {columns})
        SELECT d.doc_id, {_fts_values("e", new=new)}
        FROM entry_search_docs AS d JOIN entries AS e ON e.entry_id = d.entry_id
        WHERE {_shard_of("d")} = '{digit}'
        ORDER BY d.doc_id
        """,
        f"INSERT INTO {table} ({table}) VALUES ('optimize')",
    ]
    if not new:
        return statements
    return [
        *statements,
        f"""
        CREATE TRIGGER entries_search_move_{digit} AFTER UPDATE OF stream_id ON entries
        WHEN old.stream_id IS NOT new.stream_id AND new.deleted_at IS NULL
        AND NOT ({changed}) AND {route_new}
        BEGIN
            UPDATE {table} SET stream = {SQLITE_STREAM.format(row="new")},
                account = {_account_tokens("new")}
            WHERE rowid = (SELECT doc_id FROM entry_search_docs WHERE entry_id = new.entry_id);
        END
        """,
        f"""
        CREATE TRIGGER entries_search_archive_{digit} AFTER UPDATE OF is_archived ON entries
        WHEN old.is_archived IS NOT new.is_archived AND new.deleted_at IS NULL
        AND NOT ({changed}) AND {route_new}
        BEGIN
            UPDATE {table} SET account = {_account_tokens("new")}
            WHERE rowid = (SELECT doc_id FROM entry_search_docs WHERE entry_id = new.entry_id);
        END
        """,
        f"""
        CREATE TRIGGER streams_search_rename_{digit} AFTER UPDATE OF name ON streams
        WHEN old.name IS NOT new.name AND {route_new}
        BEGIN
            UPDATE {table} SET stream = new.name WHERE rowid IN (
                SELECT d.doc_id FROM entries AS e
                JOIN entry_search_docs AS d ON d.entry_id = e.entry_id
                WHERE e.account_id = new.account_id AND e.stream_id = new.stream_id
                AND e.deleted_at IS NULL);
        END
        """,
        f"""
        CREATE TRIGGER attachments_search_insert_{digit} AFTER INSERT ON attachments
        WHEN new.filename IS NOT NULL AND new.removed_at IS NULL AND {route_new}
        BEGIN {_files_update(table, "new")}
        END
        """,
        f"""
        CREATE TRIGGER attachments_search_update_{digit} AFTER UPDATE ON attachments
        WHEN (old.removed_at IS NOT new.removed_at OR old.filename IS NOT new.filename
              OR old.entry_id IS NOT new.entry_id) AND {route_new}
        BEGIN {_files_update(table, "old")} {_files_update(table, "new")}
        END
        """,
        f"""
        CREATE TRIGGER attachments_search_delete_{digit} AFTER DELETE ON attachments
        WHEN old.filename IS NOT NULL AND old.removed_at IS NULL AND {route_old}
        BEGIN {_files_update(table, "old")}
        END
        """,
    ]


def _drop_shard(digit: str) -> list[str]:
    return [
        *(f"DROP TRIGGER IF EXISTS {name}_{digit}" for name in (*ENTRY_TRIGGERS, *NEW_TRIGGERS)),
        f"DROP TABLE IF EXISTS entry_fts_{digit}",
    ]


def _backfill(bind: sa.Connection) -> None:
    """Set every entry's ``search_extra``; fill ``search_words`` from the live entries.

    In batches by entry id; most texts have no compound or CJK, so few rows
    are updated. The repository's fast equivalents of ``search_extra`` and
    ``vocabulary`` (checked equal to the core's by the tests).
    """
    entries = sa.table(
        "entries",
        sa.column("entry_id", sa.Uuid()),
        sa.column("account_id", sa.Uuid()),
        sa.column("title", sa.Text()),
        sa.column("content", sa.Text()),
        sa.column("tags", JSONType),
        sa.column("deleted_at", sa.DateTime()),
        sa.column("search_extra", sa.Text()),
    )
    words_table = sa.table("search_words", sa.column("account_id", sa.Uuid()), sa.column("word"))
    insert = (
        postgresql.insert(words_table)
        if bind.dialect.name == "postgresql"
        else sqlite.insert(words_table)
    ).on_conflict_do_nothing()
    update = (
        sa.update(entries)
        .where(entries.c.entry_id == sa.bindparam("id"))
        .values(search_extra=sa.bindparam("extra"))
    )
    e = entries.c
    after: object = None
    while True:
        query = sa.select(e.entry_id, e.account_id, e.title, e.content, e.tags, e.deleted_at)
        if after is not None:
            query = query.where(e.entry_id > after)
        rows = bind.execute(query.order_by(e.entry_id).limit(BATCH)).all()
        if not rows:
            return
        updates: list[dict[str, object]] = []
        words: dict[tuple[object, str], dict[str, object]] = {}
        for row in rows:
            tags = list(row.tags or ())
            extra = entry_search_extra(row.title, row.content, " ".join(tags))
            if extra:
                updates.append({"id": row.entry_id, "extra": extra})
            if row.deleted_at is None:
                for word in row_words(row.title, row.content, tags, extra):
                    words.setdefault(
                        (row.account_id, word), {"account_id": row.account_id, "word": word}
                    )
        if updates:
            bind.execute(update, updates)
        if words:
            bind.execute(insert, list(words.values()))
        after = rows[-1].entry_id


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    bind = op.get_bind()
    if dialect == "postgresql":
        # Row-level security: the owner sees every account's rows only so.
        bind.execute(sa.text(f"SELECT set_config('{ALL_ACCOUNTS_SETTING}', 'on', true)"))
    op.add_column(
        "entries",
        sa.Column("search_extra", sa.Text(), nullable=False, server_default=""),
    )
    op.create_table(
        "search_words",
        sa.Column(
            "account_id",
            sa.Uuid(),
            sa.ForeignKey("accounts.account_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("word", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "word"),
        sqlite_with_rowid=False,
    )
    _backfill(bind)
    if dialect == "postgresql":
        for statement in enable_statements("search_words"):
            op.execute(statement)
        return
    if dialect != "sqlite":
        return
    statements: list[str] = []
    for digit in SHARDS:
        statements += _drop_shard(digit)
        statements += _shard(digit, new=True)
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "postgresql":
        for statement in disable_statements("search_words"):
            op.execute(statement)
    if dialect == "sqlite":
        statements: list[str] = []
        for digit in SHARDS:
            statements += _drop_shard(digit)
            statements += _shard(digit, new=False)
        for statement in statements:
            op.execute(statement)
    op.drop_table("search_words")
    op.drop_column("entries", "search_extra")
