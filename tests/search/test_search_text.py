"""The words of a text as the search adapters see them: compounds, CJK grams, typo distance."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from trace_core.search import highlight_snippet, parse_query
from trace_core.search_text import (
    cjk_grams,
    is_cjk,
    near_words,
    search_extra,
    typo_distance,
    vocabulary,
)


def test_search_extra_joins_compounds_and_cuts_cjk_runs_into_grams() -> None:
    assert search_extra("The Wi-Fi and COVID-19 e-mail") == "wifi covid19 email"
    assert search_extra("京都へ") == "京都 都へ へ"
    assert search_extra("plain words only", None, "") == ""


def test_cjk_query_words_are_cut_like_the_index() -> None:
    assert cjk_grams("京都") == ("京都",)
    assert cjk_grams("京都市") == ("京都", "都市")
    assert cjk_grams("桜") == ("桜",)
    assert cjk_grams("iphone用") == ("用",)
    assert is_cjk("서울")
    assert is_cjk("カタカナ")
    assert not is_cjk("café")


def test_typo_distance_grows_with_the_word() -> None:
    assert [typo_distance(w) for w in ("cat", "dent", "dentist", "applications")] == [0, 1, 1, 2]
    assert typo_distance("2026") == 0
    assert typo_distance("京都大学") == 0


def test_near_words_are_within_the_distance_nearest_first() -> None:
    candidates = ["dentist", "dentists", "dental", "denist", "banana"]
    assert near_words("dentst", candidates) == ["dentist", "denist"]
    assert near_words("dentsit", ["dentist"]) == ["dentist"]  # a swap is one edit
    assert near_words("aplicaton", ["application"]) == ["application"]
    assert near_words("cat", ["car", "cut"]) == []


def test_vocabulary_keeps_words_of_three_letters_and_joined_compounds() -> None:
    assert vocabulary(["Fix the Wi-Fi at 9", None]) == {"fix", "the", "wifi"}


def test_korean_and_voiced_kana_are_highlighted() -> None:
    korean = highlight_snippet("다음 주에 서울에서 만나요", ["서울"])
    assert korean == "다음 주에 **서울**에서 만나요"
    assert highlight_snippet("明日がっこうへ行く", ["がっこう"]) == "明日**がっこう**へ行く"
    assert highlight_snippet("Café crème", ["cafe"]) == "**Café** crème"


@given(st.text(max_size=200), st.text(max_size=400))
def test_no_query_text_breaks_parsing_or_highlighting(query: str, text: str) -> None:
    if not query.strip():
        return
    parsed = parse_query(query)
    corrected = parsed.with_corrections({w: [w + "x"] for w in parsed.plain_words()})
    assert isinstance(highlight_snippet(text, corrected.terms, prefix_last=True), str)
    assert isinstance(search_extra(query, text), str)
