"""Tiny valid image files for tests (no imaging library needed)."""

from __future__ import annotations

import struct
import zlib

__all__ = ["png_bytes"]


def png_bytes(width: int = 3, height: int = 2, *, seed: int = 0) -> bytes:
    """Return a valid RGB PNG of the given size; ``seed`` varies the pixel bytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    pixel = bytes(((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    raw = b"".join(b"\x00" + pixel * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
