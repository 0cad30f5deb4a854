from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trace_core.errors import InvalidInputError
from trace_core.model import EntryFilter
from trace_core.search import (
    MAX_QUERY_TERMS,
    SearchCursor,
    decode_cursor,
    encode_cursor,
    fingerprint,
    highlight_snippet,
    parse_query,
    tokenize,
)


@pytest.mark.parametrize("blank", ["", " ", "\n\t", "\u2003"])
def test_a_blank_query_is_refused_naming_the_field(blank: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_query(blank)
    assert caught.value.field == "query"


def test_a_query_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        parse_query(42)


def test_punctuation_and_operators_are_word_separators_not_syntax() -> None:
    parsed = parse_query('"budget" -draft title:Q3 (plan*) NEAR/2 OR')
    assert parsed.terms == ("budget", "draft", "title", "q3", "plan", "near", "2")


def test_stop_words_are_dropped_unless_nothing_else_is_left() -> None:
    assert parse_query("how did we migrate the database?").terms == ("migrate", "database")
    assert parse_query("to be or not to be").terms == ("to", "be", "or", "not")


def test_emoji_only_query_has_no_terms_but_is_valid() -> None:
    assert parse_query("🎉🥳").is_empty


def test_the_last_word_is_a_prefix_only_while_it_is_being_typed() -> None:
    assert parse_query("deploy stag").prefix_last
    assert not parse_query("deploy stag ").prefix_last
    assert not parse_query("deploy stag?").prefix_last
    assert not parse_query("deploy x").prefix_last  # too short to be useful


def test_a_pasted_paragraph_keeps_a_bounded_number_of_terms() -> None:
    text = " ".join(f"word{i}" for i in range(500))
    assert len(parse_query(text).terms) == MAX_QUERY_TERMS


def test_duplicate_words_count_once() -> None:
    assert parse_query("tea Tea TEA time").terms == ("tea", "time")


@given(st.text())
def test_engine_queries_never_carry_engine_quote_characters(text: str) -> None:
    try:
        parsed = parse_query(text)
    except InvalidInputError:
        assert not text.strip()
        return
    for term in parsed.terms:
        assert '"' not in term
        assert "'" not in term
        assert "\\" not in term
        assert "\x00" not in term
        assert term == term.strip()
        assert term


def test_tokenize_keeps_accents_and_digits_in_words() -> None:
    assert tokenize("Café-au-lait 2026 naïve") == ["café", "au", "lait", "2026", "naïve"]


def test_snippet_marks_stemmed_matches_around_the_best_window() -> None:
    text = "Intro. " * 60 + "We are migrating the reporting database this week. " + "Outro. " * 60
    snippet = highlight_snippet(text, ["migration", "database"])
    assert "**migrating**" in snippet
    assert "**database**" in snippet
    assert snippet.startswith("…")
    assert snippet.endswith("…")
    assert len(snippet) < 260


def test_snippet_without_a_match_is_the_beginning_of_the_text() -> None:
    assert highlight_snippet("short note", ["absent"]) == "short note"


def test_a_cursor_round_trips_for_the_same_search() -> None:
    parsed = parse_query("budget review")
    fp = fingerprint(parsed, EntryFilter())
    cursor = SearchCursor(offset=40, match="any", fp=fp)
    assert decode_cursor(encode_cursor(cursor), expected_fingerprint=fp) == cursor


def test_a_cursor_from_another_search_is_refused() -> None:
    fp = fingerprint(parse_query("budget"), EntryFilter())
    other = fingerprint(parse_query("budget"), EntryFilter(status="done"))
    text = encode_cursor(SearchCursor(offset=20, match="all", fp=fp))
    with pytest.raises(InvalidInputError) as caught:
        decode_cursor(text, expected_fingerprint=other)
    assert caught.value.field == "cursor"


@pytest.mark.parametrize("garbage", ["", "abc", "!!!", "eyJ4IjoxfQ", "W10"])
def test_a_malformed_cursor_is_refused_naming_the_field(garbage: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_cursor(garbage, expected_fingerprint="x")
    assert caught.value.field == "cursor"
