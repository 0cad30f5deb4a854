"""SQLite FTS5 MATCH text from a parsed query, and the shards' layout.

Every word is a double-quoted FTS5 string (words hold letters, digits and marks
only, never ``"``), so nothing a person types is FTS5 syntax; the structure
(phrases, ``OR``, ``NOT``, column filters, the prefix ``*``) is written here
from :class:`~trace_core.search.ParsedQuery`.
"""

from __future__ import annotations

from trace_core.search import Alternative, Clause, Match, ParsedQuery
from trace_core.search_text import cjk_grams, is_cjk

__all__ = [
    "ARCHIVED_TOKEN",
    "BM25_WEIGHTS",
    "FTS_SHARDS",
    "INBOX_TOKEN",
    "TEXT_COLUMNS",
    "account_match",
    "fts5_match",
    "fts_table",
]

TITLE_WEIGHT = 10.0
TAGS_WEIGHT = 4.0
STREAM_WEIGHT = 4.0
FILES_WEIGHT = 4.0
CONTENT_WEIGHT = 1.0
EXTRA_WEIGHT = 1.0
ACCOUNT_WEIGHT = 0.0
"""bm25 weight of the FTS5 ``account`` column (matched for speed, not relevance)."""

BM25_WEIGHTS = (
    TITLE_WEIGHT,
    CONTENT_WEIGHT,
    TAGS_WEIGHT,
    STREAM_WEIGHT,
    FILES_WEIGHT,
    EXTRA_WEIGHT,
    ACCOUNT_WEIGHT,
)
"""bm25 weights in the shards' column order (migration ``0500_search_fields``):
title, content, tags, stream name, attachment file names, extra (joined compounds
and CJK grams), account token."""

TEXT_COLUMNS = "{title content tags stream files extra}"
"""The columns a word is searched in (every one but the account token)."""

EXTRA_COLUMN = "{extra}"
"""Where CJK grams (and joined compounds) are indexed."""

ARCHIVED_TOKEN = "archived0"  # noqa: S105 - an index token, not a secret
"""Beside the account token of an archived entry (migration ``0500_search_fields``)."""

INBOX_TOKEN = "inbox0"  # noqa: S105 - an index token, not a secret
"""Beside the account token of an entry in no stream."""

FTS_SHARDS = "0123456789abcdef"
"""The last hex digit of an account id names the FTS5 table that indexes it."""


def fts_table(account_hex: str) -> str:
    """Return the FTS5 table that indexes the account with id ``account_hex``.

    ``entry_fts_0`` .. ``entry_fts_f`` (migration ``0102_search_shards``), by
    the last hex digit of the id as SQLite stores it, the digit the triggers
    route on: bm25 counts a word's documents and averages lengths over that
    table only, the accounts sharing the digit, not every tenant.
    """
    return f"entry_fts_{account_hex[-1].lower()}"


def _cjk(word: str) -> str:
    """Match a CJK word on its grams in the extra column: a phrase, or one gram's prefix."""
    grams = cjk_grams(word)
    if len(grams) == 1 and len(grams[0]) == 1:
        # One character: every gram it starts (and a run's last character alone).
        return f'{EXTRA_COLUMN} : "{grams[0]}"*'
    return f'{EXTRA_COLUMN} : "{" ".join(grams)}"'


def _alternative(alternative: Alternative, prefix_word: str | None) -> str:
    """Return one alternative: a (stemmed) word, a phrase, or a CJK word's grams."""
    if len(alternative) == 1:
        word = alternative[0]
        if is_cjk(word):
            return _cjk(word)
        return f'"{word}"*' if word == prefix_word else f'"{word}"'
    if any(is_cjk(word) for word in alternative):
        # Grams of separate runs are not adjacent in the index: each word on its own.
        return "(" + " AND ".join(_alternative((word,), None) for word in alternative) + ")"
    return '"' + " ".join(alternative) + '"'


def _clause(clause: Clause, prefix_word: str | None) -> str:
    return "(" + " OR ".join(_alternative(alt, prefix_word) for alt in clause) + ")"


def fts5_match(query: ParsedQuery, match: Match = "all") -> str:
    """Build the FTS5 MATCH text of ``query``'s clauses, restricted to the text columns.

    ``all``: one alternative of every clause; ``any``: of at least one. The
    excluded alternatives are subtracted with ``NOT``. The prefix word (the last
    one, still being typed) also matches longer words.

    Raises:
        ValueError: the query has no terms (callers return no hits instead).

    """
    if not query.terms:
        raise ValueError("query has no terms")
    clauses = query.all_clauses
    if not clauses:
        raise ValueError("query has no clauses")
    prefix_word = query.prefix_word
    joiner = " OR " if match == "any" else " AND "
    positive = f"{TEXT_COLUMNS} : ({joiner.join(_clause(c, prefix_word) for c in clauses)})"
    if not query.excluded:
        return positive
    excluded = " OR ".join(_alternative(alt, None) for alt in query.excluded)
    return f"({positive}) NOT ({TEXT_COLUMNS} : ({excluded}))"


def account_match(account_hex: str, match: str, *, alone: bool = False) -> str:
    """Return the FTS5 MATCH text for ``match`` (see :func:`fts5_match`) in one account only.

    The ``account`` column of the FTS5 tables holds ``a<account id hex>0``
    (migration ``0101_search_accounts``), so FTS5 intersects that token's
    posting list with the words' instead of walking the postings of a common
    word in the other accounts of the same table (:func:`fts_table`). The
    caller still checks ``entry_search_docs.account_id``: isolation does not
    rest on this.

    When the account is ``alone`` in its table the token is left out: it would
    only cost bm25 a walk over the account's whole posting list (its IDF), about
    2.5 ms at 100k entries, to exclude nothing.

    Args:
        account_hex: the account id as SQLite stores it (32 hex digits).
        match: an FTS5 expression built by :func:`fts5_match` (column filters included).
        alone: no other account shares the account's FTS5 table.

    """
    if alone:
        return match
    return f'{{account}} : "a{account_hex}0" AND ({match})'


def counted_match(
    account_hex: str, match: str, is_archived: bool | None, stream: str | None = None
) -> str:
    """Return the MATCH text counting ``match`` in one account by its tokens alone.

    The ``account`` column holds the account's token, the stream's
    (``s<stream id hex>0``, or ``inbox0``) and ``archived0`` for an archived
    entry (migration ``0500_search_fields``): FTS5 counts without a look-up
    per match in ``entry_search_docs`` (about 4x faster for a common word).

    Args:
        account_hex: the account id as SQLite stores it.
        match: from :func:`fts5_match`.
        is_archived: the archive filter (None: either).
        stream: ``inbox``, a stream id as SQLite stores it, or anything else for every stream.

    """
    tokens = [f'{{account}} : "a{account_hex}0"']
    if stream == "inbox":
        tokens.append(f'{{account}} : "{INBOX_TOKEN}"')
    elif stream is not None and stream != "all":
        tokens.append(f'{{account}} : "s{stream}0"')
    if is_archived:
        tokens.append(f'{{account}} : "{ARCHIVED_TOKEN}"')
    scoped = " AND ".join([*tokens, f"({match})"])
    if is_archived is False:
        return f'({scoped}) NOT {{account}} : "{ARCHIVED_TOKEN}"'
    return scoped


def word_match(word: str) -> str:
    """Return the MATCH text of one whole word in the text columns (the prefix check)."""
    return f'{TEXT_COLUMNS} : "{word}"'
