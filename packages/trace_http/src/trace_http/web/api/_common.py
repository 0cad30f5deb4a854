"""What the API's controllers share: error responses in the schema, ETags, query decoding."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.openapi.datastructures import ResponseSpec

from trace_core.errors import InvalidInputError
from trace_core.inputs import decode_arguments

__all__ = [
    "ERRORS",
    "Problem",
    "decode_query",
    "etag",
    "expected_version",
    "next_link",
]

ArgsT = TypeVar("ArgsT", bound=msgspec.Struct)


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """An error (RFC 9457 problem details); ``field`` names the input at fault."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    field: str | None = None
    allowed: list[Any] | None = None
    expected_version: int | None = None
    current_version: int | None = None


def _spec(description: str) -> ResponseSpec:
    return ResponseSpec(
        data_container=Problem, description=description, media_type="application/problem+json"
    )


ERRORS: dict[int, ResponseSpec] = {
    400: _spec("Bad input: `field` names it (and `allowed` the values it may take)."),
    401: _spec("No valid credential (see WWW-Authenticate)."),
    403: _spec("The credential's scope does not allow this, or a CSRF check failed."),
    404: _spec("No such thing in the caller's account."),
    409: _spec("Conflicts with the current state."),
    412: _spec("If-Match named an older version: `expected_version` and `current_version`."),
    413: _spec("The request body is too large."),
    429: _spec("Too many requests (see Retry-After)."),
}
"""The problem answers every route documents (a few cannot happen on every route)."""


def etag(version: int) -> str:
    """Return the ETag of an entry at ``version``."""
    return f'"{version}"'


def expected_version(if_match: str | None) -> int | None:
    """Return the version an ``If-Match`` header names (None: no header, or ``*``).

    Raises:
        InvalidInputError: (``If-Match``) not one entry ETag.

    """
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"').strip()
    if text.isdigit() and len(text) <= 10:
        value = int(text)
        if 1 <= value <= 2**31 - 1:
            return value
    raise InvalidInputError("If-Match", 'must be one entry ETag, e.g. "3" (the entry\'s version)')


def decode_query(
    args_type: type[ArgsT], request: Request[Any, Any, Any], extra: Mapping[str, Any] = {}
) -> ArgsT:
    """Decode the query string as ``args_type`` (the MCP tool's arguments), naming the field.

    ``tags`` may be repeated or comma-separated; ``is_archived=all`` means both.
    """
    values: dict[str, Any] = {}
    for name in request.query_params:
        got = request.query_params.getall(name)
        if name == "tags":
            values[name] = [t.strip() for item in got for t in item.split(",") if t.strip()]
        else:
            values[name] = got[-1]
    if values.get("is_archived") in ("all", "any", "both"):
        values["is_archived"] = None
        return _decode_with_null_archived(args_type, {**values, **extra})
    return decode_arguments(args_type, {**values, **extra})


def _decode_with_null_archived(args_type: type[ArgsT], values: dict[str, Any]) -> ArgsT:
    # decode_arguments reads an explicit null as "not given" only for required fields;
    # is_archived=null means both live and archived.
    values.pop("is_archived")
    decoded = decode_arguments(args_type, values)
    return msgspec.structs.replace(decoded, is_archived=None)


def next_link(request: Request[Any, Any, Any], cursor: str | None) -> dict[str, str]:
    """Return the ``Link: <…>; rel="next"`` header for the page after this one, if any."""
    if cursor is None:
        return {}
    params = [(k, v) for k in request.query_params for v in request.query_params.getall(k)]
    params = [(k, v) for k, v in params if k not in ("cursor", "offset")]
    params.append(("cursor", cursor))
    from urllib.parse import urlencode

    return {"Link": f'<{request.url.path}?{urlencode(params)}>; rel="next"'}
