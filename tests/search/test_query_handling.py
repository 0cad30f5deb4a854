from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trace_core import search
from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_QUERY_CHARS
from trace_core.search import (
    MAX_QUERY_TERMS,
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


def test_punctuation_and_engine_operators_are_word_separators_not_syntax() -> None:
    parsed = parse_query('"budget" -draft title:Q3 (plan*) NEAR/2 AND NOT OR')
    assert parsed.clauses == (
        (("budget",),),
        (("title",),),
        (("q3",),),
        (("plan",),),
        (("near", "2"), ("near2",)),
    )
    assert parsed.excluded == (("draft",),)


def test_quotes_minus_and_or_are_the_syntax_people_know() -> None:
    parsed = parse_query('"sweet potato" -baking -"apple pie" dessert OR cake')
    assert parsed.clauses == ((("sweet", "potato"),), (("dessert",), ("cake",)))
    assert parsed.excluded == (("baking",), ("apple", "pie"))
    assert parsed.terms == ("sweet", "potato", "dessert", "cake")


def test_a_minus_inside_a_word_is_a_compound_not_an_exclusion() -> None:
    parsed = parse_query("e-mail covid-19")
    assert parsed.clauses == ((("e", "mail"), ("email",)), (("covid", "19"), ("covid19",)))
    assert parsed.excluded == ()


def test_a_query_of_exclusions_only_has_no_terms() -> None:
    assert parse_query("-draft").is_empty
    assert parse_query('""').is_empty


def test_lower_case_or_and_dangling_or_are_words() -> None:
    assert parse_query("apples or pears").clauses == ((("apples",),), (("pears",),))
    assert parse_query("OR apples").clauses == ((("apples",),),)


def test_an_unclosed_quote_is_a_phrase_to_the_end() -> None:
    assert parse_query('notes "sweet potato').clauses == ((("notes",),), (("sweet", "potato"),))


def test_corrections_are_added_as_alternatives_and_terms() -> None:
    corrected = parse_query("dentst visit").with_corrections({"dentst": ["dentist"]})
    assert corrected.clauses == ((("dentst",), ("dentist",)), (("visit",),))
    assert corrected.terms == ("dentst", "visit", "dentist")
    assert corrected.corrected == (("dentst", "dentist"),)


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
    text = " ".join(f"word{i}" for i in range(120))
    assert len(text) <= MAX_QUERY_CHARS
    assert len(parse_query(text).terms) == MAX_QUERY_TERMS


def test_a_query_of_the_largest_accepted_length_is_parsed() -> None:
    text = ("budget " * MAX_QUERY_CHARS)[:MAX_QUERY_CHARS]
    assert parse_query(text).terms == ("budget",)


def test_a_query_over_the_limit_is_refused_before_it_is_walked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    walked: list[int] = []
    monkeypatch.setattr(search, "tokenize", lambda text: walked.append(len(text)) or [])
    with pytest.raises(InvalidInputError) as caught:
        search.parse_query("x" * 3_900_000)
    assert caught.value.field == "query"
    assert f"at most {MAX_QUERY_CHARS:,}" in caught.value.message
    assert len(caught.value.message) < 200
    assert walked == []


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
