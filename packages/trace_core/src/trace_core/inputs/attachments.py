"""Arguments of the attachment use cases, and the base64 an image travels as in JSON."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated
from uuid import UUID

from msgspec import UNSET, Meta, UnsetType

from trace_core.errors import InvalidInputError
from trace_core.inputs._parse import parse_uuid
from trace_core.inputs._types import ArgsStruct, Id
from trace_core.limits import (
    MAX_ATTACHMENT_BASE64_CHARS,
    MAX_FILENAME_CHARS,
    MAX_MEDIA_TYPE_CHARS,
)

__all__ = ["AddAttachmentArgs", "AttachmentArgs", "decode_base64"]

# ``data:image/png;base64,`` in front of the base64, as browsers and many tools write it.
_DATA_URL = re.compile(r"data:[^,;]{0,100}(?:;[^,;]{0,100}){0,4};base64,", re.IGNORECASE)
_URL_SAFE = str.maketrans("-_", "+/")


def decode_base64(field: str, text: str) -> bytes:
    """Return the bytes of base64 ``text``, forgiving what encoders commonly add.

    A ``data:…;base64,`` prefix, line breaks and spaces, the URL-safe alphabet
    (``-`` and ``_``) and missing ``=`` padding are accepted; anything else that
    is not base64 is refused.

    Raises:
        InvalidInputError: (``field``) the text is not base64.

    """
    prefix = _DATA_URL.match(text)
    if prefix:
        text = text[prefix.end() :]
    if not text.isascii():
        raise InvalidInputError(field, "is not base64: it holds characters outside A-Z a-z 0-9 + /")
    if any(c in text for c in " \t\r\n"):
        text = "".join(text.split())
    if "-" in text or "_" in text:
        text = text.translate(_URL_SAFE)
    text += "=" * (-len(text) % 4)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(
            field, "is not base64: only A-Z a-z 0-9 + / and = padding are allowed"
        ) from None


class AttachmentArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``get_attachment_url``, ``get_attachment_data`` and ``delete_attachment``."""

    attachment_id: Id

    def attachment_uuid(self) -> UUID:
        """Return ``attachment_id`` parsed."""
        return parse_uuid("attachment_id", self.attachment_id)


class AddAttachmentArgs(ArgsStruct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Arguments of ``add_attachment``: an image file for an entry, as base64 text."""

    entry_id: Id
    data: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=MAX_ATTACHMENT_BASE64_CHARS,
            description="The file in base64.",
        ),
    ]
    filename: Annotated[
        str,
        Meta(
            min_length=1,
            max_length=MAX_FILENAME_CHARS,
            description="e.g. chart.png",
        ),
    ]
    content_type: (
        Annotated[
            str,
            Meta(
                max_length=MAX_MEDIA_TYPE_CHARS,
                description="Ignored: read from the bytes.",
            ),
        ]
        | UnsetType
    ) = UNSET

    def entry_uuid(self) -> UUID:
        """Return ``entry_id`` parsed."""
        return parse_uuid("entry_id", self.entry_id)

    def file_bytes(self) -> bytes:
        """Return ``data`` decoded.

        Raises:
            InvalidInputError: (``data``) not base64.

        """
        return decode_base64("data", self.data)
