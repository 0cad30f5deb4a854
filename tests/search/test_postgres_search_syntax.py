"""PostgreSQL search: the tsquery built from parsed queries, and what it finds.

The rendering tests need no database; the others run on PostgreSQL (marked
``postgres``), through both the fast path (one asyncpg statement) and the
SQLAlchemy path, and check that ``count`` agrees with ``search``.
"""

from __future__ import annotations

import random

import asyncpg
import pytest

from trace_core.model import Account, EntryFilter
from trace_core.ports import SearchRequest
from trace_core.search import parse_query
from trace_core.testing.contracts.search import SearchBackend, make_entry
from trace_sql.search import PostgresSearchIndex
from trace_sql.search.postgres_query import folded_query, tsquery, tsquery_sql
from trace_sql.storage import SqlStorage

pytestmark = pytest.mark.anyio


# --- rendering ---------------------------------------------------------------------------


def test_phrases_exclusions_and_alternatives_become_tsquery_operators() -> None:
    parsed = parse_query('"potato sweet" -baking dessert OR cake')
    assert tsquery(parsed) == "'potato' <-> 'sweet' & ('dessert' | 'cake') & !('baking')"
    assert tsquery(parsed, "any") == "('potato' <-> 'sweet' | 'dessert' | 'cake') & !('baking')"


def test_a_compound_is_its_parts_as_a_phrase_or_joined() -> None:
    assert tsquery(parse_query("e-mail")) == "'e' <-> 'mail' | 'email'"


def test_the_last_word_still_being_typed_is_a_prefix() -> None:
    assert tsquery(parse_query("deploy meilis")) == "'deploy' & 'meilis':*"
    assert tsquery(parse_query("deploy meilis ")) == "'deploy' & 'meilis'"


def test_cjk_words_are_gram_phrases_in_the_simple_configuration() -> None:
    sql = tsquery_sql(parse_query("京都に行く tower"), language="english")
    assert sql == (
        "(to_tsquery('simple'::regconfig, '''京都'' <-> ''都に'' <-> ''に行'' <-> ''行く''')"
        " && to_tsquery('english'::regconfig, '''tower'':*'))"
    )
    assert tsquery_sql(parse_query("桜"), language="german") == (
        "to_tsquery('simple'::regconfig, '''桜'':*')"
    )
    with pytest.raises(ValueError, match="CJK"):
        tsquery(parse_query("京都"))


def test_an_excluded_cjk_word_is_negated_across_configurations() -> None:
    sql = tsquery_sql(parse_query("kyoto -京都"), language="english")
    assert sql == (
        "(to_tsquery('english'::regconfig, '''kyoto''')"
        " && to_tsquery('simple'::regconfig, '!(''京都'')'))"
    )
    sql = tsquery_sql(parse_query('kyoto -"京都 tower"'), language="english")
    assert sql == (
        "(to_tsquery('english'::regconfig, '''kyoto''')"
        " && (!! (to_tsquery('simple'::regconfig, '''京都''')"
        " && to_tsquery('english'::regconfig, '''tower'''))))"
    )


def test_folding_strips_accents_but_leaves_cjk_alone() -> None:
    folded = folded_query(parse_query('café -"naïve crème" 안녕 がっこう'))
    assert folded.terms == ("cafe", "안녕", "がっこう")
    assert folded.clauses == ((("cafe",),), (("안녕",),), (("がっこう",),))
    assert folded.excluded == (("naive", "creme"),)


def test_a_query_of_exclusions_only_builds_nothing() -> None:
    with pytest.raises(ValueError, match="no terms"):
        tsquery_sql(parse_query("-foo"), language="english")


_PIECES = [
    "a", "deploy", "the", "OR", "or", "-", '"', "'", "\\", "&", "|", "!", "<->", ":*", "*",
    "(", ")", ":", "''", "\\'", "京都", "桜", "안녕", "が", "café", "e-mail", "Wi-Fi",
    "covid-19", "🎉", "$1", "%", ";", "--", "/*", "<2>", "AND", "NOT", "x²", "\u0301",
    "naïve", "\t", "\n", " ", " ", "  ", "-\"", "\u201c", "\u201d",
]  # fmt: skip


def _random_queries(count: int) -> list[str]:
    rng = random.Random(20261205)
    queries = []
    while len(queries) < count:
        text = "".join(
            rng.choice(_PIECES) + rng.choice(["", " "]) for _ in range(rng.randint(1, 9))
        )
        if text.strip():
            queries.append(text)
    return queries


@pytest.mark.postgres
async def test_no_query_text_makes_an_invalid_tsquery(postgres_database_url: str) -> None:
    conn = await asyncpg.connect(postgres_database_url.replace("+asyncpg", ""))
    try:
        checked = 0
        for text in _random_queries(400):
            parsed = parse_query(text)
            if parsed.is_empty:
                continue
            for match in ("all", "any"):
                for query in (parsed, folded_query(parsed)):
                    sql = tsquery_sql(query, match, language="english")
                    # Runs (no syntax error) and matches the query's own words.
                    await conn.fetchval(f"SELECT to_tsvector('english', $1) @@ {sql}", text)
                    checked += 1
        assert checked > 500
    finally:
        await conn.close()


# --- what it finds -------------------------------------------------------------------


@pytest.fixture(params=["fast", "sqlalchemy"])
def b(request: pytest.FixtureRequest, postgres_storage: SqlStorage) -> SearchBackend:
    index = PostgresSearchIndex(postgres_storage, fast_path=request.param == "fast")
    return SearchBackend(storage=postgres_storage, index=index)


async def _found(b: SearchBackend, me: Account, query: str, match: str = "all") -> set[str]:
    """Return the contents a search finds, checking ``count`` agrees with it."""
    hits = await b.search(me, query, match=match, limit=50)
    request = SearchRequest(query=query, filters=EntryFilter(), match=match)
    assert await b.index.count(me.account_id, request) == len(hits)
    return {hit.entry.content for hit in hits}


@pytest.mark.postgres
async def test_phrases_exclusions_and_or_find_what_they_say(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(
        make_entry(me, "sweet potato pie for dessert"),
        make_entry(me, "potato sweet and sour cake"),
        make_entry(me, "baking a potato sweet dessert"),
        make_entry(me, "a potato sweet on its own"),
    )

    assert await _found(b, me, '"potato sweet"') == {
        "potato sweet and sour cake",
        "baking a potato sweet dessert",
        "a potato sweet on its own",
    }
    assert await _found(b, me, '"potato sweet" -baking dessert OR cake') == {
        "potato sweet and sour cake"
    }
    assert await _found(b, me, "dessert OR cake -baking") == {
        "sweet potato pie for dessert",
        "potato sweet and sour cake",
    }
    assert await _found(b, me, "pie cake -sour", match="any") == {"sweet potato pie for dessert"}
    assert await _found(b, me, "-potato") == set()


@pytest.mark.postgres
async def test_syntax_characters_are_plain_words(b: SearchBackend) -> None:
    me = await b.account()
    await b.add(make_entry(me, "cats and dogs"), make_entry(me, "mice"))

    assert await _found(b, me, "cats & dogs | !mice") == set()
    assert await _found(b, me, "cats & dogs") == {"cats and dogs"}
    assert await _found(b, me, "'cats' <-> dogs:*") == {"cats and dogs"}
    assert await _found(b, me, "mice\\' OR ''cats") == {"cats and dogs", "mice"}
