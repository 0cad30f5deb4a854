"""A parsed query in Meilisearch's query syntax.

Meilisearch (>= 1.8) reads three things in ``q``: words, ``"a phrase"`` and
the negative operator (``-word``, ``-"a phrase"``, after a space or at the
start). A :class:`~trace_core.search.ParsedQuery` holds nothing else but
``OR``, which Meilisearch has no syntax for. Every word of a parsed query is
letters, digits and marks only, so nothing rendered here can be read as
anything but what it is.

OR: a query whose clauses have several alternatives (``dessert OR cake``,
a compound typed as ``e-mail``: the phrase ``"e mail"`` or ``email``) is
searched as its *variants*, the queries that pick one alternative of every
clause (``dessert`` and ``cake``), in one federated multi-search
(Meilisearch >= 1.10) which merges them by ranking score, returns each
document once and counts their union. At most :data:`MAX_VARIANTS` are sent:
when the clauses combine into more, the i-th variant takes the i-th
alternative of every clause (the first again where a clause has fewer), so each
of the first :data:`MAX_VARIANTS` alternatives of a clause is still searched,
though not with every other clause's. Typo corrections the facade adds are
alternatives like the others (Meilisearch corrects typos itself, so
:meth:`MeilisearchIndex.similar_words` adds none).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from trace_core.search import Alternative, ParsedQuery
from trace_core.search_text import is_cjk

__all__ = ["MAX_VARIANTS", "render", "variants"]

MAX_VARIANTS = 8
"""The most queries one search sends to Meilisearch (one per combination of alternatives)."""


def _term(alternative: Alternative) -> str:
    if len(alternative) == 1:
        return alternative[0]
    return '"' + " ".join(alternative) + '"'


def _excluded(alternative: Alternative) -> str:
    # Meilisearch's "-" applies to the next token only; a word its tokenizer
    # may cut in several (Chinese, Japanese, Thai, ...) is excluded as a phrase.
    if len(alternative) == 1 and alternative[0].isascii():
        return alternative[0]
    return '"' + " ".join(alternative) + '"'


def render(
    alternatives: Sequence[Alternative],
    excluded: Sequence[Alternative] = (),
    *,
    prefix_word: str | None = None,
) -> str:
    """Return Meilisearch's ``q`` for one alternative per clause, minus ``excluded``.

    Exclusions come first: Meilisearch reads the first ten terms of a query
    only and stops reading there, so an exclusion after them would be lost.
    The last word is matched as a prefix by Meilisearch when it ends the
    text; unless it is ``prefix_word`` a space follows it, so it is a whole
    word. A Chinese, Japanese or Korean last word is left open: Meilisearch
    cuts it into words, and the last piece typed (``京都に行``) is often the
    start of a longer word in the text (``行き``).
    """
    parts = [f"-{_excluded(alt)}" for alt in excluded if alt]
    parts.extend(_term(alt) for alt in alternatives if alt)
    text = " ".join(parts)
    last = alternatives[-1] if alternatives else ()
    if (prefix_word is not None and last == (prefix_word,)) or (last and is_cjk(last[-1])):
        return text
    return text + " "


def variants(query: ParsedQuery) -> list[str]:
    """Return the ``q`` of each variant of ``query`` (see the module), most typed first.

    One for a query without ``OR`` or compounds; none for a query without terms.
    """
    if query.is_empty:
        return []
    clauses = [clause for clause in query.all_clauses if clause]
    if not clauses:
        return []
    total = 1
    for clause in clauses:
        total *= len(clause)
    picks: list[tuple[Alternative, ...]]
    if total <= MAX_VARIANTS:
        picks = list(itertools.product(*clauses))
    else:
        widest = max(len(clause) for clause in clauses)
        picks = [
            tuple(clause[i] if i < len(clause) else clause[0] for clause in clauses)
            for i in range(min(widest, MAX_VARIANTS))
        ]
    rendered = (render(pick, query.excluded, prefix_word=query.prefix_word) for pick in picks)
    return list(dict.fromkeys(rendered))
