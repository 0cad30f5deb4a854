"""Every tool argument is bounded: declared in its Struct, refused above it, quoted short.

The fuzz part walks every tool's checked schema (the arguments Struct's, with
the length caps ``tools/list`` leaves out to save context): each text, list and
number argument (nested ones too) must have a limit, and a value over it is
answered with ``invalid_input`` naming the argument, never ``internal``. The
limits are core's (``trace_core.limits``), so every transport refuses the same.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import uuid4

import pytest
from mcp_tool_support import Connect
from mcp_types import CallToolResult

from mcp import Client, MCPError
from trace_core.limits import (
    MAX_CONTENT_CHARS,
    MAX_CURSOR_CHARS,
    MAX_ID_CHARS,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
)
from trace_core.model import Principal
from trace_mcp import TOOLS
from trace_mcp._schema import checked_schema

pytestmark = pytest.mark.anyio

LIST_ENTRIES = next(t for t in TOOLS if t.name == "list_entries")

Schema = dict[str, Any]

# Valid stand-ins for required arguments, so only the oversized one is wrong.
REQUIRED = {
    "content": "x",
    "query": "x",
    "name": "x",
    "entry_id": str(uuid4()),
    "stream_id": str(uuid4()),
    "attachment_id": str(uuid4()),
    "id": str(uuid4()),
    "data": "R0lGODlh",
    "filename": "a.gif",
}


def _kinds(schema: Schema) -> list[str]:
    kind = schema.get("type")
    return [kind] if isinstance(kind, str) else list(kind or [])


def _flat(schema: Schema) -> Schema:
    """One schema for ``anyOf`` branches: their types as a list, their keywords merged."""
    flat = {key: value for key, value in schema.items() if key != "anyOf"}
    for branch in schema.get("anyOf", []):
        flat["type"] = [*_kinds(flat), *_kinds(branch)]
        flat.update({key: value for key, value in branch.items() if key != "type"})
    return flat


def _arguments(schema: Schema, prefix: str = "") -> list[tuple[str, Schema]]:
    """Every argument path in an object schema (``entry_settings.types`` included)."""
    found: list[tuple[str, Schema]] = []
    for name, branches in schema.get("properties", {}).items():
        prop = _flat(branches)
        path = f"{prefix}{name}"
        found.append((path, prop))
        if "object" in _kinds(prop):
            found += _arguments(prop, prefix=f"{path}.")
    return found


def _oversized(prop: Schema) -> list[Any]:
    """Values just over, and far over, the argument's stated limit."""
    kinds = _kinds(prop)
    if "enum" in prop or kinds == ["boolean"] or kinds == ["object"]:
        return []
    values: list[Any] = []
    if "string" in kinds:
        assert "maxLength" in prop, "every text argument states its limit"
        values += ["x" * (prop["maxLength"] + 1), "y" * max(1_000_000, 2 * prop["maxLength"])]
    if "array" in kinds:
        assert "maxItems" in prop, "every list argument states its limit"
        values += [["t"] * (prop["maxItems"] + 1), ["t"] * 200_000]
        items = prop.get("items", {})
        if "maxLength" in items:
            values.append(["z" * (items["maxLength"] + 1)])
    if "integer" in kinds or "number" in kinds:
        assert "maximum" in prop, "every number argument states its limit"
        values += [prop["maximum"] + 1, 2**63, 1e308]
    return values


def _nest(path: str, value: Any) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    return {head: _nest(rest, value) if rest else value}


CASES = [
    pytest.param(spec.name, path, value, id=f"{spec.name}.{path}-{i}")
    for spec in TOOLS
    for path, prop in _arguments(checked_schema(spec.args))
    for i, value in enumerate(_oversized(prop))
]


def _size(result: CallToolResult) -> int:
    return len(result.model_dump_json(by_alias=True, exclude_none=True))


@pytest.mark.parametrize(("tool", "path", "value"), CASES)
async def test_an_oversized_argument_is_invalid_input_naming_it(
    client: Client, tool: str, path: str, value: Any
) -> None:
    spec = next(s for s in TOOLS if s.name == tool)
    arguments = {k: v for k, v in REQUIRED.items() if k in spec.input_schema.get("required", [])}
    arguments.update(_nest(path, value))

    result = await client.call_tool(tool, arguments)

    assert result.is_error
    error = result.structured_content["error"]  # type: ignore[index]
    assert error["code"] == "invalid_input", error
    assert error["field"] == path or error["field"].startswith(f"{path}["), error
    assert "at most" in error["message"]
    assert _size(result) < 2_000


def test_every_tool_argument_was_fuzzed() -> None:
    # The walk above found every argument that has a size: a new one without a
    # limit fails the assertions in _oversized, so none can slip past.
    fuzzed = {(c.values[0], c.values[1]) for c in CASES}
    assert ("search_entries", "query") in fuzzed
    assert ("create_stream", "entry_settings.types") in fuzzed
    assert ("list_trash", "cursor") in fuzzed
    assert len(fuzzed) > 60


def test_the_checked_schemas_hold_core_limits_and_tools_list_leaves_the_caps_out() -> None:
    props = {
        s.name: {name: _flat(prop) for name, prop in checked_schema(s.args)["properties"].items()}
        for s in TOOLS
    }
    published = json.dumps([s.input_schema for s in TOOLS])
    for keyword in ("maxLength", "minLength", "maxItems", "format"):
        assert f'"{keyword}"' not in published
    assert "maximum" not in LIST_ENTRIES.input_schema["properties"]["offset"]  # a sentinel
    assert LIST_ENTRIES.input_schema["properties"]["limit"]["maximum"] == 100  # advice: kept
    assert props["search_entries"]["query"]["maxLength"] == MAX_QUERY_CHARS
    assert props["list_entries"]["query"]["maxLength"] == MAX_QUERY_CHARS
    assert props["search"]["query"]["maxLength"] == MAX_QUERY_CHARS
    assert props["create_entry"]["title"]["maxLength"] == MAX_TITLE_CHARS
    assert props["create_entry"]["content"]["maxLength"] == MAX_CONTENT_CHARS
    assert props["create_entry"]["tags"]["maxItems"] == MAX_TAGS
    assert props["create_entry"]["tags"]["items"]["maxLength"] == MAX_TAG_CHARS
    assert props["get_entry"]["entry_id"]["maxLength"] == MAX_ID_CHARS
    assert props["list_entries"]["cursor"]["maxLength"] == MAX_CURSOR_CHARS
    assert props["list_entries"]["offset"]["maximum"] == MAX_OFFSET
    assert props["list_trash"]["offset"]["maximum"] == MAX_OFFSET


MEGABYTE = "z" * 1_000_000


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("get_entry", {"entry_id": MEGABYTE}, "entry_id"),
        ("fetch", {"id": MEGABYTE}, "id"),
        ("get_entry", {"entry_id": "z" * MAX_ID_CHARS}, "entry_id"),
        ("fetch", {"id": "z" * MAX_ID_CHARS}, "id"),
        ("list_entries", {"stream_id": "z" * MAX_ID_CHARS}, "stream_id"),
        ("list_entries", {"cursor": "z" * MAX_CURSOR_CHARS}, "cursor"),
        ("list_entries", {"tags_mode": MEGABYTE}, "tags_mode"),
        ("list_entries", {"start_date": "z" * 40}, "start_date"),
    ],
)
async def test_a_bad_value_is_answered_in_a_few_hundred_bytes(
    client: Client, tool: str, arguments: dict[str, Any], field: str
) -> None:
    result = await client.call_tool(tool, arguments)

    assert result.is_error
    assert result.structured_content["error"]["field"] == field  # type: ignore[index]
    assert _size(result) < 1_000


async def test_an_unknown_argument_with_a_huge_name_is_answered_briefly(client: Client) -> None:
    result = await client.call_tool("list_tags", {MEGABYTE: 1})
    assert result.is_error
    assert result.structured_content["error"]["code"] == "invalid_input"  # type: ignore[index]
    assert _size(result) < 1_000


async def test_an_unknown_tool_with_a_huge_name_is_answered_briefly(client: Client) -> None:
    with pytest.raises(MCPError) as caught:
        await client.call_tool(MEGABYTE, {})
    assert len(str(caught.value)) < 1_000


async def test_a_search_echoes_the_largest_query_within_its_limit(client: Client) -> None:
    query = ("budget " * MAX_QUERY_CHARS)[:MAX_QUERY_CHARS]
    result = await client.call_tool("search_entries", {"query": query})
    assert not result.is_error
    # The query is echoed in the structured answer and the text: bounded by its limit.
    assert _size(result) < 3 * MAX_QUERY_CHARS + 1_000


async def test_list_trash_pages_by_the_cursor_it_hands_out(
    connect: Connect, alice: Principal
) -> None:
    async with connect(alice) as client:
        for i in range(5):
            created = await client.call_tool("create_entry", {"content": f"note {i}"})
            entry_id = created.structured_content["entry_id"]  # type: ignore[index]
            await client.call_tool("delete_entry", {"entry_id": entry_id})
        seen: list[str] = []
        arguments: dict[str, Any] = {"limit": 2}
        for _ in range(5):
            result = await client.call_tool("list_trash", arguments)
            page = result.structured_content
            assert page is not None
            seen += [e["entry_id"] for e in page["entries"]]
            if not page["has_more"]:
                break
            assert page["next_cursor"] in result.content[-1].text  # type: ignore[union-attr]
            arguments = {"limit": 2, "cursor": page["next_cursor"]}
        forged = json.dumps({"offset": 3})
        refused = await client.call_tool("list_trash", {"cursor": forged})

    assert len(seen) == len(set(seen)) == 5
    assert refused.structured_content["error"]["field"] == "cursor"  # type: ignore[index]


async def test_the_guide_states_the_limits_core_enforces(client: Client) -> None:
    guide = (await client.call_tool("get_docs", {})).structured_content["guide"]  # type: ignore[index]
    for limit in (MAX_QUERY_CHARS, MAX_TITLE_CHARS, MAX_TAGS, MAX_OFFSET):
        assert f"{limit:,}" in guide
    assert "list_trash" in guide.split("Paging", 1)[1].split("\n\n", 1)[0]


async def test_a_huge_comma_list_is_refused_before_it_is_split(client: Client) -> None:
    result = await client.call_tool("list_entries", {"tags": "a," * 1_000_000})
    assert result.is_error
    error = result.structured_content["error"]  # type: ignore[index]
    assert (error["field"], error["code"]) == ("tags", "invalid_input")
    assert f"at most {MAX_TAGS}" in error["message"]
