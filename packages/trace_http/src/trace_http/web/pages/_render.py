"""What the people's pages show: Markdown as safe HTML, ratings, snippets, diffs, templates.

Markdown goes through two well-kept libraries, each doing one job:

- **markdown-it-py** (CommonMark, plus tables and strikethrough) parses it with
  raw HTML turned off, so ``<script>`` in an entry is text, and with its link
  validation, so ``javascript:``/``vbscript:``/``data:`` links are not links;
- **nh3** (ammonia's allow-list sanitiser) then cleans the HTML that comes out:
  only harmless tags and attributes stay, URLs only with ``http``, ``https`` and
  ``mailto`` (and relative ones), links get ``rel="noopener noreferrer nofollow"``.

The sanitiser is the guarantee; the parser's settings make its job small. The
pages' Content-Security-Policy (no inline script, images only from this origin)
is a third wall, not the first.
"""

from __future__ import annotations

import difflib
import html
import re
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nh3
from jinja2 import Environment, PackageLoader, pass_context, select_autoescape
from jinja2.runtime import Context
from markdown_it import MarkdownIt
from markupsafe import Markup

from trace_core.model import Entry, EntrySettings, Stream

__all__ = [
    "DiffLine",
    "entry_fields_diff",
    "environment",
    "line_diff",
    "render_markdown",
    "show_rating",
    "show_time",
    "snippet_html",
    "zone_of",
]

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "td": {"align"},
    "th": {"align"},
}
_URL_SCHEMES = {"http", "https", "mailto"}


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"]
    )


def render_markdown(text: str) -> Markup:
    """Return an entry's Markdown as sanitised HTML, safe to put in a page."""
    raw = _parser().render(text)
    clean = nh3.clean(
        raw,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return Markup(clean)  # noqa: S704 - nh3 made it safe


def show_rating(entry: Entry, stream: Stream | None) -> str:
    """Return the rating as the stream shows it: stars (halves) or ``n/10``."""
    if entry.rating is None:
        return ""
    settings = stream.entry_settings if stream else EntrySettings(rating_type="numeric")
    if settings.rating_type == "stars":
        whole, half = divmod(entry.rating, 2)
        return "★" * whole + ("½" if half else "") + "☆" * (5 - whole - half)
    return f"{entry.rating}/10"


def rating_value(entry: Entry, stream: Stream | None) -> str:
    """Return the rating in the stream's display units, for a form field."""
    if entry.rating is None:
        return ""
    settings = stream.entry_settings if stream else EntrySettings(rating_type="numeric")
    if settings.rating_type == "stars":
        value = entry.rating / 2
        return str(int(value)) if value == int(value) else str(value)
    return str(entry.rating)


_MARK = re.compile(r"\*\*(.+?)\*\*")


def snippet_html(snippet: str) -> Markup:
    """Return a search snippet with its ``**matched**`` words as ``<mark>`` (escaped)."""
    escaped = html.escape(snippet, quote=True)
    return Markup(_MARK.sub(r"<mark>\1</mark>", escaped))  # noqa: S704 - escaped above


class DiffLine:
    """One line of a readable diff: ``kind`` is ``same``, ``added`` or ``removed``."""

    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str) -> None:
        self.kind = kind
        self.text = text


def line_diff(old: str, new: str, *, context: int = 3) -> list[DiffLine]:
    """Return the lines that differ between two texts, with a little context."""
    lines: list[DiffLine] = []
    a, b = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        if lines:
            lines.append(DiffLine("gap", "…"))
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                lines.extend(DiffLine("same", t) for t in a[i1:i2])
                continue
            lines.extend(DiffLine("removed", t) for t in a[i1:i2])
            lines.extend(DiffLine("added", t) for t in b[j1:j2])
    return lines


_COMPARED = ("title", "tags", "status", "type", "priority", "rating", "entry_date", "due_date")


def _shown(value: Any) -> str:
    if value is None or value == ():
        return "—"
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def entry_fields_diff(old: Entry | None, new: Entry) -> list[tuple[str, str, str]]:
    """Return ``(field, before, after)`` for each field besides content that changed."""
    if old is None:
        return []
    return [
        (name.replace("_", " "), _shown(getattr(old, name)), _shown(getattr(new, name)))
        for name in _COMPARED
        if getattr(old, name) != getattr(new, name)
    ]


def zone_of(account: object) -> ZoneInfo:
    """Return the person's time zone (``Account.time_zone``; UTC when unset or unknown)."""
    name = getattr(account, "time_zone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def show_time(value: datetime | date | None, zone: ZoneInfo) -> str:
    """Return a timestamp in the person's zone, to the minute, with the zone's abbreviation."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        local = value.astimezone(zone)
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return value.isoformat()


@pass_context
def _when(context: Context, value: datetime | date | None) -> str:
    return show_time(value, zone_of(context.get("me")))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Return the pages' Jinja2 environment (templates in the package, autoescaped)."""
    env = Environment(
        loader=PackageLoader("trace_http.web.pages", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["markdown"] = render_markdown
    env.filters["when"] = _when
    env.filters["snippet"] = snippet_html
    return env
