"""The snippet matcher's fast scan finds exactly what a plain scan of every word finds.

``trace_core.search._word_matches`` looks for the query's stems with one
literal pattern each and for compounds only around joiners between word
characters, and ``_folded`` folds ASCII stretches apart; the references below
are the straightforward versions they replaced (an alternation of every stem,
the compound pattern tried at every letter that starts a query word, the fold
of every character), kept here as the oracles.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterator, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from trace_core import search as sq
from trace_core.search_text import compound_parts, is_cjk

_JOINERS = "-.'\u2019_/\u2010\u2011"
_COMPOUND_RE = re.compile(r"(?<![^\W_])[^\W_]+(?:[-.'\u2019_/\u2010\u2011][^\W_]+)+")
_WORD_CHAR_RE = re.compile(r"[^\W_]")


def _fold_char(char: str) -> str:
    folded = char.lower() if is_cjk(char) else sq.fold(char)
    return folded[0] if folded else char


def _folded(text: str) -> str:
    return "".join(_fold_char(c) for c in text)


@functools.lru_cache(maxsize=64)
def _candidates(stems: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(s) for s in sorted(set(stems), key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})[^\W_]*")


def _compounds(text: str, initials: str) -> Iterator[re.Match[str]]:
    first = "".join(re.escape(c) for c in initials)
    starts = re.compile(rf"[{first}][^\W_]*[{re.escape(_JOINERS)}][^\W_]")
    end = 0
    for candidate in starts.finditer(text):
        start = candidate.start()
        if start < end:
            continue
        while start > 0 and (
            _WORD_CHAR_RE.match(text, start - 1)
            or (text[start - 1] in _JOINERS and start > 1 and _WORD_CHAR_RE.match(text, start - 2))
        ):
            start -= 1
        found = _COMPOUND_RE.match(text, start)
        if found is not None and found.end() > end:
            end = found.end()
            yield found


def reference_word_matches(
    folded: str, stems: Sequence[str], prefix_last: bool
) -> list[tuple[int, int, int]]:
    found: list[tuple[int, int, int]] = []
    if not any(stems):
        return found
    last = len(stems) - 1
    for m in _candidates(tuple(s for s in stems if s)).finditer(folded):
        start = m.start()
        if start and folded[start - 1].isalnum():
            continue
        word = m.group()
        word_stem = sq.stem(word)
        for i, term_stem in enumerate(stems):
            if not term_stem:
                continue
            if (prefix_last and i == last and word.startswith(term_stem)) or (
                word_stem == term_stem
            ):
                found.append((m.start(), m.end(), i))
                break
    joined = {s: i for i, s in enumerate(stems) if s}
    initials = "".join(sorted({s[0] for s in stems if s}))
    for m in _compounds(folded, initials):
        parts = compound_parts(m.group())
        index = joined.get(sq.stem("".join(parts[0]))) if parts else None
        if index is not None:
            found.append((m.start(), m.end(), index))
    return found


_PIECES = [
    "e",
    "mail",
    "e-mail",
    "email",
    "E-Mail",
    "wi-fi",
    "Wi\u2011Fi",
    "wifi",
    "meet",
    "meeting",
    "meetings",
    "migration",
    "migrating",
    "follow-up",
    "example.org/review/5",
    "don't",
    "COVID-19",
    "covid19",
    "caf\u00e9",
    "Caf\u00c9",
    "\u00fcber",
    "stra\u00dfe",
    "\ufb01le",
    "cafes",
    "files",
    "Fil",
    "\u4eac\u90fd",
    "\u685c",
    "\ube44\ube54\ubc25",
    "a",
    "an",
    "the",
    "x_y",
    "e.g.",
    "3.14",
    " ",
    " ",
    " ",
    ". ",
    ", ",
    "\n",
    "-",
    "'",
    "/",
    "\u2019",
]
_ascii = [p for p in _PIECES if p.isascii()]
_texts = (
    st.lists(st.sampled_from(_ascii) | st.text(alphabet=string.printable, max_size=4), max_size=30)
    | st.lists(st.sampled_from(_PIECES) | st.text(max_size=4), max_size=30)
).map("".join)
_one_term = st.sampled_from(
    [
        "e",
        "mail",
        "email",
        "wifi",
        "meet",
        "meeting",
        "migration",
        "followup",
        "covid19",
        "cafe",
        "uber",
        "file",
        "\u4eac\u90fd",
        "\u685c",
        "an",
        "x",
    ]
) | st.text(alphabet=st.characters(categories=["Ll", "Lu", "Nd", "Lo"]), min_size=1, max_size=5)


@settings(max_examples=500, deadline=None)
@given(text=_texts, data=st.data(), prefix_last=st.booleans())
def test_the_fast_scan_matches_the_plain_one(
    text: str, data: st.DataObject, prefix_last: bool
) -> None:
    # Terms are often the text's own words, cut or not, so that most examples match.
    words = re.findall(r"[^\W_]+", text)
    own = st.sampled_from(words).flatmap(lambda w: st.sampled_from([w, w[:3], w[:-1] or w]))
    terms = data.draw(st.lists(own | _one_term if words else _one_term, min_size=1, max_size=4))
    folded = sq._folded(text)
    assert folded == _folded(text)
    stems = tuple("" if is_cjk(t) else sq.stem(t) for t in terms)
    assert sq._word_matches(text, folded, stems, prefix_last) == reference_word_matches(
        folded, stems, prefix_last
    )


def test_examples_of_what_is_matched() -> None:
    text = "Read the e-mail about Wi-Fi; email me. Meetings, a meetup and COVID-19."
    found = [text[s:e] for s, e, _ in sq._matches(text, ["email", "wifi", "meet"], True)]
    assert found == ["e-mail", "Wi-Fi", "email", "Meetings", "meetup"]
    assert [text[s:e] for s, e, _ in sq._matches(text, ["covid19"], False)] == ["COVID-19"]
    # A one-letter word matches itself only, not every word starting with it.
    short = "e and else e."
    assert [short[s:e] for s, e, _ in sq._matches(short, ["e"], False)] == ["e", "e"]
