"""Tiny valid image files for tests (no imaging library needed).

Each builder writes a small, decodable file of the asked size in its format's
simplest form: PNG (RGB, zlib), GIF (one frame, a two-colour palette), JPEG
(baseline, greyscale, every block flat) and WebP (lossless VP8L, one colour).
:func:`declaring` rewrites the size a file's header declares, which is how a
decompression bomb looks to a header reader: few bytes, a huge canvas.
"""

from __future__ import annotations

import struct
import zlib

__all__ = ["declaring", "gif_bytes", "image_bytes", "jpeg_bytes", "png_bytes", "webp_bytes"]


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


class _Bits:
    """Bits packed into bytes, least significant bit first (GIF's LZW, WebP's VP8L)."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.value = 0
        self.count = 0

    def put(self, value: int, width: int) -> None:
        self.value |= value << self.count
        self.count += width
        while self.count >= 8:
            self.out.append(self.value & 0xFF)
            self.value >>= 8
            self.count -= 8

    def bytes(self) -> bytes:
        return bytes(self.out) + (bytes((self.value,)) if self.count else b"")


def gif_bytes(width: int = 3, height: int = 2, *, seed: int = 0) -> bytes:
    """Return a valid one-frame GIF89a of the given size; ``seed`` varies the palette."""
    # LZW with a 2-bit minimum code size: codes 0-3 are colours, 4 clears, 5 ends.
    # A clear code after every two pixels keeps every code 3 bits wide.
    bits = _Bits()
    for i in range(width * height):
        if i % 2 == 0:
            bits.put(4, 3)
        bits.put(i % 2, 3)
    bits.put(5, 3)
    data = bits.bytes()
    blocks = b"".join(
        bytes((len(data[i : i + 255]),)) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    colour = bytes(((seed * 37) % 256, (seed * 91) % 256, (seed * 13) % 256))
    palette = colour + b"\xff\xff\xff" + b"\x00" * 6  # four entries (size field 1)
    return (
        b"GIF89a"
        + struct.pack("<HHBBB", width, height, 0x81, 0, 0)
        + palette
        + b","
        + struct.pack("<HHHHB", 0, 0, width, height, 0)
        + b"\x02"
        + blocks
        + b"\x00;"
    )


def jpeg_bytes(width: int = 3, height: int = 2, *, seed: int = 0) -> bytes:
    """Return a valid baseline greyscale JPEG of the given size (mid grey).

    One quantisation table, and Huffman tables of a single code each: every
    8x8 block is "DC unchanged, end of block", two bits. ``seed`` goes into a
    comment, so different seeds give different bytes.
    """

    def segment(marker: int, body: bytes) -> bytes:
        return bytes((0xFF, marker)) + struct.pack(">H", len(body) + 2) + body

    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    scan_bits = "00" * blocks
    scan_bits += "1" * (-len(scan_bits) % 8)  # pad the last byte with ones
    scan = int(scan_bits, 2).to_bytes(len(scan_bits) // 8, "big") if scan_bits else b""
    one_code = bytes((1,)) + bytes(15) + b"\x00"  # one code of length 1, for symbol 0
    return (
        b"\xff\xd8"
        + segment(0xFE, f"trace test image {seed}".encode())
        + segment(0xDB, b"\x00" + bytes([1]) * 64)
        + segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
        + segment(0xC4, b"\x00" + one_code)
        + segment(0xC4, b"\x10" + one_code)
        + segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + scan
        + b"\xff\xd9"
    )


def webp_bytes(width: int = 3, height: int = 2, *, seed: int = 0) -> bytes:
    """Return a valid lossless WebP (VP8L) of the given size, all one colour from ``seed``.

    Every prefix code holds a single symbol, so no pixel needs a bit.
    """
    bits = _Bits()
    bits.put(0x2F, 8)  # signature
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(0, 1)  # alpha unused
    bits.put(0, 3)  # version 0
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    green, red, blue = (seed * 91) % 256, (seed * 37) % 256, (seed * 13) % 256
    for symbol in (green, red, blue, 255):  # green, red, blue, alpha: 8-bit symbols
        bits.put(1, 1)  # simple code
        bits.put(0, 1)  # one symbol
        bits.put(1, 1)  # 8 bits wide
        bits.put(symbol, 8)
    bits.put(1, 1)  # distance: simple code, one 1-bit symbol, 0
    bits.put(0, 1)
    bits.put(0, 1)
    bits.put(0, 1)
    payload = bits.bytes()
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\x00" * (len(payload) % 2)
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def image_bytes(mime_type: str, width: int = 3, height: int = 2, *, seed: int = 0) -> bytes:
    """Return a valid image of ``mime_type`` (``image/png``, ``/gif``, ``/jpeg``, ``/webp``)."""
    builders = {
        "image/png": png_bytes,
        "image/gif": gif_bytes,
        "image/jpeg": jpeg_bytes,
        "image/webp": webp_bytes,
    }
    return builders[mime_type](width, height, seed=seed)


def declaring(data: bytes, width: int, height: int) -> bytes:
    """Return a copy of an image from this module whose header declares ``width`` x ``height``.

    Only the header changes: the file stays tiny, as a decompression bomb does.
    WebP gets an extended (VP8X) header, the only one that states sizes over 16,384.
    """
    if data.startswith(b"\x89PNG"):
        ihdr = b"IHDR" + struct.pack(">II", width, height) + data[24:29]
        return data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]
    if data.startswith(b"GIF"):
        screen = data[:6] + struct.pack("<HH", width, height) + data[10:]
        at = screen.index(b",", 13 + 12)
        return screen[: at + 5] + struct.pack("<HH", width, height) + screen[at + 9 :]
    if data.startswith(b"\xff\xd8"):
        at = data.index(b"\xff\xc0")
        return data[: at + 5] + struct.pack(">HH", height, width) + data[at + 9 :]
    if data.startswith(b"RIFF"):
        vp8x = b"VP8X" + struct.pack("<I", 10) + b"\x00" * 4
        vp8x += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks = vp8x + data[12:]
        return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks
    raise ValueError("not an image from trace_core.testing.images")
