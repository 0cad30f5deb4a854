"""Reading image headers: the four formats, their limits, and no crash on any bytes."""

from __future__ import annotations

import contextlib
import random
import struct

import pytest

from trace_core.errors import InvalidInputError
from trace_core.images import check_image, check_size, same_image_type, sniff_image
from trace_core.testing.images import declaring, gif_bytes, image_bytes, jpeg_bytes, png_bytes

FORMATS = ["image/png", "image/jpeg", "image/webp", "image/gif"]


@pytest.mark.parametrize("mime_type", FORMATS)
@pytest.mark.parametrize(("width", "height"), [(1, 1), (3, 2), (17, 9), (640, 480)])
def test_each_format_is_recognised_with_its_pixel_size(
    mime_type: str, width: int, height: int
) -> None:
    info = check_image(image_bytes(mime_type, width, height))
    assert (info.mime_type, info.width, info.height) == (mime_type, width, height)


@pytest.mark.parametrize("mime_type", FORMATS)
def test_every_cut_of_a_file_is_either_read_or_refused_as_bad_input(mime_type: str) -> None:
    data = image_bytes(mime_type, 5, 4)
    fields: list[str] = []
    for end in range(len(data)):
        try:
            info = check_image(data[:end])
        except InvalidInputError as exc:
            fields.append(exc.field)
        else:
            assert (info.width, info.height) == (5, 4)
    assert len(fields) >= 8, "a cut inside the header is refused"
    assert set(fields) == {"file"}


@pytest.mark.parametrize("magic", [b"\x89PNG\r\n\x1a\n", b"GIF89a", b"\xff\xd8\xff", b"RIFF"])
def test_random_bytes_behind_a_signature_never_raise_anything_but_bad_input(magic: bytes) -> None:
    rng = random.Random(magic)
    for _ in range(1_000):
        tail = rng.randbytes(rng.randrange(0, 64))
        data = magic + (b"\x00\x00\x00\x00WEBP" if magic == b"RIFF" else b"") + tail
        with contextlib.suppress(InvalidInputError):
            check_image(data)


def test_a_gif_frame_larger_than_its_screen_is_checked_too() -> None:
    small = gif_bytes(2, 2)
    at = small.index(b",", 25)
    # The screen says 2x2, the frame 30,000 x 30,000 (decoders grow the canvas to fit).
    bomb = small[: at + 5] + struct.pack("<HH", 30_000, 30_000) + small[at + 9 :]
    assert sniff_image(bomb).width == 2
    with pytest.raises(InvalidInputError, match="30,000x30,000"):
        check_image(bomb)


def test_a_lossy_webp_header_is_read() -> None:
    frame = b"\x10\x02\x00" + b"\x9d\x01\x2a" + struct.pack("<HH", 640, 480) + b"\x00" * 8
    chunk = b"VP8 " + struct.pack("<I", len(frame)) + frame
    data = b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk
    assert check_image(data).width == 640
    with pytest.raises(InvalidInputError, match="VP8"):
        check_image(data.replace(b"\x9d\x01\x2a", b"\x00\x00\x00"))


def test_a_jpeg_scan_before_any_frame_header_is_refused() -> None:
    data = b"\xff\xd8\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" + b"\x00" * 20
    with pytest.raises(InvalidInputError, match="frame header"):
        check_image(data)


def test_a_png_with_a_wrong_header_checksum_is_refused() -> None:
    data = bytearray(png_bytes())
    data[20] ^= 0xFF
    with pytest.raises(InvalidInputError, match="checksum"):
        check_image(bytes(data))


def test_zero_pixels_are_refused() -> None:
    with pytest.raises(InvalidInputError, match="0x9"):
        check_image(declaring(jpeg_bytes(), 0, 9))


def test_the_limits_are_inclusive() -> None:
    assert check_image(declaring(png_bytes(), 20_000, 2_500)).width == 20_000
    with pytest.raises(InvalidInputError):
        check_image(declaring(png_bytes(), 20_000, 2_501))
    assert check_image(png_bytes(10, 10), max_pixels=100, max_side=10).height == 10


def test_the_field_named_is_the_callers() -> None:
    with pytest.raises(InvalidInputError) as info:
        check_image(b"nope", field="data")
    assert info.value.field == "data"
    assert info.value.allowed == ["image/jpeg", "image/png", "image/webp", "image/gif"]


def test_sizes_are_checked_before_anything_is_read() -> None:
    check_size(10, 10)
    with pytest.raises(InvalidInputError, match="at most 10 bytes"):
        check_size(11, 10, field="data")
    with pytest.raises(InvalidInputError, match="empty"):
        check_size(0, 10)


@pytest.mark.parametrize(
    ("declared", "sniffed", "same"),
    [
        (None, "image/png", True),
        ("image/png", "image/png", True),
        ("IMAGE/PNG; charset=binary", "image/png", True),
        ("image/jpg", "image/jpeg", True),
        ("image/png", "image/jpeg", False),
        ("image/svg+xml", "image/png", False),
        ("application/octet-stream", "image/gif", False),
    ],
)
def test_a_declared_type_is_compared_with_what_the_bytes_are(
    declared: str | None, sniffed: str, same: bool
) -> None:
    assert same_image_type(declared, sniffed) is same
