"""The MCP tools against the real facade, through the official SDK client (in process)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import pytest
from mcp_tool_support import PUBLIC_URL, SECRET, Connect, png, read_only

from mcp import Client, MCPError
from trace_core.errors import PermissionDeniedError
from trace_core.model import Principal
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock
from trace_mcp import TOOLS, WRITE_TOOLS, AttachmentUrlSigner

pytestmark = pytest.mark.anyio

REFERENCE_TOOLS = {
    "get_docs": set(),
    "list_streams": set(),
    "get_stream": {"stream_id"},
    "list_entries": {
        "stream_id",
        "tags",
        "status",
        "is_archived",
        "is_pinned",
        "start_date",
        "end_date",
        "query",
        "limit",
        "offset",
        "include_content",
        "content_limit",
    },
    "get_entry": {"entry_id"},
    "search_entries": {"query", "limit", "include_content", "content_limit"},
    "create_entry": {
        "content",
        "title",
        "stream_id",
        "tags",
        "status",
        "entry_date",
        "priority",
        "rating",
        "type",
        "due_date",
    },
    "update_entry": {
        "entry_id",
        "expected_version",
        "title",
        "content",
        "stream_id",
        "tags",
        "status",
        "is_archived",
        "is_pinned",
        "priority",
        "rating",
        "type",
        "due_date",
    },
    "delete_entry": {"entry_id"},
    "get_attachment_url": {"attachment_id"},
    "get_attachment_data": {"attachment_id"},
}


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def call_error(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    return result.structured_content["error"]  # type: ignore[index]


async def stars_stream(client: Client) -> str:
    created = await call(
        client,
        "create_stream",
        name="Journal",
        entry_settings={
            "use_rating": True,
            "use_status": True,
            "use_type": True,
            "rating_type": "stars",
            "statuses": ["todo", "done"],
            "default_status": "todo",
            "types": ["note", "task"],
        },
    )
    return created["stream"]["stream_id"]


# --- the contract ---------------------------------------------------------------------


async def test_reference_tools_keep_their_names_arguments_defaults_and_limits(
    client: Client,
) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}

    for name, arguments in REFERENCE_TOOLS.items():
        assert name in tools
        assert arguments <= set(tools[name].input_schema.get("properties", {})), name
    listing = tools["list_entries"].input_schema["properties"]
    assert listing["limit"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}
    assert listing["include_content"]["default"] is True
    assert listing["is_archived"]["default"] is False
    search = tools["search_entries"].input_schema["properties"]
    assert (search["limit"]["default"], search["limit"]["maximum"]) == (20, 50)
    assert tools["create_entry"].input_schema["required"] == ["content"]
    assert tools["update_entry"].input_schema["required"] == ["entry_id"]


async def test_every_tool_has_a_description_output_schema_and_annotations(
    client: Client,
) -> None:
    tools = (await client.list_tools()).tools

    assert {t.name for t in tools} == {t.name for t in TOOLS}
    for tool in tools:
        assert len(tool.description or "") > 40, tool.name
        assert (tool.output_schema or {}).get("type") == "object", tool.name
        assert tool.annotations is not None
        assert tool.annotations.read_only_hint is (tool.name not in WRITE_TOOLS), tool.name
    by_name = {t.name: t for t in tools}
    assert by_name["delete_entry"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert by_name["create_entry"].annotations.destructive_hint is False  # type: ignore[union-attr]


async def test_read_only_key_is_not_offered_write_tools(connect: Connect, alice: Principal) -> None:
    async with connect(read_only(alice)) as client:
        names = {t.name for t in (await client.list_tools()).tools}

    assert names == {t.name for t in TOOLS} - WRITE_TOOLS


async def test_read_only_oauth_grant_is_offered_write_tools_for_step_up(
    connect: Connect, alice: Principal
) -> None:
    async with connect(read_only(alice, via="oauth")) as client:
        names = {t.name for t in (await client.list_tools()).tools}

    assert names >= WRITE_TOOLS


async def test_read_only_key_cannot_create_an_entry_even_by_calling_the_tool(
    connect: Connect, alice: Principal, trace: Trace
) -> None:
    async with connect(read_only(alice)) as client:
        error = await call_error(client, "create_entry", content="sneaky")

    assert error["code"] == "insufficient_scope"
    assert (await trace.list_entries(alice)).total == 0


async def test_unknown_tool_is_a_protocol_error(client: Client) -> None:
    with pytest.raises(MCPError):
        await client.call_tool("drop_database", {})


async def test_unknown_argument_is_refused_naming_the_allowed_ones(client: Client) -> None:
    error = await call_error(client, "list_entries", stream="x")

    assert error["code"] == "invalid_input"
    assert error["field"] == "stream"
    assert "stream_id" in error["allowed"]


async def test_limit_over_the_maximum_is_refused(client: Client) -> None:
    error = await call_error(client, "list_entries", limit=101)

    assert (error["code"], error["field"]) == ("invalid_input", "limit")


async def test_get_docs_explains_the_stream_id_choice(client: Client) -> None:
    guide = (await call(client, "get_docs"))["guide"]

    assert "omitted = every stream and the Inbox" in guide
    assert '`stream_id: null` or\n  `"inbox"` = only the Inbox' in guide
    for tool in TOOLS:
        assert tool.name in guide, tool.name


# --- reading ----------------------------------------------------------------------------


async def test_list_entries_without_stream_id_covers_every_stream_and_the_inbox(
    client: Client,
) -> None:
    stream_id = await stars_stream(client)
    await call(client, "create_entry", content="in stream", stream_id=stream_id)
    await call(client, "create_entry", content="in inbox")

    everything = await call(client, "list_entries")
    inbox_null = await call(client, "list_entries", stream_id=None)
    inbox_word = await call(client, "list_entries", stream_id="inbox")
    one_stream = await call(client, "list_entries", stream_id=stream_id)

    assert everything["total"] == 2
    assert [e["content"] for e in inbox_null["entries"]] == ["in inbox"]
    assert [e["content"] for e in inbox_word["entries"]] == ["in inbox"]
    assert [e["content"] for e in one_stream["entries"]] == ["in stream"]


async def test_a_page_carries_each_named_streams_rules_once(client: Client) -> None:
    stream_id = await stars_stream(client)
    await call(client, "create_entry", content="a", stream_id=stream_id)
    await call(client, "create_entry", content="a2", stream_id=stream_id)
    await call(client, "create_entry", content="b")

    page = await call(client, "list_entries")
    entries = {e["content"]: e for e in page["entries"]}

    # The stream's rules come once for the page, keyed by the id the entries name.
    assert entries["a"]["stream_id"] == entries["a2"]["stream_id"] == stream_id
    assert "stream_context" not in entries["a"]
    assert list(page["streams"]) == [stream_id]
    context = page["streams"][stream_id]
    assert context["name"] == "Journal"
    assert context["rating_scale"] == "stars 0-5"
    assert context["statuses"] == ["todo", "done"]
    assert context["default_status"] == "todo"
    assert context["types"] == ["note", "task"]
    assert context["uses"] == ["status", "type", "rating"]
    # An Inbox entry names no stream.
    assert "stream_id" not in entries["b"]


async def test_stream_rules_leave_out_the_settings_that_are_off(client: Client) -> None:
    plain = (await call(client, "create_stream", name="Plain"))["stream"]["stream_id"]
    await call(client, "create_entry", content="p", stream_id=plain)

    page = await call(client, "list_entries")
    detail = await call(client, "get_stream", stream_id=plain)

    assert page["streams"][plain] == {"name": "Plain", "uses": []}
    assert detail["stream"]["entry_settings"] == {}


async def test_star_ratings_are_shown_in_display_units_beside_the_stored_value(
    client: Client,
) -> None:
    stream_id = await stars_stream(client)

    created = await call(client, "create_entry", content="x", stream_id=stream_id, rating=3)
    detail = await call(client, "get_entry", entry_id=created["entry_id"])

    assert detail["entry"]["rating"] == 3
    assert detail["stream_context"]["rating_scale"] == "stars 0-5"
    assert created["status"] == detail["entry"]["status"] == "todo"  # the stream's default
    stored = await call(client, "list_entries", stream_id=stream_id)
    assert stored["entries"][0]["rating"] == 3


async def test_content_limit_cuts_content_and_include_content_false_drops_it(
    client: Client,
) -> None:
    await call(client, "create_entry", content="0123456789" * 5)

    cut = (await call(client, "list_entries", content_limit=12))["entries"][0]
    bare = (await call(client, "list_entries", include_content=False))["entries"][0]
    whole = (await call(client, "list_entries"))["entries"][0]

    assert cut["content"] == "012345678901..."
    assert cut["content_truncated"] is True
    assert cut["content_length"] == 50
    assert "content" not in bare
    assert bare["content_length"] == 50
    assert whole["content"] == "0123456789" * 5
    assert "content_truncated" not in whole


async def test_cursor_and_offset_paging_each_walk_every_entry_once(
    client: Client, clock: FixedClock
) -> None:
    for day in range(1, 8):
        await call(client, "create_entry", content=f"day {day}", entry_date=f"2026-01-0{day}")

    by_cursor: list[str] = []
    page = await call(client, "list_entries", limit=3)
    while True:
        by_cursor += [e["content"] for e in page["entries"]]
        if not page["has_more"]:
            break
        page = await call(client, "list_entries", limit=3, cursor=page["next_cursor"])
    by_offset: list[str] = []
    offset = 0
    while True:
        page = await call(client, "list_entries", limit=3, offset=offset)
        by_offset += [e["content"] for e in page["entries"]]
        if not page["has_more"]:
            assert "next_offset" not in page
            break
        offset = page["next_offset"]

    expected = [f"day {d}" for d in range(7, 0, -1)]
    assert by_cursor == expected
    assert by_offset == expected


async def test_answers_over_the_cap_are_cut_with_a_flag_and_a_way_to_the_rest(
    connect: Connect, alice: Principal
) -> None:
    async with connect(alice, max_response_chars=6000) as client:
        for n in range(12):
            await call(client, "create_entry", content=f"entry {n} " + "x" * 1500)
        pages = [await call(client, "list_entries", limit=12)]
        while pages[-1]["has_more"]:
            pages.append(
                await call(client, "list_entries", limit=12, cursor=pages[-1]["next_cursor"])
            )

    first = pages[0]
    assert first["truncated"] is True
    assert "note" in first
    assert first["total"] == 12
    assert all(len(str(page)) < 6000 for page in pages)
    seen = [e["content"].split()[1] for page in pages for e in page["entries"]]
    assert sorted(seen, key=int) == [str(n) for n in range(12)]
    assert any(e["content_truncated"] for e in first["entries"])


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("list_entries", {"query": "lighthouse"}),
        ("search_entries", {"query": "lighthouse", "include_content": True}),
    ],
)
async def test_cut_answers_with_a_query_page_on_through_every_match(
    connect: Connect, alice: Principal, tool: str, arguments: dict[str, Any]
) -> None:
    async with connect(alice, max_response_chars=6000) as client:
        for n in range(9):
            await call(client, "create_entry", content=f"lighthouse {n} " + "y" * 1500)
        await call(client, "create_entry", content="nothing to see")
        pages = [await call(client, tool, limit=9, **arguments)]
        while pages[-1]["has_more"]:
            cursor = pages[-1]["next_cursor"]
            pages.append(await call(client, tool, limit=9, cursor=cursor, **arguments))

    seen = [e["content"].split()[1] for page in pages for e in page["entries"]]
    assert pages[0]["truncated"] is True
    assert len(pages) > 1
    assert all(len(e["content"]) > 100 for page in pages for e in page["entries"])
    assert sorted(seen, key=int) == [str(n) for n in range(9)]


async def test_get_entry_reads_a_very_long_entry_in_parts(
    connect: Connect, alice: Principal
) -> None:
    text = "".join(f"{n:05d}" for n in range(4000))  # 20,000 characters
    async with connect(alice, max_response_chars=8000) as client:
        entry_id = (await call(client, "create_entry", content=text))["entry_id"]
        parts: list[str] = []
        offset = 0
        while True:
            answer = await call(client, "get_entry", entry_id=entry_id, content_offset=offset)
            content = answer["entry"]["content"]
            if answer.get("truncated"):
                assert content.endswith("...")
                parts.append(content[:-3])
                offset = answer["next_content_offset"]
            else:
                parts.append(content)
                break

    assert "".join(parts) == text
    assert len(parts) > 1


async def test_search_entries_ranks_with_snippets_and_takes_filters(client: Client) -> None:
    stream_id = await stars_stream(client)
    await call(client, "create_entry", content="dentist on Tuesday", stream_id=stream_id)
    await call(client, "create_entry", content="call the dentist about the bill, dentist!")
    await call(client, "create_entry", content="groceries")

    everywhere = await call(client, "search_entries", query="dentist")
    in_stream = await call(client, "search_entries", query="dentist", stream_id=stream_id)

    assert len(everywhere["entries"]) == 2
    assert all("dentist" in e["snippet"].lower() for e in everywhere["entries"])
    assert [e["preview"] for e in in_stream["entries"]] == ["dentist on Tuesday"]


async def test_search_answers_snippets_and_previews_and_content_only_when_asked(
    client: Client,
) -> None:
    long = "Opening words of a long note. " + "filler " * 400 + "the lighthouse keeper waved."
    await call(client, "create_entry", content=long, title="Coast")

    default = (await call(client, "search_entries", query="lighthouse"))["entries"][0]
    whole = (await call(client, "search_entries", query="lighthouse", include_content=True))[
        "entries"
    ][0]
    cut = (await call(client, "search_entries", query="lighthouse", content_limit=20))["entries"][0]

    # By default: where the words are, how the entry opens, and how long it is; no content.
    assert "content" not in default
    assert "**lighthouse**" in default["snippet"]
    assert default["preview"].startswith("Opening words of a long note.")
    assert default["preview"].endswith("...")
    assert len(default["preview"]) <= 103
    assert default["content_length"] == len(long)
    # Content when include_content or content_limit ask for it.
    assert whole["content"] == long
    assert "preview" not in whole
    assert cut["content"] == long[:20] + "..."
    assert cut["content_truncated"] is True


async def test_search_and_fetch_have_the_connector_shapes(client: Client) -> None:
    entry_id = (await call(client, "create_entry", content="Trip plan\n\nPack boots", title=None))[
        "entry_id"
    ]

    found = await client.call_tool("search", {"query": "boots"})
    fetched = await client.call_tool("fetch", {"id": entry_id})

    assert found.structured_content == {
        "results": [
            {"id": entry_id, "title": "Trip plan", "url": f"{PUBLIC_URL}/entries/{entry_id}"}
        ]
    }
    assert found.content[0].text.startswith('{"results":')  # type: ignore[union-attr]
    assert fetched.structured_content["text"] == "Trip plan\n\nPack boots"  # type: ignore[index]
    assert fetched.structured_content["id"] == entry_id  # type: ignore[index]


async def test_list_streams_counts_entries_and_the_inbox(client: Client) -> None:
    stream_id = await stars_stream(client)
    await call(client, "create_entry", content="a", stream_id=stream_id)
    await call(client, "create_entry", content="b")
    await call(client, "create_entry", content="c")

    listing = await call(client, "list_streams")
    stream = await call(client, "get_stream", stream_id=stream_id)

    assert listing["total"] == 1
    assert listing["streams"][0]["entry_count"] == 1
    assert listing["inbox_entry_count"] == 2
    assert stream["stream"]["entry_settings"]["statuses"] == ["todo", "done"]
    assert stream["stream"]["entry_settings"]["rating_max"] == 5


async def test_list_tags_counts_live_entries(client: Client) -> None:
    await call(client, "create_entry", content="a", tags=["work", "idea"])
    await call(client, "create_entry", content="b", tags=["work"])

    tags = await call(client, "list_tags")

    assert list(tags["tags"].items()) == [("work", 2), ("idea", 1)]  # most used first
    assert tags["total"] == 2


# --- writing --------------------------------------------------------------------------


async def test_update_with_a_stale_version_names_both_versions(client: Client) -> None:
    entry = await call(client, "create_entry", content="v1")
    await call(client, "update_entry", entry_id=entry["entry_id"], content="v2", expected_version=1)

    error = await call_error(
        client, "update_entry", entry_id=entry["entry_id"], content="v3", expected_version=1
    )

    assert error["code"] == "version_conflict"
    assert (error["expected_version"], error["current_version"]) == (1, 2)


async def test_update_null_clears_fields_and_tags_replace_the_list(client: Client) -> None:
    entry = await call(
        client,
        "create_entry",
        content="task",
        title="T",
        tags=["a", "b"],
        due_date="2026-02-01",
        priority=3,
    )

    answer = await call(
        client,
        "update_entry",
        entry_id=entry["entry_id"],
        due_date=None,
        title=None,
        tags=["c"],
        priority=None,
        include_content=True,
    )
    updated = answer["entry"]

    assert answer["changed"] == ["title", "tags", "priority", "due_date"]
    assert answer["version"] == updated["version"] == 2
    # Cleared and default values are left out of the compact entry.
    assert "due_date" not in updated
    assert "title" not in updated
    assert "priority" not in updated
    assert updated["tags"] == ["c"]
    assert updated["content"] == "task"


async def test_update_can_move_an_entry_to_the_inbox_with_null(client: Client) -> None:
    stream_id = await stars_stream(client)
    entry = await call(client, "create_entry", content="x", stream_id=stream_id)

    moved = await call(client, "update_entry", entry_id=entry["entry_id"], stream_id=None)
    detail = await call(client, "get_entry", entry_id=entry["entry_id"])

    assert entry["stream_id"] == stream_id
    assert entry["stream_name"] == "Journal"
    assert moved["changed"] == ["stream_id"]
    assert "stream_id" not in moved
    assert "stream_name" not in moved
    assert (
        "in the Inbox"
        in (await client.call_tool("update_entry", {"entry_id": entry["entry_id"], "content": "y"}))
        .content[0]
        .text
    )  # type: ignore[union-attr]
    assert "stream_id" not in detail["entry"]
    assert "stream_context" not in detail


async def test_update_without_fields_is_refused(client: Client) -> None:
    entry = await call(client, "create_entry", content="x")

    error = await call_error(client, "update_entry", entry_id=entry["entry_id"])

    assert error["code"] == "invalid_input"


async def test_a_type_the_stream_does_not_allow_is_refused_with_the_allowed_ones(
    client: Client,
) -> None:
    stream_id = await stars_stream(client)

    error = await call_error(client, "create_entry", content="x", stream_id=stream_id, type="poem")

    assert (error["code"], error["field"], error["allowed"]) == (
        "invalid_input",
        "type",
        ["note", "task"],
    )


async def test_writes_record_the_key_name_in_the_entry_and_its_history(client: Client) -> None:
    entry = (await call(client, "create_entry", content="x", include_content=True))["entry"]
    await call(client, "update_entry", entry_id=entry["entry_id"], content="y")

    history = await call(client, "get_entry_history", entry_id=entry["entry_id"])

    assert entry["last_edited_by"] == "alice-laptop"
    assert [(v["version"], v["action"], v["written_by"]) for v in history["versions"]] == [
        (2, "update", "alice-laptop"),
        (1, "create", "alice-laptop"),
    ]
    assert history["versions"][1]["snapshot"]["content"] == "x"


async def test_deleted_entries_leave_lists_and_search_and_can_be_restored(
    client: Client,
) -> None:
    entry_id = (await call(client, "create_entry", content="forget me"))["entry_id"]

    deleted = await call(client, "delete_entry", entry_id=entry_id)
    listed = await call(client, "list_entries")
    found = await call(client, "search_entries", query="forget")
    missing = await call_error(client, "get_entry", entry_id=entry_id)
    trash = await call(client, "list_trash")
    restored = await call(client, "restore_entry", entry_id=entry_id)

    assert deleted["deleted"] is True
    assert deleted["restorable_until"].startswith("2026-02-14")  # 30 days after the fixed clock
    assert listed["total"] == 0
    assert found["entries"] == []
    assert missing["code"] == "not_found"
    assert [e["entry_id"] for e in trash["entries"]] == [entry_id]
    assert (restored["entry_id"], restored["version"]) == (entry_id, 3)
    assert (await call(client, "list_entries"))["total"] == 1


async def test_create_and_update_stream_merge_entry_settings(client: Client) -> None:
    stream_id = await stars_stream(client)

    updated = await call(
        client,
        "update_stream",
        stream_id=stream_id,
        name="Diary",
        entry_settings={"types": ["note", "task", "idea"]},
    )

    settings = updated["stream"]["entry_settings"]
    assert updated["stream"]["name"] == "Diary"
    assert settings["types"] == ["note", "task", "idea"]
    assert settings["statuses"] == ["todo", "done"]  # kept


# --- attachments ---------------------------------------------------------------------


async def test_get_attachment_data_returns_the_image_and_its_metadata(
    client: Client, trace: Trace, alice: Principal
) -> None:
    entry_id = (await call(client, "create_entry", content="photo"))["entry_id"]
    image = png(4, 5, payload=b"hello")
    attachment = (await trace.add_attachment(alice, _uuid(entry_id), image)).attachment

    result = await client.call_tool(
        "get_attachment_data", {"attachment_id": str(attachment.attachment_id)}
    )
    detail = await call(client, "get_entry", entry_id=entry_id)

    assert not result.is_error
    picture, text = result.content
    assert picture.type == "image"
    assert picture.mime_type == "image/png"  # type: ignore[union-attr]
    assert base64.b64decode(picture.data) == image  # type: ignore[union-attr]
    assert text.type == "text"
    assert "4x5" in text.text  # type: ignore[union-attr]
    assert result.structured_content["attachment"]["file_size"] == len(image)  # type: ignore[index]
    assert [a["attachment_id"] for a in detail["attachments"]] == [str(attachment.attachment_id)]


async def test_get_attachment_data_refuses_images_over_the_limit(
    connect: Connect, trace: Trace, alice: Principal
) -> None:
    async with connect(alice, max_image_bytes=1000) as client:
        entry_id = (await call(client, "create_entry", content="big"))["entry_id"]
        added = await trace.add_attachment(alice, _uuid(entry_id), png(payload=b"x" * 2000))
        attachment = added.attachment
        error = await call_error(
            client, "get_attachment_data", attachment_id=str(attachment.attachment_id)
        )

    assert error["code"] == "invalid_input"
    assert "get_attachment_url" in error["message"]


async def test_get_attachment_url_is_signed_for_one_hour(
    client: Client, trace: Trace, alice: Principal, clock: FixedClock
) -> None:
    entry_id = (await call(client, "create_entry", content="photo"))["entry_id"]
    attachment = (await trace.add_attachment(alice, _uuid(entry_id), png())).attachment
    verifier = AttachmentUrlSigner(SECRET, PUBLIC_URL, clock=clock)

    answer = await call(client, "get_attachment_url", attachment_id=str(attachment.attachment_id))
    url = urlsplit(answer["url"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    attachment_id = url.path.rsplit("/", 1)[1]

    assert answer["url"].startswith(f"{PUBLIC_URL}/attachments/{attachment.attachment_id}?")
    assert answer["expires_at"] == "2026-01-15T10:30:00Z"
    assert verifier.verify(attachment_id, **query) == (alice.account_id, attachment.attachment_id)
    with pytest.raises(PermissionDeniedError):
        verifier.verify(attachment_id, **{**query, "sig": query["sig"][:-2] + "AA"})
    with pytest.raises(PermissionDeniedError):
        verifier.verify(attachment_id, **{**query, "account": str(_uuid(entry_id))})
    clock.advance(hours=1)
    with pytest.raises(PermissionDeniedError):
        verifier.verify(attachment_id, **query)


# --- tenancy ----------------------------------------------------------------------------


async def test_another_accounts_ids_are_not_found(
    connect: Connect, alice: Principal, bob: Principal, trace: Trace
) -> None:
    async with connect(alice) as client:
        stream_id = await stars_stream(client)
        entry_id = (await call(client, "create_entry", content="alice", stream_id=stream_id))[
            "entry_id"
        ]
    attachment = (await trace.add_attachment(alice, _uuid(entry_id), png())).attachment

    async with connect(bob) as client:
        errors = [
            await call_error(client, "get_entry", entry_id=entry_id),
            await call_error(client, "update_entry", entry_id=entry_id, content="bob"),
            await call_error(client, "delete_entry", entry_id=entry_id),
            await call_error(client, "get_entry_history", entry_id=entry_id),
            await call_error(client, "get_stream", stream_id=stream_id),
            await call_error(client, "list_entries", stream_id=stream_id),
            await call_error(client, "create_entry", content="x", stream_id=stream_id),
            await call_error(
                client, "get_attachment_data", attachment_id=str(attachment.attachment_id)
            ),
            await call_error(
                client, "get_attachment_url", attachment_id=str(attachment.attachment_id)
            ),
            await call_error(client, "fetch", id=entry_id),
        ]
        searched = await call(client, "search_entries", query="alice")

    assert {e["code"] for e in errors} == {"not_found"}
    assert searched["entries"] == []


def _uuid(text: str) -> UUID:
    return UUID(text)


async def test_published_schemas_use_single_types_for_portability(client: Client) -> None:
    def type_lists(node: Any) -> list[Any]:
        if isinstance(node, dict):
            found = [node["type"]] if isinstance(node.get("type"), list) else []
            return found + [t for value in node.values() for t in type_lists(value)]
        if isinstance(node, list):
            return [t for value in node for t in type_lists(value)]
        return []

    tools = (await client.list_tools()).tools
    update = next(t for t in tools if t.name == "update_entry").input_schema["properties"]

    assert all(not type_lists(t.input_schema) and not type_lists(t.output_schema) for t in tools)
    assert update["due_date"]["anyOf"] == [{"type": "string"}, {"type": "null"}]


async def test_history_of_a_long_entry_stays_under_the_cap(
    connect: Connect, alice: Principal
) -> None:
    async with connect(alice, max_response_chars=8000) as client:
        entry_id = (await call(client, "create_entry", content="a" * 20_000))["entry_id"]
        await call(client, "update_entry", entry_id=entry_id, content="b" * 20_000)
        history = await call(client, "get_entry_history", entry_id=entry_id)

    assert history["truncated"] is True
    assert len(str(history)) < 8000
    assert [v["version"] for v in history["versions"]] == [2, 1]
    assert history["versions"][0]["snapshot"]["content_truncated"] is True


# --- answer sizes (issue 12) ------------------------------------------------------------


async def test_writes_answer_in_a_line_whatever_the_entrys_size(client: Client) -> None:
    stream_id = await stars_stream(client)
    text = "word " * 12_000  # 60,000 characters

    created = await client.call_tool(
        "create_entry", {"content": text, "title": "Draft", "stream_id": stream_id}
    )
    entry_id = created.structured_content["entry_id"]  # type: ignore[index]
    updated = await client.call_tool("update_entry", {"entry_id": entry_id, "content": text + "!"})
    deleted = await client.call_tool("delete_entry", {"entry_id": entry_id})
    restored = await client.call_tool("restore_entry", {"entry_id": entry_id})

    for result in (created, updated, deleted, restored):
        assert len(result.content[0].text) < 400  # type: ignore[union-attr]
        assert len(json.dumps(result.structured_content)) < 400
    assert created.structured_content == {
        "entry_id": entry_id,
        "version": 1,
        "title": "Draft",
        "stream_id": stream_id,
        "stream_name": "Journal",
        "entry_date": "2026-01-15",
        "status": "todo",
        "content_length": 60_000,
    }
    assert updated.structured_content["changed"] == ["content"]  # type: ignore[index]
    assert updated.structured_content["content_length"] == 60_001  # type: ignore[index]
    text_answer = updated.content[0].text  # type: ignore[union-attr]
    assert "Updated entry" in text_answer
    assert "(content)" in text_answer
    assert "version 2" in text_answer


async def test_include_content_on_a_write_answers_the_whole_entry(client: Client) -> None:
    created = await call(client, "create_entry", content="all of it", include_content=True)

    assert created["entry"]["content"] == "all of it"
    assert created["entry"]["entry_id"] == created["entry_id"]
    assert created["entry"]["last_edited_by"] == "alice-laptop"


async def test_a_page_of_one_stream_says_its_id_once(client: Client) -> None:
    stream_id = await stars_stream(client)
    for n in range(3):
        await call(client, "create_entry", content=f"n{n}", stream_id=stream_id)

    page = await call(client, "list_entries", stream_id=stream_id)

    assert page["stream_id"] == stream_id
    assert all("stream_id" not in e for e in page["entries"])
    assert list(page["streams"]) == [stream_id]


async def test_the_guide_says_what_changed_from_the_reference(client: Client) -> None:
    guide = (await call(client, "get_docs"))["guide"]

    assert "here it is opt-in" in guide  # search_entries content
    assert "include_content: true" in guide  # writes answer in one line
