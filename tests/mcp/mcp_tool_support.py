"""Helpers shared by the MCP tool tests (imported by conftest and tests)."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from mcp import Client
from trace_core.model import Principal, Scope

SECRET = b"s" * 48
PUBLIC_URL = "https://trace.example.com"


def png(width: int = 2, height: int = 3, *, payload: bytes = b"") -> bytes:
    """A valid PNG of ``width`` x ``height`` (plus ``payload`` in an ancillary chunk)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x80" * (3 * width) for _ in range(height))
    extra = chunk(b"teXt", payload) if payload else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + extra
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def read_only(principal: Principal, *, via: str = "api_key") -> Principal:
    return Principal(
        account_id=principal.account_id,
        scopes=frozenset({Scope.READ}),
        actor=f"{principal.actor}-read",
        via=via,  # type: ignore[arg-type]
        credential_id=f"{principal.credential_id}-read",
    )


Connect = Callable[..., AbstractAsyncContextManager[Client]]
