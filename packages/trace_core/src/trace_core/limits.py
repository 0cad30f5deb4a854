"""How much one request may ask for: every size limit on input, defined once.

Each transport states these limits (the MCP tool schemas use them as
``maxLength``/``maxItems``/``maximum``, the CLI and a REST API likewise) and
the facade enforces them, so a value refused by one door is refused by every
door with the same message. They bound the work one request can cause: no
query, id, cursor, tag or title is ever walked character by character beyond
its limit (``docs/architecture.md`` § Limits has the table).

:class:`Limits` carries the values the facade checks; its defaults are the
constants below. A deployment may lower them; raising them above the
constants only helps transports that do not state the constants themselves.
"""

from __future__ import annotations

import msgspec

__all__ = [
    "LIST_DEFAULT_LIMIT",
    "LIST_MAX_LIMIT",
    "MAX_ATTACHMENT_BASE64_CHARS",
    "MAX_ATTACHMENT_BYTES",
    "MAX_CHOICES",
    "MAX_CHOICE_CHARS",
    "MAX_COLOR_CHARS",
    "MAX_CONTENT_BYTES",
    "MAX_CONTENT_CHARS",
    "MAX_CONTENT_LIMIT",
    "MAX_CURSOR_CHARS",
    "MAX_DATE_CHARS",
    "MAX_FILENAME_CHARS",
    "MAX_ICON_CHARS",
    "MAX_ID_CHARS",
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "MAX_MEDIA_TYPE_CHARS",
    "MAX_OFFSET",
    "MAX_QUERY_CHARS",
    "MAX_STREAM_NAME_CHARS",
    "MAX_TAGS",
    "MAX_TAG_CHARS",
    "MAX_TEXT_CHARS",
    "MAX_TITLE_CHARS",
    "MAX_VERSION",
    "QUOTE_CHARS",
    "SEARCH_DEFAULT_LIMIT",
    "SEARCH_MAX_LIMIT",
    "SEARCH_TOTAL_CAP",
    "Limits",
    "base64_chars",
]

MAX_QUERY_CHARS = 1_000
"""A search or list query: a few hundred words (only the first 32 words are searched)."""

MAX_TITLE_CHARS = 500
"""An entry title (and a stream's ``title_template``)."""

MAX_CONTENT_BYTES = 1_000_000
"""An entry's Markdown content, in UTF-8 bytes."""

MAX_CONTENT_CHARS = MAX_CONTENT_BYTES
"""The same limit in characters, as schemas state it (a character is at least one byte)."""

MAX_TAG_CHARS = 100
"""One tag."""

MAX_TAGS = 100
"""Tags on one entry, or in one filter."""

MAX_CHOICE_CHARS = 100
"""A status or type (an entry's, a filter's, or one of a stream's allowed values)."""

MAX_CHOICES = 100
"""Allowed types, or allowed statuses, of one stream."""

MAX_STREAM_NAME_CHARS = 200
"""A stream's name (and an account's display name)."""

MAX_TEXT_CHARS = 5_000
"""A stream's description or ``content_template``."""

MAX_COLOR_CHARS = 7
"""A hex color: ``#abc`` or ``#aabbcc``."""

MAX_ICON_CHARS = 64
"""An icon identifier."""

MAX_FILENAME_CHARS = 255
"""An attachment's file name."""

MAX_ID_CHARS = 100
"""An id as text (a UUID is 36 characters; braces, ``urn:uuid:`` and spaces fit too)."""

MAX_DATE_CHARS = 40
"""A date or timestamp as text (``2026-05-01``, ``2026-05-01T09:30:00.000000+02:00``)."""

MAX_CURSOR_CHARS = 512
"""A ``next_cursor`` as handed out (they are about 100 to 250 characters)."""

MAX_OFFSET = 1_000_000
"""How many items an ``offset`` may skip; page further with ``next_cursor``."""

MAX_CONTENT_LIMIT = 100_000
"""The largest ``content_limit`` (characters of each entry's content an answer shows)."""

LIST_DEFAULT_LIMIT = 50
"""Entries on one page of a listing when no ``limit`` is given."""

LIST_MAX_LIMIT = 100
"""The largest ``limit`` of a listing."""

SEARCH_DEFAULT_LIMIT = 20
"""Hits on one page of a search when no ``limit`` is given."""

SEARCH_MAX_LIMIT = 50
"""The largest ``limit`` of a search."""

SEARCH_TOTAL_CAP = 1000
"""A search counts its full matches up to this many (beyond: ``total_more``).

Counting every match of a common word reads every matching row (half an
account for some words); "1,000 or more" tells a person or a model as much
(Meilisearch's and Elasticsearch's totals stop at a bound too).
"""

MAX_VERSION = 2**31 - 1
"""The largest ``expected_version`` (the stored version is a 32-bit integer)."""

QUOTE_CHARS = 40
"""How much of a bad value an error message quotes."""

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
"""One attachment file (10 MiB): the default of the ``storage.max_attachment_bytes`` setting."""

MAX_IMAGE_PIXELS = 50_000_000
"""Pixels (width x height) an attached image may declare: 50 megapixels.

A small file can declare a huge canvas (a "decompression bomb"); whatever
decodes it (a browser, an assistant, a thumbnailer) would need gigabytes.
"""

MAX_IMAGE_SIDE = 20_000
"""The widest or tallest an attached image may be, in pixels."""

MAX_MEDIA_TYPE_CHARS = 100
"""A media type as a caller states it (``image/png``)."""


def base64_chars(size: int) -> int:
    """Return the length of ``size`` bytes in padded base64 (4 characters per 3 bytes)."""
    return 4 * ((size + 2) // 3)


MAX_ATTACHMENT_BASE64_CHARS = base64_chars(MAX_ATTACHMENT_BYTES)
"""The largest attachment as base64 text (an MCP ``add_attachment`` ``data`` argument)."""


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Sizes and page limits the facade enforces (defaults: the constants of this module)."""

    max_content_bytes: int = MAX_CONTENT_BYTES
    max_title_chars: int = MAX_TITLE_CHARS
    max_tags: int = MAX_TAGS
    max_tag_chars: int = MAX_TAG_CHARS
    max_choice_chars: int = MAX_CHOICE_CHARS
    max_choices: int = MAX_CHOICES
    max_stream_name_chars: int = MAX_STREAM_NAME_CHARS
    max_text_chars: int = MAX_TEXT_CHARS
    max_query_chars: int = MAX_QUERY_CHARS
    max_offset: int = MAX_OFFSET
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES
    max_image_pixels: int = MAX_IMAGE_PIXELS
    max_image_side: int = MAX_IMAGE_SIDE
    list_default_limit: int = LIST_DEFAULT_LIMIT
    list_max_limit: int = LIST_MAX_LIMIT
    search_default_limit: int = SEARCH_DEFAULT_LIMIT
    search_max_limit: int = SEARCH_MAX_LIMIT
    search_total_cap: int = SEARCH_TOTAL_CAP
    trash_retention_days: int = 30
