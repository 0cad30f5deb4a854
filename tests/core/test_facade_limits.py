"""Every free-text input has a limit the facade enforces, the same on every backend.

A value over its limit is refused with an error naming the field and the limit,
before anything walks the value; an error never quotes more than a short prefix
of what was sent; offsets are bounded so no backend overflows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from trace_core.errors import InvalidInputError
from trace_core.inputs import parse_date, parse_datetime, parse_uuid
from trace_core.limits import (
    MAX_CHOICE_CHARS,
    MAX_CHOICES,
    MAX_CONTENT_BYTES,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_STREAM_NAME_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TEXT_CHARS,
    MAX_TITLE_CHARS,
)
from trace_core.model import (
    EntryDraft,
    EntryFilter,
    EntryPatch,
    EntrySettings,
    NewStream,
    Principal,
)
from trace_core.service import Trace

pytestmark = pytest.mark.anyio

Call = Callable[[Trace, Principal], Awaitable[Any]]


def _draft(**fields: Any) -> Call:
    return lambda trace, who: trace.create_entry(who, EntryDraft(**{"content": "x", **fields}))


def _patch(**fields: Any) -> Call:
    async def call(trace: Trace, who: Principal) -> Any:
        entry = await trace.create_entry(who, EntryDraft(content="x"))
        return await trace.update_entry(who, entry.entry_id, EntryPatch(**fields))

    return call


def _stream(**fields: Any) -> Call:
    return lambda trace, who: trace.create_stream(who, NewStream(**{"name": "S", **fields}))


def _settings(**fields: Any) -> Call:
    return _stream(entry_settings=EntrySettings(**fields))


def _list(**fields: Any) -> Call:
    return lambda trace, who: trace.list_entries(who, EntryFilter(**fields))


def _search(query: str, **fields: Any) -> Call:
    return lambda trace, who: trace.search_entries(who, query, filters=EntryFilter(**fields))


OVERSIZED: list[Any] = [
    pytest.param(_draft(title="t" * (MAX_TITLE_CHARS + 1)), "title", MAX_TITLE_CHARS, id="title"),
    pytest.param(
        _draft(content="c" * (MAX_CONTENT_BYTES + 1)), "content", MAX_CONTENT_BYTES, id="content"
    ),
    pytest.param(
        _draft(content="é" * (MAX_CONTENT_BYTES // 2 + 1)),
        "content",
        MAX_CONTENT_BYTES,
        id="content-bytes",
    ),
    pytest.param(_draft(tags=("t" * (MAX_TAG_CHARS + 1),)), "tags", MAX_TAG_CHARS, id="tag"),
    pytest.param(
        _draft(tags=tuple(f"t{i}" for i in range(MAX_TAGS + 1))), "tags", MAX_TAGS, id="tags"
    ),
    pytest.param(
        _draft(status="s" * (MAX_CHOICE_CHARS + 1)), "status", MAX_CHOICE_CHARS, id="status"
    ),
    pytest.param(_draft(type="s" * (MAX_CHOICE_CHARS + 1)), "type", MAX_CHOICE_CHARS, id="type"),
    pytest.param(
        _patch(title="t" * (MAX_TITLE_CHARS + 1)), "title", MAX_TITLE_CHARS, id="patch-title"
    ),
    pytest.param(_patch(tags=("t" * (MAX_TAG_CHARS + 1),)), "tags", MAX_TAG_CHARS, id="patch-tag"),
    pytest.param(
        _stream(name="n" * (MAX_STREAM_NAME_CHARS + 1)), "name", MAX_STREAM_NAME_CHARS, id="name"
    ),
    pytest.param(
        _stream(description="d" * (MAX_TEXT_CHARS + 1)),
        "description",
        MAX_TEXT_CHARS,
        id="description",
    ),
    pytest.param(
        _settings(types=tuple(f"t{i}" for i in range(MAX_CHOICES + 1))),
        "entry_settings.types",
        MAX_CHOICES,
        id="settings-types",
    ),
    pytest.param(
        _settings(statuses=("s" * (MAX_CHOICE_CHARS + 1),)),
        "entry_settings.statuses",
        MAX_CHOICE_CHARS,
        id="settings-status",
    ),
    pytest.param(
        _settings(content_template="c" * (MAX_TEXT_CHARS + 1)),
        "entry_settings.content_template",
        MAX_TEXT_CHARS,
        id="content-template",
    ),
    pytest.param(
        _settings(title_template="t" * (MAX_TITLE_CHARS + 1)),
        "entry_settings.title_template",
        MAX_TITLE_CHARS,
        id="title-template",
    ),
    pytest.param(
        _list(text="q" * (MAX_QUERY_CHARS + 1)), "query", MAX_QUERY_CHARS, id="list-query"
    ),
    pytest.param(
        _list(status="s" * (MAX_CHOICE_CHARS + 1)), "status", MAX_CHOICE_CHARS, id="list-status"
    ),
    pytest.param(
        _list(tags=tuple(f"t{i}" for i in range(MAX_TAGS + 1))), "tags", MAX_TAGS, id="list-tags"
    ),
    pytest.param(_search("q" * (MAX_QUERY_CHARS + 1)), "query", MAX_QUERY_CHARS, id="search-query"),
    pytest.param(
        _search("q", type="t" * (MAX_CHOICE_CHARS + 1)), "type", MAX_CHOICE_CHARS, id="search-type"
    ),
]


@pytest.mark.parametrize(("call", "field", "limit"), OVERSIZED)
async def test_a_value_over_its_limit_is_refused_naming_the_field_and_the_limit(
    trace: Trace, alice: Principal, call: Call, field: str, limit: int
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await call(trace, alice)

    assert caught.value.field == field
    assert f"{limit:,}" in caught.value.message or str(limit) in caught.value.message
    assert len(caught.value.message) < 300


async def test_values_at_their_limits_are_accepted(trace: Trace, alice: Principal) -> None:
    entry = await trace.create_entry(
        alice,
        EntryDraft(
            content="c" * MAX_CONTENT_BYTES,
            title="t" * MAX_TITLE_CHARS,
            tags=tuple(f"{i:03d}" + "t" * (MAX_TAG_CHARS - 3) for i in range(MAX_TAGS)),
            status="s" * MAX_CHOICE_CHARS,
        ),
    )
    assert len(entry.tags) == MAX_TAGS
    page = await trace.list_entries(alice, EntryFilter(text="c" * MAX_QUERY_CHARS))
    assert [e.entry_id for e in page.items] == [entry.entry_id]
    result = await trace.search_entries(alice, "q " * (MAX_QUERY_CHARS // 2))
    assert result.hits == []


@pytest.mark.parametrize("offset", [MAX_OFFSET + 1, 2**63, 2**64, 10**400, -1])
async def test_an_offset_out_of_range_is_refused_on_every_backend(
    trace: Trace, alice: Principal, offset: int
) -> None:
    for listing in (trace.list_entries, trace.list_trash):
        with pytest.raises(InvalidInputError) as caught:
            await listing(alice, offset=offset)
        assert caught.value.field == "offset"
        assert f"{MAX_OFFSET:,}" in caught.value.message
        assert len(caught.value.message) < 200


async def test_the_largest_offset_answers_an_empty_page_on_every_backend(
    trace: Trace, alice: Principal
) -> None:
    await trace.create_entry(alice, EntryDraft(content="one"))
    assert (await trace.list_entries(alice, offset=MAX_OFFSET)).items == []
    assert (await trace.list_trash(alice, offset=MAX_OFFSET)).items == []


async def test_an_expected_version_out_of_range_is_refused(trace: Trace, alice: Principal) -> None:
    entry = await trace.create_entry(alice, EntryDraft(content="x"))
    with pytest.raises(InvalidInputError) as caught:
        await trace.update_entry(
            alice, entry.entry_id, EntryPatch(title="t"), expected_version=2**63
        )
    assert caught.value.field == "expected_version"


MEGABYTE = "z" * 1_000_000


@pytest.mark.parametrize("parse", [parse_uuid, parse_date, parse_datetime])
def test_a_huge_bad_value_is_quoted_by_a_short_prefix_only(parse: Callable[..., Any]) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse("entry_id", MEGABYTE)
    assert caught.value.field == "entry_id"
    assert len(caught.value.message) < 200
    assert "zzzz…" in caught.value.message
    assert "1,000,000 characters" in caught.value.message


async def test_errors_about_huge_values_stay_short(trace: Trace, alice: Principal) -> None:
    calls: list[Call] = [
        _stream(name="S", color=MEGABYTE),
        _stream(name="S", icon=MEGABYTE),
        _list(stream=MEGABYTE),  # type: ignore[arg-type]
        lambda t, who: t.list_entries(who, limit=MEGABYTE),  # type: ignore[arg-type]
        lambda t, who: t.create_account(MEGABYTE + "@example.org"),
        _draft(rating=MEGABYTE),
        _draft(priority=MEGABYTE),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError) as caught:
            await call(trace, alice)
        assert len(str(caught.value)) < 300
