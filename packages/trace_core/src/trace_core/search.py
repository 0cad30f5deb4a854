"""Query handling shared by every search adapter.

Whatever a person or a model types is a valid query: quotes, ``-``, ``:``,
``*``, parentheses, ``AND``/``OR``/``NOT``, emoji and pasted paragraphs. None of
it ever reaches an engine as syntax. The text is cut into *terms* (runs of
letters, digits and combining marks, lower-cased) and each adapter builds its
engine's query from those terms only, quoting every one (the FTS5 and
``to_tsquery`` texts are written in ``trace_sql.search``, beside their engines;
the Meilisearch adapter sends the terms joined by spaces).

A term is made of letters, digits and marks only, so wrapping it in the
engine's quote character cannot be escaped out of.

A query is at most :data:`~trace_core.limits.MAX_QUERY_CHARS` characters,
checked before anything walks it, so the work one query causes is bounded.
Search pages are addressed by signed cursors (:mod:`trace_core.cursors`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Literal, Protocol
from uuid import UUID

import msgspec

from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_QUERY_CHARS

__all__ = [
    "ELLIPSIS",
    "HIGHLIGHT_END",
    "HIGHLIGHT_START",
    "MAX_QUERY_TERMS",
    "MAX_TERM_CHARS",
    "MIN_PREFIX_CHARS",
    "SNIPPET_CHARS",
    "STOP_WORDS",
    "Match",
    "OutboxItem",
    "ParsedQuery",
    "SearchOutbox",
    "entry_snippet",
    "fold",
    "highlight_snippet",
    "parse_query",
    "stem",
    "term_hits",
    "tokenize",
]

Match = Literal["all", "any"]
"""``all``: every term is required; ``any``: at least one term."""

MAX_QUERY_TERMS = 32
"""Terms beyond this many are ignored: a pasted paragraph stays a fast query."""

MAX_TERM_CHARS = 64
"""Longer "words" (hashes, base64 blobs) are cut to this length."""

MIN_PREFIX_CHARS = 2
"""The last word is matched as a prefix only from this length on (1 char would match everything)."""

HIGHLIGHT_START = "**"
"""Marks the start of a matched term in a snippet (Markdown bold, readable by people and models)."""

HIGHLIGHT_END = "**"
"""Marks the end of a matched term in a snippet."""

ELLIPSIS = "…"
"""Marks text cut off before or after a snippet."""

SNIPPET_CHARS = 200
"""Target length of a snippet, in characters."""

# Words so common that requiring them makes a natural-language question find
# nothing ("how did we migrate the database" should not need "how", "did" and
# "we" to appear). They are dropped unless the query has nothing else.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


def _is_term_char(char: str) -> bool:
    # Letters, numbers and marks (so "naïve" in decomposed form stays one word),
    # plus private-use characters, like SQLite's unicode61 tokenizer.
    category = unicodedata.category(char)
    return category[0] in "LNM" or category == "Co"


def tokenize(text: str) -> list[str]:
    """Cut ``text`` into lower-cased words of letters, digits and marks.

    Everything else (spaces, punctuation, symbols, emoji, control characters)
    separates words. Words longer than :data:`MAX_TERM_CHARS` are cut.

    Args:
        text: any string.

    Returns:
        The words in order, duplicates kept.

    """
    words: list[str] = []
    current: list[str] = []
    for char in unicodedata.normalize("NFC", text):
        if _is_term_char(char):
            current.append(char)
        elif current:
            words.append("".join(current).lower()[:MAX_TERM_CHARS])
            current = []
    if current:
        words.append("".join(current).lower()[:MAX_TERM_CHARS])
    # A word that starts with a mark (a stray combining accent) is still a word
    # for the engine; drop words that are marks only, they match nothing.
    return [w for w in words if any(unicodedata.category(c)[0] in "LN" for c in w)]


class ParsedQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A query cut into engine-safe terms.

    Attributes:
        text: the query as given, stripped.
        terms: unique lower-cased terms in order of first appearance, stop words
            removed unless there was nothing else, at most
            :data:`MAX_QUERY_TERMS`.
        prefix_last: whether the last term should also match longer words (the
            person may still be typing it).

    """

    text: str
    terms: tuple[str, ...]
    prefix_last: bool = False

    @property
    def is_empty(self) -> bool:
        """Whether the query has no searchable word (e.g. only emoji or punctuation)."""
        return not self.terms


def parse_query(text: object, *, max_chars: int = MAX_QUERY_CHARS) -> ParsedQuery:
    """Validate a query and cut it into terms.

    Args:
        text: what the person or model typed.
        max_chars: the longest query accepted (checked before the text is walked).

    Returns:
        The parsed query; it may have no terms (only punctuation or emoji), in
        which case a search finds nothing rather than failing.

    Raises:
        InvalidInputError: ``query`` is not a string, is empty or blank, or is
            longer than ``max_chars``.

    """
    if not isinstance(text, str):
        raise InvalidInputError("query", "must be a string")
    if len(text) > max_chars:
        raise InvalidInputError(
            "query",
            f"is {len(text):,} characters long; at most {max_chars:,} (a few hundred words: "
            f"only the first {MAX_QUERY_TERMS} words are searched)",
        )
    stripped = text.strip()
    if not stripped:
        raise InvalidInputError("query", "must not be empty: give one or more words to search for")
    words = tokenize(stripped)
    unique = list(dict.fromkeys(words))
    meaningful = [w for w in unique if w not in STOP_WORDS]
    terms = tuple((meaningful or unique)[:MAX_QUERY_TERMS])
    # Prefix-match the last word only when the text ends inside that word: the
    # person is still typing it. "deploy " or "deploy." means the word is done.
    ends_in_word = _is_term_char(unicodedata.normalize("NFC", text)[-1])
    prefix_last = bool(
        terms
        and words
        and ends_in_word
        and words[-1] == terms[-1]
        and len(terms[-1]) >= MIN_PREFIX_CHARS
    )
    return ParsedQuery(text=stripped, terms=terms, prefix_last=prefix_last)


# --- matching in Python (reference index, snippets) ---------------------------

_SUFFIXES = (
    "ments",
    "ment",
    "ings",
    "ing",
    "ions",
    "ion",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "ly",
    "s",
)


@functools.lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """Lower-case and strip diacritics (``Café`` → ``cafe``)."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Return a crude English stem, enough for "migrating" to meet "migration".

    The SQL engines use real stemmers (Porter, Snowball); this one serves the
    in-memory reference index and snippet highlighting.
    """
    word = fold(word)
    for suffix in _SUFFIXES:
        if len(word) - len(suffix) >= 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


_WORD_RE = re.compile(r"[^\W_]+")


class _FoldTable(dict[int, str]):
    """``str.translate`` table folding each character to one character, filled on demand."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = fold(char)
        self[code] = value = folded[0] if folded else char
        return value


_FOLD_TABLE = _FoldTable()


def _folded(text: str) -> str:
    # Same length as ``text``, so match offsets point into the original.
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TABLE)


@functools.lru_cache(maxsize=256)
def _candidates(stems: tuple[str, ...]) -> re.Pattern[str]:
    # Words that start with one of the stems; each is then checked exactly.
    alternatives = "|".join(re.escape(s) for s in sorted(set(stems), key=len, reverse=True))
    # No look-behind: a pattern that starts with literals lets ``re`` skip
    # ahead quickly; the word boundary before a match is checked by the caller.
    return re.compile(rf"(?:{alternatives})[^\W_]*")


def _matches(text: str, terms: Sequence[str], prefix_last: bool) -> list[tuple[int, int, int]]:
    """Return ``(start, end, term index)`` of every word of ``text`` a term matches."""
    stems = tuple(stem(t) for t in terms)
    if not text or not any(stems):
        return []
    found: list[tuple[int, int, int]] = []
    last = len(stems) - 1
    folded = _folded(text)
    for m in _candidates(tuple(s for s in stems if s)).finditer(folded):
        start = m.start()
        if start and folded[start - 1].isalnum():
            continue  # inside a longer word
        word = m.group()
        word_stem = stem(word)
        for i, term_stem in enumerate(stems):
            if not term_stem:
                continue
            if (prefix_last and i == last and word.startswith(term_stem)) or word_stem == term_stem:
                found.append((m.start(), m.end(), i))
                break
    return found


def highlight_snippet(
    text: str,
    terms: Sequence[str],
    *,
    prefix_last: bool = False,
    size: int = SNIPPET_CHARS,
) -> str:
    """Return about ``size`` characters of ``text`` around the best match, terms marked.

    The window with the most matched terms wins; matched words are wrapped in
    :data:`HIGHLIGHT_START`/:data:`HIGHLIGHT_END` and cut-off ends get
    :data:`ELLIPSIS`. Text without a match gives its beginning, unmarked.

    Args:
        text: the entry text (content, or title).
        terms: query terms as from :func:`parse_query`.
        prefix_last: match the last term as a prefix too.
        size: target snippet length in characters.

    """
    found = _matches(text, terms, prefix_last)
    return _highlight(text, [(start, end) for start, end, _ in found], size)


def _highlight(text: str, matches: list[tuple[int, int]], size: int) -> str:
    if not matches:
        cut = text[:size]
        return cut + (ELLIPSIS if len(text) > size else "")
    # Best window: the one starting near a match that covers the most matches.
    best_start, best_count, j = matches[0][0], 0, 0
    for i, (start, _) in enumerate(matches):
        j = max(j, i)
        while j < len(matches) and matches[j][1] <= start + size:
            j += 1
        if j - i > best_count:
            best_start, best_count = start, j - i
    # Give some context before the first matched word, at a word boundary.
    start = max(0, best_start - size // 4)
    if start > 0:
        space = text.rfind(" ", 0, start + 1)
        start = space + 1 if space >= 0 and best_start - space < size // 2 else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        if space > best_start:
            end = space
    pieces: list[str] = [ELLIPSIS] if start > 0 else []
    pos = start
    for s, e in matches:
        if s < start or e > end:
            continue
        pieces.append(text[pos:s])
        pieces.append(f"{HIGHLIGHT_START}{text[s:e]}{HIGHLIGHT_END}")
        pos = e
    pieces.append(text[pos:end])
    if end < len(text):
        pieces.append(ELLIPSIS)
    return "".join(pieces)


def term_hits(text: str, terms: Sequence[str], *, prefix_last: bool = False) -> list[int]:
    """Count, for each term, how many words of ``text`` it matches (stemmed, folded)."""
    counts = [0] * len(terms)
    for _, _, i in _matches(text, terms, prefix_last):
        counts[i] += 1
    return counts


def entry_snippet(title: str | None, content: str, tags: Sequence[str], query: ParsedQuery) -> str:
    """Return the snippet of an entry: from the content if a term is there, else title or tags.

    Adapters whose engine cannot mark stems or prefixes cheaply use this for
    the page of hits they return.
    """
    for text in (content, title or "", " ".join(tags)):
        found = _matches(text, query.terms, query.prefix_last)
        if found:
            return _highlight(text, [(start, end) for start, end, _ in found], SNIPPET_CHARS)
    return _highlight(content, [], SNIPPET_CHARS)


# --- outbox (for search engines outside the database) --------------------------


class OutboxItem(msgspec.Struct, frozen=True, kw_only=True):
    """One recorded change: entry ``entry_id`` of ``account_id`` was written or purged.

    The worker looks the entry up when it drains the item, so the item carries
    no content: whatever the entry is then (live, deleted, gone) is what the
    index gets.
    """

    id: int
    account_id: UUID
    entry_id: UUID
    attempts: int = 0


class SearchOutbox(Protocol):
    """Changes waiting to reach an external search index, written with the entries."""

    async def enable(self) -> None:
        """Start recording changes (idempotent)."""
        ...

    async def claim(self, limit: int, *, now: float) -> list[OutboxItem]:
        """Return up to ``limit`` items due at ``now`` (epoch seconds), oldest first."""
        ...

    async def complete(self, ids: Sequence[int]) -> None:
        """Forget items that reached the index."""
        ...

    async def retry(self, ids: Sequence[int], *, available_at: float, error: str) -> None:
        """Count a failed attempt and hide the items until ``available_at``."""
        ...

    async def pending(self) -> int:
        """Return how many items wait (for health checks and tests)."""
        ...
