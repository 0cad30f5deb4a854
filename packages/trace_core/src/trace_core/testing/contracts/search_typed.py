"""Search contract cases for what people actually type (issue #13).

Phrases in quotes, ``-word`` exclusions, ``OR``, compounds (``wifi`` and
``Wi-Fi``), Chinese, Japanese and Korean text without spaces, the stream's
name and the images' file names, and typos looked up in the account's own
words. Part of :class:`~trace_core.testing.contracts.search.SearchIndexContract`.
"""

from __future__ import annotations

import re

import pytest

from trace_core.search import HIGHLIGHT_END, HIGHLIGHT_START, parse_query
from trace_core.testing.contracts.search_backend import FILLER, SearchBackend, make_entry

__all__ = ["SearchTypedContract"]


def _marked(snippet: str) -> list[str]:
    """Return the highlighted pieces of a snippet."""
    marked = re.compile(f"{re.escape(HIGHLIGHT_START)}(.*?){re.escape(HIGHLIGHT_END)}")
    return marked.findall(snippet)


class SearchTypedContract:
    """Cases about query syntax and the text people type; mixed into the search suite."""

    # --- "phrases", -exclusions, OR ------------------------------------------------

    async def test_quotes_make_a_phrase_in_that_order(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        pie = make_entry(me, "Baked a sweet potato pie for the neighbours.")
        apart = make_entry(me, "The potato salad was not sweet enough.")
        await b.add(pie, apart)

        assert await b.ids(me, '"sweet potato"') == [pie.entry_id]
        assert await b.ids(me, '"potato sweet"') == []
        assert set(await b.ids(me, "potato sweet")) == {pie.entry_id, apart.entry_id}

    async def test_a_minus_excludes_a_word_or_a_phrase(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        baked = make_entry(me, "Dessert idea: baking a lemon tart.")
        cold = make_entry(me, "Dessert idea: a cold rice pudding.")
        pie = make_entry(me, "Dessert idea: warm apple pie with cream.")
        await b.add(baked, cold, pie)

        assert set(await b.ids(me, "-baking dessert")) == {cold.entry_id, pie.entry_id}
        assert set(await b.ids(me, 'dessert -"apple pie"')) == {baked.entry_id, cold.entry_id}
        assert set(await b.ids(me, "dessert -baking", match="any")) == {
            cold.entry_id,
            pie.entry_id,
        }
        assert await b.ids(me, "-dessert") == []  # nothing to look for: no hits, no error

    async def test_or_between_words_finds_either(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        apples = make_entry(me, "Picked apples at the farm.")
        pears = make_entry(me, "Picked pears at the farm.")
        plums = make_entry(me, "Picked plums at the farm.")
        await b.add(apples, pears, plums)

        assert set(await b.ids(me, "apples OR pears")) == {apples.entry_id, pears.entry_id}
        assert set(await b.ids(me, "farm apples OR pears")) == {apples.entry_id, pears.entry_id}
        # Lower-case "or" is a word (a stop word), not syntax.
        assert await b.ids(me, "apples or pears") == []

    async def test_count_follows_phrases_and_exclusions(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        await b.add(
            make_entry(me, "sweet potato soup"),
            make_entry(me, "sweet potato fries, baked"),
            make_entry(me, "potato, not sweet"),
        )
        request = b.request('"sweet potato" -baked')

        assert await b.index.count(me.account_id, request) == 1

    # --- compounds ----------------------------------------------------------------

    async def test_compounds_match_joined_and_split(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        wifi = make_entry(me, "The Wi-Fi password is on the fridge.")
        email = make_entry(me, "Send an e-mail to the landlord.")
        plain = make_entry(me, "My email inbox is a mess.")
        covid = make_entry(me, "COVID-19 booster appointment on Friday.")
        await b.add(wifi, email, plain, covid)

        assert await b.ids(me, "wifi") == [wifi.entry_id]
        assert await b.ids(me, "wi-fi password") == [wifi.entry_id]
        assert set(await b.ids(me, "email")) == {email.entry_id, plain.entry_id}
        assert set(await b.ids(me, "e-mail")) == {email.entry_id, plain.entry_id}
        assert await b.ids(me, "covid19") == [covid.entry_id]
        assert await b.ids(me, "covid-19 booster") == [covid.entry_id]

    async def test_a_compound_hit_is_highlighted(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        await b.add(make_entry(me, FILLER + "The Wi-Fi password is on the fridge. " + FILLER))

        [hit] = await b.search(me, "wifi")

        assert [m.lower() for m in _marked(hit.snippet)] == ["wi-fi"]

    # --- Chinese, Japanese, Korean ------------------------------------------------

    async def test_cjk_words_are_found_inside_sentences(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        japanese = make_entry(me, "私は来週京都に行きます。桜がきれいだそうです。")
        chinese = make_entry(me, "我明天去北京出差\uff0c后天回来。")
        korean = make_entry(me, "다음 주에 서울에서 만나요.")
        other = make_entry(me, "東京の天気は晴れです。")
        await b.add(japanese, chinese, korean, other)

        assert await b.ids(me, "京都") == [japanese.entry_id]
        assert await b.ids(me, "北京") == [chinese.entry_id]
        assert await b.ids(me, "出差") == [chinese.entry_id]
        assert await b.ids(me, "서울") == [korean.entry_id]
        assert await b.ids(me, "桜") == [japanese.entry_id]
        assert await b.ids(me, "京都に行") == [japanese.entry_id]
        assert await b.ids(me, "都京") == []
        assert set(await b.ids(me, "京都 OR 東京")) == {japanese.entry_id, other.entry_id}

    async def test_a_cjk_hit_is_highlighted(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        await b.add(make_entry(me, "私は来週京都に行きます。"))

        [hit] = await b.search(me, "京都")

        assert _marked(hit.snippet) == ["京都"]

    # --- stream names and file names ----------------------------------------------

    async def test_the_stream_name_is_searched_below_the_title(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        recipes = await b.stream(me, "Recipes")
        strudel = make_entry(me, "Grandma's apple strudel, with raisins.", stream=recipes)
        titled = make_entry(me, "Apple picking notes, and ideas.", title="Recipes to try")
        elsewhere = make_entry(me, "An apple a day.")
        await b.add(strudel, titled, elsewhere)

        assert await b.ids(me, "recipes apple") == [titled.entry_id, strudel.entry_id]
        assert await b.ids(me, "recipes strudel") == [strudel.entry_id]

    async def test_a_renamed_stream_is_found_by_its_new_name(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        stream = await b.stream(me, "Garden")
        entry = make_entry(me, "Planted the tulip bulbs.", stream=stream)
        await b.add(entry)

        await b.rename_stream(stream, "Allotment")

        assert await b.ids(me, "allotment") == [entry.entry_id]
        assert await b.ids(me, "garden") == []

    async def test_a_moved_entry_is_found_by_its_new_stream(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        garden = await b.stream(me, "Garden")
        travel = await b.stream(me, "Travel")
        entry = make_entry(me, "Bought seeds at the airport shop.", stream=garden)
        await b.add(entry)

        await b.update(entry, stream_id=travel.stream_id)

        assert await b.ids(me, "travel seeds") == [entry.entry_id]
        assert await b.ids(me, "garden seeds") == []

    async def test_image_file_names_are_searchable(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        entry = make_entry(me, "Documents for the trip.")
        other = make_entry(me, "Nothing attached here.")
        await b.add(entry, other)

        image = await b.attach(entry, "passport-scan.png")
        assert await b.ids(me, "passport") == [entry.entry_id]

        await b.detach(entry, image)
        assert await b.ids(me, "passport") == []

    # --- typos ------------------------------------------------------------------------

    async def test_a_typo_finds_the_word_from_the_account_only(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        other = await b.account()
        dentist = make_entry(me, "Dentist appointment on Tuesday at nine.")
        await b.add(dentist, make_entry(me, "Groceries: bread and cheese."))
        await b.add(make_entry(other, "Orthodontist visit for the kids."))

        if not b.vocabulary:
            # The engine corrects typos in its own search.
            assert await b.ids(me, "dentst") == [dentist.entry_id]
            assert await b.ids(me, "orthodontst") == []
            return
        near = await b.index.similar_words(me.account_id, ["dentst", "orthodontst", "cheese"])

        assert near["dentst"][0] == "dentist"
        assert "cheese" not in near  # the account has that word
        assert near.get("orthodontst", ()) == ()  # another account's word, never suggested
        query = parse_query("dentst").with_corrections(near)
        assert await b.find(me, query) == [dentist.entry_id]
        [hit] = await b.search_parsed(me, query)
        assert [m.lower() for m in _marked(hit.snippet)] == ["dentist"]

    async def test_long_words_allow_two_typos_short_ones_none(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        await b.add(make_entry(me, "Renew the passport application and the car tax."))
        if not b.vocabulary:
            pytest.skip("the engine's own typo settings apply")

        near = await b.index.similar_words(me.account_id, ["aplicaton", "pasport", "cat"])

        assert near["aplicaton"][0] == "application"
        assert near["pasport"][0] == "passport"
        assert near.get("cat", ()) == ()  # three letters: never corrected
