"""Page cursors: one signed, versioned codec for every listing that pages.

A cursor tells the server where the next page starts (a keyset position, or an
offset and how a search was relaxed). It travels through clients that cannot be
trusted, so it is signed: ``base64url(payload ‖ tag)`` where the payload is the
JSON array ``[version, kind, scope, position]`` and the tag is the first 16
bytes of HMAC-SHA256 over the payload with the server's cursor key, checked in
constant time. Nobody without the key can make a cursor, change its offset or
move it to another listing:

- ``kind`` names the listing (``entries``, ``entries-search``, ``search``,
  ``trash``), so a cursor of one is refused by another;
- ``scope`` is a digest of the account, the query and the filters
  (:func:`fingerprint`), so a cursor from another query is refused with a
  message that says so;
- ``version`` lets the format change later: cursors of an unknown version are
  refused like foreign ones (a client starts again from the first page).

The key comes from the composition root (a setting, or a file generated once in
the data directory); a facade built without one gets a random key, which only
means its cursors do not outlive it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Any, Literal, TypeVar

import msgspec

from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_CURSOR_CHARS

__all__ = [
    "CURSOR_VERSION",
    "CursorCodec",
    "CursorKind",
    "OffsetPosition",
    "SearchPosition",
    "fingerprint",
]

CURSOR_VERSION = 1
"""The payload layout written now; others are refused."""

CursorKind = Literal["entries", "entries-search", "search", "trash"]
"""Which listing a cursor pages through."""

_TAG_BYTES = 16
_MIN_KEY_BYTES = 16

T = TypeVar("T")


class OffsetPosition(msgspec.Struct, frozen=True, array_like=True):
    """A page that starts ``offset`` items in (listings ordered by rank or deletion time)."""

    offset: int


class SearchPosition(msgspec.Struct, frozen=True, array_like=True):
    """Where the next page of a search starts.

    Attributes:
        offset: hits to skip.
        match: ``all`` or ``any`` (a relaxed search stays relaxed on later pages).
        near: typed words and the near spellings page one added (later pages
            search the same corrected query).

    """

    offset: int
    match: Literal["all", "any"]
    near: tuple[tuple[str, str], ...] = ()


def fingerprint(*parts: Any) -> str:
    """Return a short digest of what a listing is over (account, query, filters).

    It sits inside the signed payload, so it needs no key of its own: it only
    lets the codec tell "a cursor of another query" from "not a cursor".
    """
    return hashlib.sha256(msgspec.json.encode(parts)).hexdigest()[:16]


def _not_ours() -> InvalidInputError:
    return InvalidInputError(
        "cursor",
        "is not a cursor this server handed out; pass next_cursor from the previous page "
        "unchanged, or start without a cursor",
    )


class CursorCodec:
    """Make and read signed page cursors.

    Args:
        key: the server's cursor key (at least 16 bytes); ``None`` for a random
            one (tests, in-memory use).

    """

    def __init__(self, key: bytes | None = None) -> None:
        key = secrets.token_bytes(32) if key is None else key
        if len(key) < _MIN_KEY_BYTES:
            raise ValueError(f"a cursor key needs at least {_MIN_KEY_BYTES} bytes")
        self._key = key

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_TAG_BYTES]

    def encode(self, kind: CursorKind, scope: str, position: msgspec.Struct) -> str:
        """Return a cursor for ``position`` in the listing ``kind`` over ``scope``."""
        payload = msgspec.json.encode([CURSOR_VERSION, kind, scope, position])
        return base64.urlsafe_b64encode(payload + self._tag(payload)).decode("ascii").rstrip("=")

    def decode(self, cursor: object, kind: CursorKind, scope: str, position: type[T]) -> T:
        """Return the position a cursor from :meth:`encode` holds.

        Raises:
            InvalidInputError: (field ``cursor``) not a string this codec signed,
                made for another listing or version, or for another query or
                filters.

        """
        if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS:
            raise _not_ours()
        try:
            raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        except (binascii.Error, ValueError):
            raise _not_ours() from None
        payload, tag = raw[:-_TAG_BYTES], raw[-_TAG_BYTES:]
        if not payload or not hmac.compare_digest(tag, self._tag(payload)):
            raise _not_ours()
        try:
            version, got_kind, got_scope, body = msgspec.json.decode(
                payload, type=tuple[int, str, str, msgspec.Raw]
            )
            if version != CURSOR_VERSION or got_kind != kind:
                raise _not_ours()
            if got_scope != scope:
                raise InvalidInputError(
                    "cursor",
                    "belongs to a different query or filters; start without a cursor",
                )
            return msgspec.json.decode(body, type=position)
        except msgspec.DecodeError:
            # Signed by us but unreadable: only a change of format does that.
            raise _not_ours() from None
