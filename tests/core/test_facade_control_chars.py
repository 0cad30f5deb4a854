"""Text never holds NUL or other control characters: one rule for every backend.

PostgreSQL cannot store NUL and SQLite can, so before this rule the same
request succeeded on one and failed with "the database refused a value" on the
other. Now the facade refuses it on each, naming the field; Markdown text
keeps its tabs and line breaks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from trace_core.errors import InvalidInputError
from trace_core.model import (
    EntryDraft,
    EntryFilter,
    EntryPatch,
    EntrySettings,
    NewStream,
    Principal,
    StreamPatch,
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


def _restream(**fields: Any) -> Call:
    async def call(trace: Trace, who: Principal) -> Any:
        stream = await trace.create_stream(who, NewStream(name="S"))
        return await trace.update_stream(who, stream.stream_id, StreamPatch(**fields))

    return call


CASES: list[Any] = [
    pytest.param(_draft(content="before\x00after"), "content", id="content"),
    pytest.param(_draft(content="bell\x07"), "content", id="content-bell"),
    pytest.param(_draft(title="a\x00b"), "title", id="title"),
    pytest.param(_draft(title="two\nlines"), "title", id="title-newline"),
    pytest.param(_draft(tags=("ok", "t\x00g")), "tags", id="tags"),
    pytest.param(_draft(status="open\x00"), "status", id="status"),
    pytest.param(_draft(type="\x1bbug"), "type", id="type"),
    pytest.param(_patch(content="\x00"), "content", id="patch-content"),
    pytest.param(_patch(title="\x00t"), "title", id="patch-title"),
    pytest.param(_patch(tags=("\x00",)), "tags", id="patch-tags"),
    pytest.param(_stream(name="n\x00"), "name", id="stream-name"),
    pytest.param(_stream(description="d\x00"), "description", id="stream-description"),
    pytest.param(
        _stream(entry_settings=EntrySettings(types=("a\x00",))),
        "entry_settings.types",
        id="settings-types",
    ),
    pytest.param(
        _stream(entry_settings=EntrySettings(content_template="## Notes\x00")),
        "entry_settings.content_template",
        id="settings-template",
    ),
    pytest.param(_restream(name="\x00"), "name", id="rename"),
    pytest.param(
        lambda t, who: t.list_entries(who, EntryFilter(text="a\x00b")), "query", id="list-query"
    ),
    pytest.param(
        lambda t, who: t.list_entries(who, EntryFilter(status="a\x00")), "status", id="list-status"
    ),
    pytest.param(lambda t, who: t.search_entries(who, "nul\x00here"), "query", id="search"),
    pytest.param(lambda t, who: t.create_account("a\x00b@example.org"), "email", id="email"),
]


@pytest.mark.parametrize(("call", "field"), CASES)
async def test_a_control_character_is_refused_naming_the_field_on_every_backend(
    trace: Trace, alice: Principal, call: Call, field: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await call(trace, alice)
    assert caught.value.field == field
    assert "control character" in caught.value.message or field == "email"


async def test_markdown_keeps_tabs_and_line_breaks(trace: Trace, alice: Principal) -> None:
    content = "# Title\r\n\n- item\n\tindented\n"
    entry = await trace.create_entry(alice, EntryDraft(content=content, title="Plain title"))
    assert (await trace.get_entry(alice, entry.entry_id)).entry.content == content
    stream = await trace.create_stream(
        alice,
        NewStream(
            name="Journal",
            description="line one\nline two",
            entry_settings=EntrySettings(content_template="## Notes\n\n"),
        ),
    )
    assert stream.entry_settings.content_template == "## Notes\n\n"
