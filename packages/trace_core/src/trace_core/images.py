"""Recognise image files and read their dimensions from the header bytes.

Only the formats Trace accepts as attachments: JPEG, PNG, WebP and GIF. This is
pure Python on purpose: core must not depend on an imaging library, and the
header is all we need (type, width, height).
"""

from __future__ import annotations

import struct

import msgspec

from trace_core.errors import InvalidInputError

__all__ = ["ALLOWED_IMAGE_TYPES", "ImageInfo", "sniff_image"]

ALLOWED_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


class ImageInfo(msgspec.Struct, frozen=True):
    """What the header says: MIME type and pixel size."""

    mime_type: str
    width: int
    height: int


def _bad(reason: str) -> InvalidInputError:
    return InvalidInputError("file", reason, allowed=ALLOWED_IMAGE_TYPES)


def _png(data: bytes) -> ImageInfo:
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise _bad("truncated PNG header")
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("image/png", width, height)


def _gif(data: bytes) -> ImageInfo:
    if len(data) < 10:
        raise _bad("truncated GIF header")
    width, height = struct.unpack("<HH", data[6:10])
    return ImageInfo("image/gif", width, height)


# Start-of-frame markers carry the size; DHT (C4), JPG (C8) and DAC (CC) share the range.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def _jpeg(data: bytes) -> ImageInfo:
    i = 2
    n = len(data)
    while i + 4 <= n:
        if data[i] != 0xFF:
            raise _bad("corrupt JPEG marker stream")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF_MARKERS:
            if i + 9 > n:
                break
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return ImageInfo("image/jpeg", width, height)
        if length < 2:
            raise _bad("corrupt JPEG segment length")
        i += 2 + length
    raise _bad("JPEG without a frame header")


def _webp(data: bytes) -> ImageInfo:
    if len(data) < 30:
        raise _bad("truncated WebP header")
    chunk = data[12:16]
    if chunk == b"VP8 ":
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        b = data[21:25]
        width = 1 + (((b[1] & 0x3F) << 8) | b[0])
        height = 1 + (((b[3] & 0x0F) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        return ImageInfo("image/webp", width, height)
    if chunk == b"VP8X":
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return ImageInfo("image/webp", width, height)
    raise _bad("unknown WebP chunk")


def sniff_image(data: bytes) -> ImageInfo:
    """Return the type and size of an image from its bytes.

    Raises:
        InvalidInputError: (field ``file``) the bytes are not a JPEG, PNG, WebP or GIF.

    """
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        info = _png(data)
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        info = _gif(data)
    elif data.startswith(b"\xff\xd8"):
        info = _jpeg(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        info = _webp(data)
    else:
        raise _bad("not an image Trace accepts")
    if info.width <= 0 or info.height <= 0:
        raise _bad("image has no pixels")
    return info
