"""Recognise image files and check their dimensions from the header bytes alone.

Only the formats Trace accepts as attachments: JPEG, PNG, WebP and GIF. This is
pure Python on purpose: core must not depend on an imaging library, and the
header is all we need (type, width, height). Nothing here decodes pixels, so a
crafted file costs a walk over its header, never memory in proportion to the
canvas it declares; :func:`check_image` refuses canvases larger than the limits
(a "decompression bomb": a small file whose decoder would need gigabytes).

The type comes from the bytes, never from a name or a declared media type: a
caller's ``content_type`` is not trusted (:func:`same_image_type` lets a
transport say when the two differ). SVG is refused: it is a document that can
carry scripts, not a picture.
"""

from __future__ import annotations

import struct
import zlib

import msgspec

from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_ATTACHMENT_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE

__all__ = [
    "ALLOWED_IMAGE_TYPES",
    "ImageInfo",
    "check_image",
    "check_size",
    "same_image_type",
    "sniff_image",
]

ALLOWED_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")

_MIB = 1024 * 1024

_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}

# Formats people try that Trace does not take, recognised to say so by name.
_OTHER_FORMATS: tuple[tuple[int, bytes, str], ...] = (
    (4, b"ftypheic", "HEIC"),
    (4, b"ftypheix", "HEIC"),
    (4, b"ftypmif1", "HEIF"),
    (4, b"ftypavif", "AVIF"),
    (0, b"BM", "BMP"),
    (0, b"II*\x00", "TIFF"),
    (0, b"MM\x00*", "TIFF"),
    (0, b"%PDF", "PDF"),
    (0, b"\x00\x00\x01\x00", "ICO"),
)


class ImageInfo(msgspec.Struct, frozen=True):
    """What the header says: MIME type and pixel size."""

    mime_type: str
    width: int
    height: int


class _RefusedError(Exception):
    """Why the bytes are not an image we take (turned into InvalidInputError)."""


def _png(data: bytes) -> ImageInfo:
    # Signature (8), then the IHDR chunk: length 13, type, width, height, 5 bytes, CRC.
    if len(data) < 33:
        raise _RefusedError("truncated PNG header")
    length, kind = struct.unpack(">I4s", data[8:16])
    if kind != b"IHDR" or length != 13:
        raise _RefusedError("corrupt PNG header (no IHDR chunk first)")
    (crc,) = struct.unpack(">I", data[29:33])
    if zlib.crc32(data[12:29]) != crc:
        raise _RefusedError("corrupt PNG header (IHDR checksum does not match)")
    width, height = struct.unpack(">II", data[16:24])
    return ImageInfo("image/png", width, height)


def _gif_sub_blocks(data: bytes, i: int) -> int:
    """Skip a GIF data sub-block sequence starting at ``i``; return the index after it."""
    while True:
        if i >= len(data):
            raise _RefusedError("truncated GIF data")
        size = data[i]
        i += 1 + size
        if size == 0:
            return i


def _gif(data: bytes) -> tuple[ImageInfo, list[tuple[int, int]]]:
    # Header (6) and logical screen descriptor (7), then an optional global colour table.
    if len(data) < 13:
        raise _RefusedError("truncated GIF header")
    width, height, flags = struct.unpack("<HHB", data[6:11])
    i = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    # Each frame states its own size, and decoders grow the canvas to fit a larger
    # one: every frame is checked, not only the screen.
    frames: list[tuple[int, int]] = []
    ended = False
    while i < len(data):
        block = data[i]
        if block == 0x3B:  # trailer
            ended = True
            break
        if block == 0x21:  # extension: label, then sub-blocks
            i = _gif_sub_blocks(data, i + 2)
        elif block == 0x2C:  # image descriptor
            if i + 10 > len(data):
                raise _RefusedError("truncated GIF frame header")
            left, top, frame_w, frame_h, frame_flags = struct.unpack("<HHHHB", data[i + 1 : i + 10])
            frames.append((left + frame_w, top + frame_h))
            i += 10 + (3 << ((frame_flags & 7) + 1) if frame_flags & 0x80 else 0)
            i = _gif_sub_blocks(data, i + 1)  # LZW minimum code size, then the data
        else:
            raise _RefusedError("corrupt GIF block")
    if not frames:
        raise _RefusedError("GIF without an image" if ended else "truncated GIF (no image in it)")
    return ImageInfo("image/gif", width, height), frames


# Start-of-frame markers carry the size; DHT (C4), JPG (C8) and DAC (CC) share the range.
_SOF_MARKERS = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_START_OF_SCAN = 0xDA


def _jpeg(data: bytes) -> ImageInfo:
    i = 2
    n = len(data)
    while True:
        if i + 4 > n:
            raise _RefusedError("truncated JPEG header (no frame header)")
        if data[i] != 0xFF:
            raise _RefusedError("corrupt JPEG marker stream")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # markers without a length
            i += 2
            continue
        if marker == _START_OF_SCAN or marker == 0xD9:
            raise _RefusedError("JPEG without a frame header")
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            raise _RefusedError("corrupt JPEG segment length")
        if marker in _SOF_MARKERS:
            if length < 8 or i + 9 > n:
                raise _RefusedError("truncated JPEG frame header")
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return ImageInfo("image/jpeg", width, height)
        i += 2 + length


def _webp(data: bytes) -> ImageInfo:
    if len(data) < 20:
        raise _RefusedError("truncated WebP header")
    chunk = data[12:16]
    if chunk == b"VP8 ":
        # Frame tag (3 bytes), start code 9d 01 2a, then 14-bit width and height.
        if len(data) < 30:
            raise _RefusedError("truncated WebP header")
        if data[23:26] != b"\x9d\x01\x2a":
            raise _RefusedError("corrupt WebP (VP8) header")
        width, height = struct.unpack("<HH", data[26:30])
        return ImageInfo("image/webp", width & 0x3FFF, height & 0x3FFF)
    if chunk == b"VP8L":
        if len(data) < 25:
            raise _RefusedError("truncated WebP header")
        if data[20] != 0x2F:
            raise _RefusedError("corrupt WebP (VP8L) header")
        b = data[21:25]
        width = 1 + (((b[1] & 0x3F) << 8) | b[0])
        height = 1 + (((b[3] & 0x0F) << 10) | (b[2] << 2) | ((b[1] & 0xC0) >> 6))
        return ImageInfo("image/webp", width, height)
    if chunk == b"VP8X":
        if len(data) < 30:
            raise _RefusedError("truncated WebP header")
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return ImageInfo("image/webp", width, height)
    raise _RefusedError("corrupt WebP (unknown first chunk)")


def _is_svg(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!doctype svg")) and b"<svg" in data[:4096].lower()


def _recognise(data: bytes) -> tuple[ImageInfo, list[tuple[int, int]]]:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _png(data), []
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(data)
    if data.startswith(b"\xff\xd8\xff"):
        return _jpeg(data), []
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _webp(data), []
    if _is_svg(data):
        raise _RefusedError("SVG is not accepted (an SVG file can carry scripts); send a PNG")
    for offset, magic, name in _OTHER_FORMATS:
        if data[offset : offset + len(magic)] == magic:
            raise _RefusedError(f"{name} is not accepted; convert it to JPEG or PNG")
    raise _RefusedError("not an image Trace accepts")


def sniff_image(data: bytes, *, field: str = "file") -> ImageInfo:
    """Return the type and size of an image from its bytes (no limits: see :func:`check_image`).

    Raises:
        InvalidInputError: (``field``) the bytes are not a JPEG, PNG, WebP or GIF,
            or its header is truncated or corrupt.

    """
    try:
        return _recognise(data)[0]
    except _RefusedError as exc:
        raise InvalidInputError(field, str(exc), allowed=ALLOWED_IMAGE_TYPES) from None


def check_size(size: int, limit: int = MAX_ATTACHMENT_BYTES, *, field: str = "file") -> None:
    """Refuse a file of ``size`` bytes over ``limit`` (or empty), before anyone reads it all.

    Raises:
        InvalidInputError: (``field``) the file is empty or larger than ``limit``.

    """
    if size > limit:
        raise InvalidInputError(
            field,
            f"the file is {size:,} bytes ({size / _MIB:.1f} MiB); "
            f"at most {limit:,} bytes ({limit / _MIB:.1f} MiB)",
        )
    if size <= 0:
        raise InvalidInputError(field, "the file is empty")


def check_image(
    data: bytes,
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_side: int = MAX_IMAGE_SIDE,
    field: str = "file",
) -> ImageInfo:
    """Return the type and size of an image, refusing one whose canvas is too large.

    The limits apply to the size the header declares (every frame of a GIF),
    so a small file declaring a huge canvas is refused before anything decodes it.

    Raises:
        InvalidInputError: (``field``) not an accepted image, a truncated or
            corrupt header, no pixels, or more than ``max_side`` pixels a side
            or ``max_pixels`` pixels in all.

    """
    try:
        info, frames = _recognise(data)
    except _RefusedError as exc:
        raise InvalidInputError(field, str(exc), allowed=ALLOWED_IMAGE_TYPES) from None
    if info.width <= 0 or info.height <= 0:
        raise InvalidInputError(field, f"the image declares {info.width}x{info.height} pixels")
    for width, height in [(info.width, info.height), *frames]:
        if width > max_side or height > max_side or width * height > max_pixels:
            raise InvalidInputError(
                field,
                f"the image declares {width:,}x{height:,} pixels; at most {max_side:,} "
                f"pixels a side and {max_pixels:,} pixels in all",
            )
    return info


def same_image_type(declared: str | None, sniffed: str) -> bool:
    """Whether a caller's declared media type names the type the bytes have.

    ``image/jpg`` counts as ``image/jpeg``; parameters (``; charset=…``) and case
    are ignored. None (nothing declared) agrees with anything.
    """
    if declared is None:
        return True
    kind = declared.split(";", 1)[0].strip().lower()
    return _ALIASES.get(kind, kind) == sniffed
