"""Words of a text as every search adapter sees them.

:func:`tokenize` cuts text into the words a query is made of. Two kinds of
text need more than words to be found the way people type:

- **Compounds** (``Wi-Fi``, ``COVID-19``, ``e-mail``): the text's words are
  ``wi`` and ``fi``; :func:`search_extra` also gives the joined ``wifi``, so
  ``wifi``, ``Wi-Fi`` and ``wi fi`` find each other.
- **Chinese, Japanese and Korean** write sentences without spaces, so a whole
  run of such characters is one "word". :func:`search_extra` gives every
  two-character gram of a run (and its last character), and
  :func:`cjk_grams` cuts a query word the same way: any substring of a sentence
  is found.

Adapters index :func:`search_extra` of an entry's text beside its words (a
column weighted like content). Typo tolerance compares a word with the
account's own words by :func:`typo_distance` (:func:`near_words`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = [
    "MAX_TERM_CHARS",
    "STOP_WORDS",
    "cjk_grams",
    "compound_parts",
    "is_cjk",
    "is_term_char",
    "near_words",
    "search_extra",
    "tokenize",
    "typo_distance",
    "vocabulary",
]

MAX_TERM_CHARS = 64
"""Longer "words" (hashes, base64 blobs) are cut to this length."""

# Words so common that requiring them makes a natural-language question find
# nothing ("how did we migrate the database" should not need "how", "did" and
# "we" to appear). They are dropped unless the query has nothing else.
_STOP_WORDS_TEXT = """
    a about above after again against all am an and any are as at be because been
    before being below between both but by can could did do does doing down during
    each few for from further had has have having he her here hers herself him
    himself his how i if in into is it its itself just me more most my myself no nor
    not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these
    they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())


def is_term_char(char: str) -> bool:
    """Whether ``char`` belongs to a word (letter, digit, mark or private use)."""
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
        if is_term_char(char):
            current.append(char)
        elif current:
            words.append("".join(current).lower()[:MAX_TERM_CHARS])
            current = []
    if current:
        words.append("".join(current).lower()[:MAX_TERM_CHARS])
    # A word that starts with a mark (a stray combining accent) is still a word
    # for the engine; drop words that are marks only, they match nothing.
    return [w for w in words if any(unicodedata.category(c)[0] in "LN" for c in w)]


# --- Chinese, Japanese, Korean -----------------------------------------------

_CJK_RANGES = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
    "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # hangul
    "\u31f0-\u31ff\uff66-\uff9f"  # katakana extensions, half-width
    "\U00020000-\U0002fa1f"  # ideograph extensions
)
_CJK_CHAR = re.compile(f"[{_CJK_RANGES}]")
_CJK_RUN = re.compile(f"[{_CJK_RANGES}]+")


def is_cjk(word: str) -> bool:
    """Whether ``word`` holds a Chinese, Japanese or Korean character."""
    return _CJK_CHAR.search(word) is not None


def cjk_grams(word: str) -> tuple[str, ...]:
    """Cut a CJK query word into the grams :func:`search_extra` indexes, in order.

    Two or more characters give their overlapping two-character grams (a
    phrase of them finds the word inside any sentence); one character is
    returned alone, to be matched as a gram prefix (every character of an
    indexed run starts a gram, the last one is indexed alone). Non-CJK
    characters inside the word (``iPhone用``) are dropped: the word index
    finds those.
    """
    runs = _CJK_RUN.findall(word)
    grams: list[str] = []
    for run in runs:
        if len(run) == 1:
            grams.append(run)
        else:
            grams.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tuple(grams)


def _run_grams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [*(run[i : i + 2] for i in range(len(run) - 1)), run[-1]]


# --- compounds ----------------------------------------------------------------

_JOINERS = "-.'\u2019_/\u2010\u2011"
# The look-behind starts a match at a word's start only: without it a failed
# match is retried from every letter of every word (quadratic per word).
_COMPOUND = re.compile(f"(?<![^\\W_])[^\\W_]+(?:[{_JOINERS}][^\\W_]+)+")


def compound_parts(text: str) -> list[tuple[str, ...]]:
    """Return the compounds of ``text`` (``Wi-Fi`` -> ``("wi", "fi")``), lower-cased, in order."""
    found: list[tuple[str, ...]] = []
    for match in _COMPOUND.finditer(text):
        parts = tuple(p for p in tokenize(match.group()) if p)
        if len(parts) > 1:
            found.append(parts)
    return found


def search_extra(*texts: str | None) -> str:
    """Return what an entry's ``texts`` add to its words in the index (space separated).

    The joined form of every compound (``wifi`` for ``Wi-Fi``, ``covid19`` for
    ``COVID-19``) and the grams of every CJK run (``京都``, ``都に``, ...).
    Empty for plain text, which is most text: the index grows only where
    these are.
    """
    out: list[str] = []
    for text in texts:
        if not text:
            continue
        if any(c in text for c in _JOINERS):
            out.extend("".join(parts)[:MAX_TERM_CHARS] for parts in compound_parts(text))
        if not text.isascii():
            for run in _CJK_RUN.findall(unicodedata.normalize("NFC", text)):
                out.extend(_run_grams(run))
    return " ".join(out)


# --- typo tolerance -----------------------------------------------------------

MAX_NEAR_WORDS = 3
"""The most near spellings tried for one word."""


def typo_distance(word: str) -> int:
    """Return how many edits a word of this length may be from its correction.

    None below 4 letters (too many short words are one edit apart), 1 for 4 to
    7 letters, 2 from 8 on. CJK and numbers are never corrected.
    """
    if len(word) < 4 or is_cjk(word) or word.isdigit():
        return 0
    return 1 if len(word) <= 7 else 2


def near_words(word: str, candidates: Iterable[str], *, limit: int = MAX_NEAR_WORDS) -> list[str]:
    """Return the ``candidates`` within :func:`typo_distance` of ``word``, nearest first.

    Edits are insertions, deletions, substitutions and swaps of two
    neighbouring letters (optimal string alignment). ``word`` itself is never
    returned; ties keep the candidates' order.
    """
    allowed = typo_distance(word)
    if not allowed:
        return []
    found = process.extract(
        word,
        [c for c in candidates if c != word and abs(len(c) - len(word)) <= allowed],
        scorer=OSA.distance,
        score_cutoff=allowed,
        limit=None,
    )
    found.sort(key=lambda item: (item[1], item[2]))
    return [choice for choice, _, _ in found[:limit]]


def vocabulary(texts: Sequence[str | None]) -> set[str]:
    """Return the words of ``texts`` a typo may be corrected to (see :func:`typo_distance`)."""
    words: set[str] = set()
    for text in texts:
        if text:
            words.update(w for w in tokenize(text) if len(w) >= 3 and not is_cjk(w))
            words.update(w.replace(" ", "") for w in search_extra(text).split() if not is_cjk(w))
    return words
