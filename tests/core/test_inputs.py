"""The arguments Structs of trace_core.inputs: decoding, forgiven slips, errors, conversions.

Every transport decodes through these (the MCP tools today, the REST API
next), so what they accept and how they refuse is tested here once.
"""

from __future__ import annotations

import inspect
from datetime import date
from typing import Any
from uuid import uuid4

import msgspec
import msgspec.inspect
import pytest

import trace_core.inputs as inputs
from trace_core.errors import InvalidInputError
from trace_core.inputs import (
    CreateEntryArgs,
    CreateStreamArgs,
    EntryFilterArgs,
    EntryHistoryArgs,
    FetchArgs,
    GetEntryArgs,
    ListEntriesArgs,
    ListStreamsArgs,
    NoArgs,
    SearchEntriesArgs,
    UpdateEntryArgs,
    UpdateStreamArgs,
    decode_arguments,
)
from trace_core.limits import MAX_TAGS, QUOTE_CHARS
from trace_core.model import UNSET, EntrySettings

ARGS_TYPES = [
    getattr(inputs, name)
    for name in inputs.__all__
    if name.endswith("Args") and name not in ("NoArgs", "EntryFilterArgs")
]


def refused(args_type: type[Any], arguments: dict[str, Any]) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as caught:
        decode_arguments(args_type, arguments)
    return caught.value


# --- the Structs themselves -----------------------------------------------------------


@pytest.mark.parametrize("args_type", ARGS_TYPES, ids=lambda t: t.__name__)
def test_every_arguments_struct_is_frozen_keyword_only_and_refuses_unknown_fields(
    args_type: type[msgspec.Struct],
) -> None:
    config = args_type.__struct_config__
    parameters = inspect.signature(args_type).parameters.values()
    assert (config.frozen, config.forbid_unknown_fields) == (True, True)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in parameters)


def test_search_takes_exactly_the_list_filters() -> None:
    # Declared twice (search lists its own arguments first); held equal here.
    def fields(struct: type[msgspec.Struct]) -> dict[str, Any]:
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        return {f.name: (f.type, f.default) for f in info.fields}

    filters = fields(EntryFilterArgs)
    search = fields(SearchEntriesArgs)
    assert {name: search[name] for name in filters} == filters
    assert list(search)[: len(search) - len(filters)] == [
        "query",
        "limit",
        "include_content",
        "content_limit",
        "cursor",
    ]


def test_the_arguments_import_nothing_of_a_transport() -> None:
    # Their home is the core so the REST API can take them as request bodies too.
    assert all(t.__module__.startswith("trace_core.inputs") for t in ARGS_TYPES)


# --- slips that are forgiven, as the checker always forgave them ------------------------


def test_a_number_written_as_text_is_read_as_the_number() -> None:
    args = decode_arguments(ListEntriesArgs, {"limit": " 20 ", "offset": "3"})
    assert (args.limit, args.offset) == (20, 3)


def test_a_whole_float_is_read_as_an_integer() -> None:
    args = decode_arguments(ListEntriesArgs, {"limit": 20.0})
    assert args.limit == 20
    assert type(args.limit) is int


def test_a_rating_written_as_text_is_read_as_a_number() -> None:
    args = decode_arguments(CreateEntryArgs, {"content": "x", "rating": "3.5"})
    assert args.rating == 3.5


def test_a_boolean_written_as_text_is_read_as_the_boolean() -> None:
    args = decode_arguments(ListEntriesArgs, {"include_content": "FALSE", "is_pinned": " true"})
    assert (args.include_content, args.is_pinned) == (False, True)


def test_a_priority_written_as_text_is_read_as_the_number() -> None:
    assert decode_arguments(CreateEntryArgs, {"content": "x", "priority": "2"}).priority == 2


@pytest.mark.parametrize("value", ["1", 1, "yes"])
def test_only_true_and_false_are_booleans(value: object) -> None:
    error = refused(ListStreamsArgs, {"include_archived": value})
    assert error.field == "include_archived"
    assert "must be boolean" in error.message


def test_a_comma_separated_text_is_read_as_a_list() -> None:
    args = decode_arguments(ListEntriesArgs, {"tags": "work, idea,, "})
    assert args.tags == ("work", "idea")


def test_a_comma_separated_text_is_read_as_a_list_inside_entry_settings() -> None:
    args = decode_arguments(
        CreateStreamArgs, {"name": "Tasks", "entry_settings": {"statuses": "todo,done"}}
    )
    assert not isinstance(args.entry_settings, msgspec.UnsetType)
    assert args.entry_settings.statuses == ("todo", "done")


def test_a_comma_list_is_counted_against_the_limit_before_it_is_split() -> None:
    error = refused(ListEntriesArgs, {"tags": "a," * MAX_TAGS})
    assert (error.field, error.message) == ("tags", f"tags: has {MAX_TAGS + 1} items; at most 100")


# --- refusals: the field named, the allowed values or the limit, the value quoted short ----


def test_an_unknown_argument_is_refused_with_the_allowed_ones() -> None:
    error = refused(GetEntryArgs, {"entry_id": str(uuid4()), "id": "x"})
    assert error.field == "id"
    assert error.allowed == ["entry_id", "content_offset", "content_limit"]


def test_an_unknown_argument_with_a_long_name_is_named_by_its_start() -> None:
    error = refused(NoArgs, {"x" * 10_000: 1})
    assert error.field == "x" * 64 + "…"


def test_an_unknown_nested_argument_is_named_by_its_path() -> None:
    error = refused(CreateStreamArgs, {"name": "A", "entry_settings": {"colour": "red"}})
    assert error.field == "entry_settings.colour"
    assert error.allowed is not None
    assert "rating_type" in error.allowed


@pytest.mark.parametrize("arguments", [{}, {"content": None}])
def test_a_missing_or_null_required_argument_is_required(arguments: dict[str, Any]) -> None:
    error = refused(CreateEntryArgs, arguments)
    assert (error.field, error.message) == ("content", "content: is required")


def test_a_value_of_the_wrong_type_names_the_types_allowed() -> None:
    error = refused(CreateEntryArgs, {"content": "x", "title": 5})
    assert (error.field, error.message) == ("title", "title: must be string or null, got integer")


def test_a_value_not_among_the_choices_lists_them_in_written_order() -> None:
    error = refused(ListEntriesArgs, {"tags_mode": "some"})
    assert (error.field, error.allowed) == ("tags_mode", ["any", "all"])
    nested = refused(CreateStreamArgs, {"name": "A", "entry_settings": {"rating_type": "x"}})
    assert (nested.field, nested.allowed) == ("entry_settings.rating_type", ["stars", "numeric"])


def test_a_number_out_of_range_names_the_limit() -> None:
    assert refused(ListEntriesArgs, {"limit": 101}).message == (
        "limit: must be at most 100, got 101"
    )
    assert refused(ListEntriesArgs, {"limit": 0}).message == "limit: must be at least 1, got 0"
    assert refused(SearchEntriesArgs, {"query": "q", "limit": 51}).field == "limit"


@pytest.mark.parametrize("value", ["nan", float("nan"), "inf"])
def test_a_rating_that_is_not_a_finite_number_is_refused(value: object) -> None:
    error = refused(CreateEntryArgs, {"content": "x", "rating": value})
    assert error.field == "rating"
    assert "must be at" in error.message


def test_a_text_over_its_limit_is_named_by_its_path() -> None:
    types = ["a", "b", "c" * 101]
    error = refused(CreateStreamArgs, {"name": "A", "entry_settings": {"types": types}})
    assert error.field == "entry_settings.types[2]"
    assert error.message.endswith("is 101 characters long; at most 100")


def test_a_list_over_its_limit_names_the_limit() -> None:
    error = refused(CreateEntryArgs, {"content": "x", "tags": ["t"] * (MAX_TAGS + 1)})
    assert (error.field, error.message) == ("tags", "tags: has 101 items; at most 100")


@pytest.mark.parametrize(
    ("args_type", "arguments", "field"),
    [
        (CreateEntryArgs, {"content": "   "}, "content"),
        (SearchEntriesArgs, {"query": " \n"}, "query"),
        (CreateEntryArgs, {"content": "x", "tags": ["ok", "  "]}, "tags[1]"),
        (CreateEntryArgs, {"content": "x", "tags": [""]}, "tags[0]"),
        (GetEntryArgs, {"entry_id": ""}, "entry_id"),
    ],
)
def test_a_text_of_only_spaces_is_empty(
    args_type: type[Any], arguments: dict[str, Any], field: str
) -> None:
    error = refused(args_type, arguments)
    assert (error.field, error.message) == (field, f"{field}: must not be empty")


def test_a_huge_bad_value_is_quoted_by_its_start_only() -> None:
    error = refused(ListEntriesArgs, {"tags_mode": "z" * 1_000_000})
    assert len(error.message) < 200
    assert "z" * QUOTE_CHARS in error.message
    assert "z" * (QUOTE_CHARS + 1) not in error.message


def test_arguments_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(InvalidInputError) as caught:
        decode_arguments(NoArgs, ["a"])
    assert caught.value.field == "arguments"


# --- not given, null and the conversions to the facade's inputs ---------------------------


def test_an_update_tells_a_null_that_clears_from_a_field_not_given() -> None:
    args = decode_arguments(UpdateEntryArgs, {"entry_id": str(uuid4()), "due_date": None})
    patch = args.to_patch()
    assert patch.due_date is None
    assert patch.title is UNSET
    assert args.expected_version is UNSET


def test_an_update_without_a_field_to_change_is_refused() -> None:
    args = decode_arguments(UpdateEntryArgs, {"entry_id": str(uuid4())})
    with pytest.raises(InvalidInputError) as caught:
        args.to_patch()
    assert caught.value.field == "entry_id"
    assert caught.value.allowed is not None
    assert "due_date" in caught.value.allowed


def test_an_update_parses_days_and_moves_to_the_inbox_with_null_or_inbox() -> None:
    stream = uuid4()
    args = decode_arguments(
        UpdateEntryArgs,
        {"entry_id": str(uuid4()), "entry_date": "2026-03-01", "tags": None},
    )
    assert args.to_patch().entry_date == date(2026, 3, 1)
    assert args.to_patch().tags == ()
    for value, expected in ((None, None), ("Inbox", None), (f" {stream} ", stream)):
        moved = decode_arguments(UpdateEntryArgs, {"entry_id": str(uuid4()), "stream_id": value})
        assert moved.to_patch().stream_id == expected


@pytest.mark.parametrize(
    ("arguments", "stream"),
    [
        ({}, "all"),
        ({"stream_id": None}, "inbox"),
        ({"stream_id": " INBOX "}, "inbox"),
        ({"stream_id": "all"}, "all"),
    ],
)
def test_the_stream_filter_maps_omitted_null_and_words(
    arguments: dict[str, Any], stream: str
) -> None:
    assert decode_arguments(ListEntriesArgs, arguments).to_filter().stream == stream


def test_the_list_filter_carries_every_filter_and_the_query() -> None:
    stream = uuid4()
    args = decode_arguments(
        ListEntriesArgs,
        {
            "stream_id": str(stream),
            "tags": ["a"],
            "tags_mode": "all",
            "status": "open",
            "type": "task",
            "is_archived": None,
            "is_pinned": True,
            "start_date": "2026-01-01",
            "end_date": "2026-01-31",
            "query": "budget",
        },
    )
    found = args.to_filter()
    assert (found.stream, found.tags, found.tags_mode, found.status, found.type) == (
        stream,
        ("a",),
        "all",
        "open",
        "task",
    )
    assert (found.is_archived, found.is_pinned) == (None, True)
    assert (found.start_date, found.end_date) == (date(2026, 1, 1), date(2026, 1, 31))
    assert found.text == "budget"
    assert decode_arguments(SearchEntriesArgs, {"query": "budget"}).to_filter().text is None


def test_a_bad_day_or_id_is_refused_by_the_conversion_naming_the_field() -> None:
    with pytest.raises(InvalidInputError) as day:
        decode_arguments(ListEntriesArgs, {"end_date": "yesterday"}).to_filter()
    with pytest.raises(InvalidInputError) as ident:
        decode_arguments(FetchArgs, {"id": "not-an-id"}).entry_uuid()
    assert (day.value.field, ident.value.field) == ("end_date", "id")


def test_a_whole_rating_reaches_the_facade_as_an_integer() -> None:
    # So the facade's messages quote a rating as it was written: 7, not 7.0.
    draft = decode_arguments(CreateEntryArgs, {"content": "x", "rating": 7}).to_draft()
    patch = decode_arguments(UpdateEntryArgs, {"entry_id": str(uuid4()), "rating": 3.5}).to_patch()
    assert (repr(draft.rating), patch.rating) == ("7", 3.5)


def test_a_draft_takes_the_defaults_for_what_is_not_given() -> None:
    draft = decode_arguments(CreateEntryArgs, {"content": "x", "stream_id": "inbox"}).to_draft()
    assert (draft.stream_id, draft.tags, draft.priority, draft.is_pinned) == (None, (), 0, False)
    assert (draft.title, draft.rating, draft.entry_date) == (None, None, None)


def test_ids_are_parsed_forgivingly() -> None:
    entry = uuid4()
    args = decode_arguments(EntryHistoryArgs, {"entry_id": f"{{{entry}}}"})
    assert args.entry_uuid() == entry
    assert (args.limit, args.offset, args.include_content) == (20, 0, True)


def test_new_stream_settings_leave_nulls_at_their_defaults() -> None:
    args = decode_arguments(
        CreateStreamArgs,
        {"name": "A", "entry_settings": {"default_status": None, "use_rating": True}},
    )
    new = args.to_new_stream()
    assert new.entry_settings == EntrySettings(use_rating=True)
    assert decode_arguments(CreateStreamArgs, {"name": "B"}).to_new_stream().entry_settings == (
        EntrySettings()
    )


def test_a_stream_update_merges_settings_into_the_current_ones() -> None:
    current = EntrySettings(statuses=("todo", "done"), default_status="todo", types=("note",))
    args = decode_arguments(
        UpdateStreamArgs,
        {"stream_id": str(uuid4()), "entry_settings": {"types": ["note", "idea"]}, "icon": None},
    )
    patch = args.to_patch(current)
    assert patch.entry_settings == EntrySettings(
        statuses=("todo", "done"), default_status="todo", types=("note", "idea")
    )
    assert patch.icon is None
    assert patch.name is UNSET
    with pytest.raises(InvalidInputError):
        decode_arguments(UpdateStreamArgs, {"stream_id": str(uuid4())}).to_patch()
