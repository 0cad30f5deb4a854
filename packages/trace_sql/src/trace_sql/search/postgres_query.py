r"""The PostgreSQL ``tsquery`` of a parsed query: every word quoted, never syntax from the user.

A :class:`~trace_core.search.ParsedQuery` becomes one SQL expression of type
``tsquery``, made of ``to_tsquery`` calls on texts built here:

- a plain word is a quoted lexeme, stemmed by the configured text-search
  language (``'deploy'``); the last word also as a prefix (``'deploy':*``);
- a phrase is its words joined by ``<->`` (must follow each other);
- alternatives of a clause are joined by ``|``, clauses by ``&`` (every clause,
  ``match="all"``) or ``|`` (``"any"``); each excluded alternative adds
  ``& !(...)``;
- a Chinese, Japanese or Korean word is matched on the grams the index holds
  in ``search_extra`` (:func:`~trace_core.search_text.cjk_grams`): a phrase of
  its two-character grams, or one character as a gram prefix (``'桜':*``).
  Grams are indexed with the ``simple`` configuration (never stemmed), so
  their part of the query is a ``to_tsquery('simple', ...)``, combined with
  the rest by the ``&&``, ``||`` and ``!!`` operators.

Words are made of letters, digits and marks only
(:func:`~trace_core.search_text.tokenize`);
they are still escaped for the ``tsquery`` text (``'`` and ``\\``) and that
text again for the SQL literal, so no input can become syntax.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from trace_core.search import Alternative, Match, ParsedQuery, fold
from trace_core.search_text import cjk_grams, is_cjk

__all__ = ["GRAM_CONFIG", "folded_query", "tsquery", "tsquery_sql"]

GRAM_CONFIG = "simple"
"""The text-search configuration of ``search_extra`` (CJK grams, joined compounds)."""

_LANG = "lang"
_GRAMS = "grams"


class _Node(msgspec.Struct, frozen=True):
    """A part of the query: a leaf (config, tsquery text) or an operator over parts."""

    op: str  # "leaf", "&", "|" or "!"
    config: str = ""
    text: str = ""
    children: tuple[_Node, ...] = ()


def _leaf(config: str, text: str) -> _Node:
    return _Node("leaf", config, text)


def _join(op: str, nodes: Sequence[_Node]) -> _Node:
    flat = [grand for node in nodes for grand in (node.children if node.op == op else (node,))]
    return flat[0] if len(flat) == 1 else _Node(op, children=tuple(flat))


def _lexeme(word: str, *, prefix: bool = False) -> str:
    escaped = word.replace("\\", "\\\\").replace("'", "''")
    return f"'{escaped}'" + (":*" if prefix else "")


def _gram_text(word: str) -> str | None:
    """Return the tsquery text that finds a CJK word among the indexed grams."""
    grams = cjk_grams(word)
    if not grams:
        return None
    if len(grams) == 1 and len(grams[0]) == 1:
        return _lexeme(grams[0], prefix=True)
    return " <-> ".join(_lexeme(g) for g in grams)


def _alternative(alt: Alternative, prefix_word: str | None) -> _Node | None:
    """Return the node of one alternative (a word or a phrase); None if it can match nothing."""
    if len(alt) == 1 and not is_cjk(alt[0]):
        return _leaf(_LANG, _lexeme(alt[0], prefix=alt[0] == prefix_word))
    # A phrase: runs of plain words stay phrases; a CJK word inside cannot be
    # next to a plain word in the index (its grams live in search_extra), so
    # it is required beside them instead.
    parts: list[_Node] = []
    run: list[str] = []
    for word in alt:
        if not is_cjk(word):
            run.append(_lexeme(word))
            continue
        if run:
            parts.append(_leaf(_LANG, " <-> ".join(run)))
            run = []
        text = _gram_text(word)
        if text is not None:
            parts.append(_leaf(_GRAMS, text))
    if run:
        parts.append(_leaf(_LANG, " <-> ".join(run)))
    return _join("&", parts) if parts else None


def _tree(query: ParsedQuery, match: Match) -> _Node:
    prefix_word = query.prefix_word
    clauses: list[_Node] = []
    for clause in query.all_clauses:
        alternatives = [
            node for alt in clause if (node := _alternative(alt, prefix_word)) is not None
        ]
        if alternatives:
            clauses.append(_join("|", alternatives))
    if not clauses:
        raise ValueError("query has no terms")
    positive = _join("|" if match == "any" else "&", clauses)
    excluded = [
        _Node("!", children=(node,))
        for alt in query.excluded
        if (node := _alternative(alt, None)) is not None
    ]
    return _join("&", [positive, *excluded])


def _config_of(node: _Node) -> str | None:
    """Return the one config every leaf of ``node`` has, or None if they differ."""
    if node.op == "leaf":
        return node.config
    configs = {_config_of(child) for child in node.children}
    return configs.pop() if len(configs) == 1 else None


def _text(node: _Node, *, nested: bool = False) -> str:
    """Return the tsquery text of a node whose leaves share one config."""
    if node.op == "leaf":
        return node.text
    if node.op == "!":
        return f"!({_text(node.children[0])})"
    text = f" {node.op} ".join(_text(child, nested=True) for child in node.children)
    return f"({text})" if nested else text


def _sql(node: _Node, language: str) -> str:
    """Return the SQL of ``node``: one to_tsquery per part that has one config."""
    config = _config_of(node)
    if config is not None:
        name = GRAM_CONFIG if config == _GRAMS else language
        literal = _text(node).replace("'", "''")
        return f"to_tsquery('{name}'::regconfig, '{literal}')"
    if node.op == "!":
        return f"(!! {_sql(node.children[0], language)})"
    sql_op = " && " if node.op == "&" else " || "
    return "(" + sql_op.join(_sql(child, language) for child in node.children) + ")"


def tsquery_sql(query: ParsedQuery, match: Match = "all", *, language: str) -> str:
    r"""Return the SQL expression (type ``tsquery``) that finds what ``query`` asks for.

    Args:
        query: the final query (words folded like the index when it unaccents,
            see :func:`folded_query`).
        match: ``all`` (every clause) or ``any`` (at least one).
        language: the text-search configuration of the entries' words; it must
            already be a checked identifier (it is rendered as a literal).

    Raises:
        ValueError: the query has no terms.

    """
    if query.is_empty:
        raise ValueError("query has no terms")
    return _sql(_tree(query, match), language)


def tsquery(query: ParsedQuery, match: Match = "all") -> str:
    r"""Return the ``to_tsquery`` text of a query without CJK words.

    What the language's ``to_tsquery`` takes; :func:`tsquery_sql` is the whole
    query (CJK grams need the ``simple`` configuration beside the language's).

    Raises:
        ValueError: the query has no terms, or holds CJK words.

    """
    if query.is_empty:
        raise ValueError("query has no terms")
    node = _tree(query, match)
    if _config_of(node) != _LANG:
        raise ValueError("the query holds CJK words: use tsquery_sql")
    return _text(node)


def _fold_word(word: str) -> str:
    # CJK is never folded: NFKD would take hangul apart and strip kana's
    # voicing marks, which unaccent (on the index side) leaves alone.
    return word if is_cjk(word) else (fold(word) or word)


def _fold_alternative(alt: Alternative) -> Alternative:
    return tuple(_fold_word(word) for word in alt)


def folded_query(query: ParsedQuery) -> ParsedQuery:
    """Return ``query`` with accents stripped from its words, as the unaccenting trigger does."""
    clauses = tuple(
        tuple(dict.fromkeys(_fold_alternative(alt) for alt in clause))
        for clause in query.all_clauses
    )
    return msgspec.structs.replace(
        query,
        terms=tuple(dict.fromkeys(_fold_word(t) for t in query.terms)),
        clauses=clauses,
        excluded=tuple(dict.fromkeys(_fold_alternative(alt) for alt in query.excluded)),
    )
