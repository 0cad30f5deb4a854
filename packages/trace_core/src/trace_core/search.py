"""Query handling shared by every search adapter.

Whatever a person or a model types is a valid query: quotes, ``-``, ``:``,
``*``, parentheses, ``AND``/``NOT``, emoji and pasted paragraphs. Three bits of
syntax people already know mean what they expect (``"exact phrase"``,
``-word``, ``a OR b``, see :func:`parse_query`); nothing else is syntax and
none of it ever reaches an engine as syntax. The text is cut into *terms*
(runs of letters, digits and combining marks, lower-cased, by
:func:`~trace_core.search_text.tokenize`) and each adapter builds its engine's
query from the parsed clauses, quoting every word (the FTS5 and ``to_tsquery``
texts are written in ``trace_sql.search``, beside their engines).

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
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal, Protocol
from uuid import UUID

import msgspec

from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_QUERY_CHARS
from trace_core.search_text import (
    MAX_TERM_CHARS,
    STOP_WORDS,
    cjk_grams,
    compound_parts,
    is_cjk,
    is_term_char,
    tokenize,
)

__all__ = [
    "ELLIPSIS",
    "HIGHLIGHT_END",
    "HIGHLIGHT_START",
    "MAX_QUERY_TERMS",
    "MAX_TERM_CHARS",
    "MIN_PREFIX_CHARS",
    "SNIPPET_CHARS",
    "STOP_WORDS",
    "Alternative",
    "Clause",
    "Match",
    "OutboxItem",
    "ParsedQuery",
    "SearchOutbox",
    "entry_snippet",
    "fold",
    "grouped_corrections",
    "highlight_snippet",
    "parse_query",
    "stem",
    "term_hits",
    "tokenize",
]

Match = Literal["all", "any"]
"""``all``: every clause is required; ``any``: at least one clause."""

MAX_QUERY_TERMS = 32
"""Terms beyond this many are ignored: a pasted paragraph stays a fast query."""

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

Alternative = tuple[str, ...]
"""One way to satisfy a clause: a word, or a phrase (words that must follow each other)."""

Clause = tuple[Alternative, ...]
"""Alternatives of which an entry must match one (``a OR "b c"``)."""


class ParsedQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A query cut into engine-safe words, with the syntax people already know.

    ``"exact phrase"``, ``-word`` (or ``-"a phrase"``) to exclude and ``OR``
    between two words or phrases; everything else is plain words. Compounds
    typed with a hyphen or dot (``e-mail``, ``COVID-19``) are a phrase of their
    parts or their joined form (``email``). No other character is syntax.

    Attributes:
        text: the query as given, stripped.
        terms: the unique lower-cased words an entry is searched for, in order
            (stop words removed from plain words unless there was nothing
            else), at most :data:`MAX_QUERY_TERMS`; snippets mark these.
        prefix_last: whether the last plain word should also match longer
            words (the person may still be typing it).
        clauses: what an entry must match, one alternative of each (every
            clause for ``match="all"``, at least one for ``"any"``); empty means
            one clause per term.
        excluded: alternatives no hit may match.
        corrected: near spellings of typed words that were added to the
            clauses (typed word, correction), see :meth:`with_corrections`.

    """

    text: str
    terms: tuple[str, ...]
    prefix_last: bool = False
    clauses: tuple[Clause, ...] = ()
    excluded: tuple[Alternative, ...] = ()
    corrected: tuple[tuple[str, str], ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the query has no searchable word (e.g. only emoji, punctuation, exclusions)."""
        return not self.terms

    @property
    def all_clauses(self) -> tuple[Clause, ...]:
        """The clauses, one per term when none were parsed (a query built from terms alone)."""
        return self.clauses or tuple(((t,),) for t in self.terms)

    @property
    def prefix_word(self) -> str | None:
        """The word matched as a prefix too (the last clause's only word), if any."""
        if not self.prefix_last or not self.terms:
            return None
        last = self.all_clauses[-1] if self.all_clauses else ()
        if len(last) >= 1 and last[0] == (self.terms[-1],):
            return self.terms[-1]
        return None

    def plain_words(self) -> list[str]:
        """Return the single words of the clauses (typo candidates), in order, once each."""
        words = [alt[0] for clause in self.all_clauses for alt in clause if len(alt) == 1]
        return list(dict.fromkeys(words))

    def with_corrections(self, near: Mapping[str, Sequence[str]]) -> ParsedQuery:
        """Return this query with ``near[word]`` as alternatives of each clause holding ``word``."""
        added: list[tuple[str, str]] = []
        clauses: list[Clause] = []
        for clause in self.all_clauses:
            alternatives = list(clause)
            for alt in clause:
                if len(alt) == 1:
                    for correction in near.get(alt[0], ()):
                        if (correction,) not in alternatives:
                            alternatives.append((correction,))
                            added.append((alt[0], correction))
            clauses.append(tuple(alternatives))
        terms = tuple(dict.fromkeys([*self.terms, *(c for _, c in added)]))
        return msgspec.structs.replace(
            self,
            terms=terms,
            clauses=tuple(clauses),
            corrected=(*self.corrected, *added),
        )


def grouped_corrections(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Return ``{typed: [near, ...]}`` of ``(typed, near)`` pairs, in their order."""
    grouped: dict[str, list[str]] = {}
    for typed, near in pairs:
        grouped.setdefault(typed, []).append(near)
    return grouped


_QUOTES = '"\u201c\u201d\u201e\u00ab\u00bb'
_TOKEN = re.compile(
    rf"(?P<neg>(?<![^\s(])-)?"
    rf"(?:[{_QUOTES}](?P<phrase>[^{_QUOTES}]*)(?:[{_QUOTES}]|$)|(?P<word>[^\s{_QUOTES}]+))"
)


def parse_query(text: object, *, max_chars: int = MAX_QUERY_CHARS) -> ParsedQuery:
    """Validate a query and parse it.

    Args:
        text: what the person or model typed.
        max_chars: the longest query accepted (checked before the text is walked).

    Returns:
        The parsed query; it may have no terms (only punctuation, emoji or
        exclusions), in which case a search finds nothing rather than failing.

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
    items: list[tuple[bool, bool, Clause]] = []  # (excluded, quoted, alternatives)
    join_next = False
    for match in _TOKEN.finditer(unicodedata.normalize("NFC", stripped)):
        phrase, chunk = match.group("phrase"), match.group("word")
        if chunk == "OR" and items and not items[-1][0]:
            join_next = True
            continue
        negated = match.group("neg") is not None
        quoted = phrase is not None
        if quoted:
            words = tuple(tokenize(phrase))
            found: list[Clause] = [(words,)] if words else []
        else:
            found = _chunk_clauses(chunk or "")
        for clause in found:
            if join_next and not negated:
                was_excluded, was_quoted, before = items.pop()
                items.append((was_excluded, was_quoted or quoted, (*before, *clause)))
            else:
                items.append((negated, quoted, clause))
            join_next = False
        if len(items) > 4 * MAX_QUERY_TERMS:
            break
    positive = [(quoted, alts) for negated, quoted, alts in items if not negated]
    excluded = tuple(dict.fromkeys(alt for negated, _, alts in items if negated for alt in alts))
    # Stop words: a plain one-word clause of a stop word is dropped, unless
    # that leaves nothing (then the query is all stop words: keep them).
    meaningful = [
        (quoted, alts)
        for quoted, alts in positive
        if quoted or len(alts) > 1 or len(alts[0]) > 1 or alts[0][0] not in STOP_WORDS
    ]
    kept = meaningful or positive
    clauses = tuple(dict.fromkeys(alts for _, alts in kept))[:MAX_QUERY_TERMS]
    terms = tuple(dict.fromkeys(w for clause in clauses for alt in clause for w in alt))
    terms = terms[:MAX_QUERY_TERMS]
    # Prefix-match the last word only when the text ends inside that word: the
    # person is still typing it. "deploy " or "deploy." means the word is done.
    last_plain = bool(kept) and not kept[-1][0] and kept[-1][1] == ((terms[-1],),)
    ends_in_word = is_term_char(unicodedata.normalize("NFC", text)[-1])
    prefix_last = bool(
        last_plain
        and ends_in_word
        and not stripped.endswith(('"', "\u201d"))
        and len(terms[-1]) >= MIN_PREFIX_CHARS
        and not is_cjk(terms[-1])
        and not items[-1][0]
    )
    return ParsedQuery(
        text=stripped,
        terms=terms,
        prefix_last=prefix_last,
        clauses=clauses,
        excluded=excluded[:MAX_QUERY_TERMS],
    )


def _chunk_clauses(chunk: str) -> list[Clause]:
    """Return the clauses of one space-free chunk of a query.

    ``deploy`` -> one word; ``e-mail`` (a compound) -> its parts as a phrase
    or joined (``email``); words glued by other punctuation (``apples,pears``)
    -> one clause per word, as if spaces separated them.
    """
    words = tuple(tokenize(chunk))
    if len(words) <= 1:
        return [(words,)] if words else []
    compounds = compound_parts(chunk)
    if len(compounds) == 1 and compounds[0] == words:
        return [(words, ("".join(words)[:MAX_TERM_CHARS],))]
    return [((w,),) for w in words]


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
        # CJK stays as written: folding would cut a hangul syllable to its first
        # jamo and strip kana voicing (CJK query words are not folded either).
        folded = char.lower() if is_cjk(char) else fold(char)
        self[code] = value = folded[0] if folded else char
        return value


_FOLD_TABLE = _FoldTable()


_NON_ASCII_RUN = re.compile(r"([^\x00-\x7f]+)")


def _folded(text: str) -> str:
    # Same length as ``text``, so match offsets point into the original.
    if text.isascii():
        return text.lower()
    # Notes are mostly ASCII: lower-case those stretches in C and look up
    # only the rest in the table (per character: three times slower).
    return "".join(
        piece.translate(_FOLD_TABLE) if i % 2 else piece.lower()
        for i, piece in enumerate(_NON_ASCII_RUN.split(text))
    )


@functools.lru_cache(maxsize=1024)
def _candidates(stem_: str, whole: bool) -> re.Pattern[str]:
    """Return the pattern of the words that start with ``stem_`` (each checked by the caller).

    One literal per pattern lets ``re`` jump from one occurrence to the next
    as ``str.find`` does (an alternation of stems tests every letter); the
    look-behind then drops an occurrence inside a longer word. A ``whole``
    stem matches only as a word of its own (a stem shorter than three
    letters is the word itself, see :func:`stem`).
    """
    literal = re.escape(stem_)
    return re.compile(rf"{literal}(?<![^\W_]{literal})" + (r"(?![^\W_])" if whole else r"[^\W_]*"))


def _words_starting(folded: str, stems: Sequence[str], prefix: str | None) -> list[re.Match[str]]:
    """Return the words of ``folded`` that start with one of ``stems``, in order.

    ``prefix`` is the stem that also matches as the start of a longer word
    (the last word of a query typed as a prefix).
    """
    # In ASCII text a word is its own fold, so a short stem matches only itself.
    ascii_text = folded.isascii()
    starts: dict[int, re.Match[str]] = {}
    for stem_ in dict.fromkeys(stems):
        whole = ascii_text and len(stem_) < 3 and stem_ != prefix
        for m in _candidates(stem_, whole).finditer(folded):
            starts.setdefault(m.start(), m)
    return [starts[start] for start in sorted(starts)]


def _word_matches(
    text: str, folded: str, stems: Sequence[str], prefix_last: bool
) -> list[tuple[int, int, int]]:
    """Return where the words and compounds of ``text`` match ``stems`` (``""``: a CJK term).

    ``(start, end, stem index)`` in the order of the text, words before
    compounds; ``folded`` is :func:`_folded` of ``text``.
    """
    found: list[tuple[int, int, int]] = []
    if not any(stems):
        return found
    last = len(stems) - 1
    prefix = stems[last] if prefix_last else None
    for m in _words_starting(folded, [s for s in stems if s], prefix):
        word = m.group()
        word_stem = stem(word)
        for i, term_stem in enumerate(stems):
            if not term_stem:
                continue
            if (prefix_last and i == last and word.startswith(term_stem)) or (
                word_stem == term_stem
            ):
                found.append((m.start(), m.end(), i))
                break
    if not text.isascii() or any(c in text for c in "-.'/_"):
        joined = {s: i for i, s in enumerate(stems) if s}
        initials = "".join(sorted({s[0] for s in stems if s}))
        for m in _compounds(folded, initials):
            parts = compound_parts(m.group())
            index = joined.get(stem("".join(parts[0]))) if parts else None
            if index is not None:
                found.append((m.start(), m.end(), index))
    return found


def _matches(text: str, terms: Sequence[str], prefix_last: bool) -> list[tuple[int, int, int]]:
    """Return ``(start, end, term index)`` of every place of ``text`` a term matches.

    A word matches by stem (the last term also as a prefix when
    ``prefix_last``); a CJK term matches as a substring; a term that is the
    joined form of a compound (``wifi``) matches the compound (``Wi-Fi``).
    """
    if not text or not terms:
        return []
    folded = _folded(text)
    cjk = [is_cjk(t) for t in terms]
    stems = tuple("" if cjk[i] else stem(t) for i, t in enumerate(terms))
    found = _word_matches(text, folded, stems, prefix_last)
    for i, term in enumerate(terms):
        if cjk[i]:
            for gram in dict.fromkeys(cjk_grams(term)) if len(term) > 8 else (term,):
                start = folded.find(gram)
                while start >= 0:
                    found.append((start, start + len(gram), i))
                    start = folded.find(gram, start + len(gram))
    if len(found) > 1:
        found.sort()
        merged = [found[0]]
        for item in found[1:]:
            if item[0] >= merged[-1][1]:
                merged.append(item)
        found = merged
    return found


# Starts at a word's start only (the look-behind): without it a failed match
# is retried from every letter of every word, most of a snippet's time.
_COMPOUND_RE = re.compile(r"(?<![^\W_])[^\W_]+(?:[-.'\u2019_/\u2010\u2011][^\W_]+)+")
_JOINERS = "-.'\u2019_/\u2010\u2011"


_JOINED = tuple(
    (joiner, re.compile(rf"{re.escape(joiner)}(?<=[^\W_].)(?=[^\W_])")) for joiner in _JOINERS
)
"""Each joiner with the pattern of it between two word characters (inside a compound).

One literal per pattern: ``re`` jumps between its occurrences; a class of
all the joiners is tested at every character (twice as slow on notes).
"""


def _joined_at(text: str) -> list[int]:
    """Return where in ``text`` a joiner stands between two word characters, in order."""
    found: list[int] = []
    for joiner, pattern in _JOINED:
        if joiner in text:
            found.extend(m.start() for m in pattern.finditer(text))
    found.sort()
    return found


def _compounds(text: str, initials: str) -> Iterator[re.Match[str]]:
    """Yield the compounds of ``text`` that start with one of ``initials``.

    The compounds :data:`_COMPOUND_RE` finds, looked for only between the
    spaces around a joiner that has word characters on both sides (rare in
    ordinary notes: a sentence's full stop is followed by a space); a
    compound holds no space. Trying the compound pattern at every word, or
    at every letter that starts a query word, measured many times slower. A
    compound's joined form starts with its first word's first letter, so those
    that start with none of ``initials`` (the first letters of the query's
    stems) cannot match a query word.
    """
    end = 0
    for at in _joined_at(text):
        if at < end:
            continue
        start = text.rfind(" ", end, at) + 1 or end
        stop = text.find(" ", at)
        end = len(text) if stop < 0 else stop
        for found in _COMPOUND_RE.finditer(text, start, end):
            if text[found.start()] in initials:
                yield found


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
