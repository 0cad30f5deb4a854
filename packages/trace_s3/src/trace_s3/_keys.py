"""Object names: the configured prefix, then a checked blob key."""

from __future__ import annotations

import re
from urllib.parse import quote

from trace_core.errors import InvalidInputError

__all__ = ["MAX_KEY", "content_disposition", "normalized_prefix", "object_name"]

MAX_KEY = 512
"""Longest blob key accepted (S3 allows 1,024 bytes for the whole object name)."""

# The same rule as the filesystem store: '/'-separated plain names, so a key means
# the same object on every store and none can climb out of the prefix on servers
# that normalise paths.
_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}")
_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")


def normalized_prefix(prefix: str) -> str:
    """Return ``prefix`` as ``a/b/`` (or empty), refusing anything but plain names.

    Raises:
        InvalidInputError: (``storage.blobs.prefix``) a segment is not a plain name.

    """
    segments = [s for s in prefix.strip("/").split("/") if s]
    if not all(_PREFIX_SEGMENT.fullmatch(s) for s in segments):
        raise InvalidInputError(
            "storage.blobs.prefix",
            "must be '/'-separated names of letters, digits, '.', '_' or '-'",
        )
    return "".join(f"{s}/" for s in segments)


def object_name(prefix: str, key: str) -> str:
    """Return the object name of blob ``key`` under the normalized ``prefix``.

    Raises:
        InvalidInputError: (``blob_key``) the key is empty, too long, or has a
            segment that is not a plain name (``..``, ``.hidden``, empty).

    """
    if not key or len(key) > MAX_KEY:
        raise InvalidInputError("blob_key", f"must be 1 to {MAX_KEY} characters")
    if not all(_SEGMENT.fullmatch(segment) for segment in key.split("/")):
        raise InvalidInputError(
            "blob_key", "must be '/'-separated names of letters, digits, '.', '_' or '-'"
        )
    return prefix + key


def content_disposition(filename: str | None) -> str:
    """Return an ``inline`` Content-Disposition naming ``filename`` (RFC 6266, RFC 8187).

    The plain ``filename`` keeps printable ASCII only; ``filename*`` carries the
    name in full, percent-encoded UTF-8, for browsers that read it.
    """
    if not filename:
        return "inline"
    plain = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in filename)
    return f"inline; filename=\"{plain}\"; filename*=UTF-8''{quote(filename, safe='')}"
