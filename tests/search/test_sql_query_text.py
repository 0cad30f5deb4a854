"""The engine query texts trace_sql builds from parsed terms (FTS5 MATCH, to_tsquery)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from trace_core.search import ParsedQuery, parse_query
from trace_sql.search import fts5_match, tsquery


def test_fts5_expression_quotes_every_term() -> None:
    parsed = parse_query("AND NEAR cats dog")
    cols = "{title content tags stream files extra}"
    assert fts5_match(parsed) == f'{cols} : (("near") AND ("cats") AND ("dog"*))'
    assert fts5_match(parsed, "any") == f'{cols} : (("near") OR ("cats") OR ("dog"*))'


def test_tsquery_text_quotes_every_term() -> None:
    parsed = parse_query("cats & dogs | !mice ")
    assert tsquery(parsed) == "'cats' & 'dogs' & 'mice'"
    assert tsquery(parsed, "any") == "'cats' | 'dogs' | 'mice'"


@pytest.mark.parametrize("build", [fts5_match, tsquery])
def test_a_query_without_terms_builds_no_engine_text(
    build: Callable[[ParsedQuery], str],
) -> None:
    with pytest.raises(ValueError, match="no terms"):
        build(parse_query("🎉"))
