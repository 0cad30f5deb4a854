"""The one cursor codec: signed, versioned, bound to its listing and its query."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime
from uuid import uuid4

import msgspec
import pytest

from trace_core.cursors import CursorCodec, OffsetPosition, SearchPosition, fingerprint
from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_CURSOR_CHARS
from trace_core.ports import ListPosition

KEY = b"k" * 32


def _unpack(cursor: str) -> tuple[bytes, bytes]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return raw[:-16], raw[-16:]


def _pack(payload: bytes, tag: bytes) -> str:
    return base64.urlsafe_b64encode(payload + tag).decode().rstrip("=")


def _refused(codec: CursorCodec, cursor: object, kind: str = "search", scope: str = "s") -> str:
    with pytest.raises(InvalidInputError) as caught:
        codec.decode(cursor, kind, scope, SearchPosition)  # type: ignore[arg-type]
    assert caught.value.field == "cursor"
    return caught.value.message


def test_a_cursor_round_trips_through_the_codec_that_made_it() -> None:
    codec = CursorCodec(KEY)
    position = ListPosition(
        entry_date=date(2026, 5, 1),
        created_at=datetime(2026, 5, 1, 9, tzinfo=UTC),
        entry_id=uuid4(),
    )
    for kind, value in (
        ("search", SearchPosition(40, "any")),
        ("trash", OffsetPosition(100)),
        ("entries", position),
    ):
        cursor = codec.encode(kind, "scope", value)  # type: ignore[arg-type]
        assert len(cursor) <= MAX_CURSOR_CHARS
        assert codec.decode(cursor, kind, "scope", type(value)) == value  # type: ignore[arg-type]


def test_a_cursor_with_an_altered_offset_is_refused() -> None:
    codec = CursorCodec(KEY)
    payload, tag = _unpack(codec.encode("search", "s", SearchPosition(20, "all")))
    forged = payload.replace(b"[20,", b"[999999999999999999999,")
    assert forged != payload

    message = _refused(codec, _pack(forged, tag))

    assert "not a cursor this server handed out" in message


def test_a_cursor_made_without_the_key_is_refused() -> None:
    # What the old, unsigned search cursor looked like: base64 of JSON, any offset.
    unsigned = base64.urlsafe_b64encode(json.dumps([10**6, "all", "fp"]).encode()).decode()
    _refused(CursorCodec(KEY), unsigned)
    other_key = CursorCodec(b"x" * 32).encode("search", "s", SearchPosition(0, "all"))
    _refused(CursorCodec(KEY), other_key, scope="s")


def test_a_cursor_of_another_query_is_refused_and_says_so() -> None:
    codec = CursorCodec(KEY)
    cursor = codec.encode("search", fingerprint("acct", "budget"), SearchPosition(20, "all"))

    message = _refused(codec, cursor, scope=fingerprint("acct", "holiday"))

    assert "different query or filters" in message


def test_a_cursor_of_another_listing_or_version_is_refused() -> None:
    codec = CursorCodec(KEY)
    trash = codec.encode("trash", "s", OffsetPosition(5))
    _refused(codec, trash, kind="search")
    payload = msgspec.json.encode([2, "search", "s", SearchPosition(0, "all")])
    future = _pack(payload, codec._tag(payload))  # a later format this code does not know
    _refused(codec, future)


@pytest.mark.parametrize(
    "garbage",
    ["", "abc", "!!!", "eyJ4IjoxfQ", "W10", "a" * 40, "é", 17, None, "A" * (MAX_CURSOR_CHARS + 1)],
)
def test_a_malformed_cursor_is_refused_naming_the_field(garbage: object) -> None:
    _refused(CursorCodec(KEY), garbage)


def test_a_huge_cursor_is_refused_with_a_short_answer() -> None:
    message = _refused(CursorCodec(KEY), "A" * 4_000_000)
    assert len(message) < 300


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        CursorCodec(b"short")
