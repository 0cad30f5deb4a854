"""The web app for people: their streams, entries, images, search, trash and settings.

Server-rendered pages (Jinja2 templates in this package) with a little
JavaScript: htmx (vendored from its npm package into ``static/``) for the live
Markdown preview, and ``static/app.js`` for drag-and-drop and paste of images,
copy buttons and confirmations. No inline script or style, nothing loaded from
another origin (the CSP says so). The sign-in session and CSRF tokens are the
OAuth pages' (:mod:`trace_http.web.oauth._pages`).

Rooms:

- :mod:`~trace_http.web.pages.browse` — ``/home``, ``/streams/{id}``, ``/search``,
  ``/tags``, ``/trash``;
- :mod:`~trace_http.web.pages.entries` — ``/entries/{id}`` (the URL search and
  fetch hand out), new, edit with conflict resolution, images, history;
- :mod:`~trace_http.web.pages.streams` — create and edit a stream;
- :mod:`~trace_http.web.pages.settings` — account, password, export and import.

A browser's ``GET /`` (``Accept: text/html``) is sent to ``/home``
(:func:`wants_page`); MCP clients keep ``/`` and ``/mcp``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from litestar import Router
from litestar.di import Provide
from litestar.static_files import create_static_files_router

from trace_http.web.oauth._pages import Pages
from trace_http.web.pages._web import Web
from trace_http.web.pages.browse import BrowseController
from trace_http.web.pages.entries import EntriesController
from trace_http.web.pages.settings import SettingsController
from trace_http.web.pages.streams import StreamsController

if TYPE_CHECKING:
    from trace_http.runtime import Runtime

__all__ = ["STATIC_DIR", "pages_router", "wants_page"]

STATIC_DIR = Path(__file__).parent / "static"


def wants_page(method: str, headers: Mapping[str, str] | Any) -> bool:
    """Whether a request to ``/`` is a browser asking for a page (not an MCP client).

    MCP clients POST, or GET with ``Accept: text/event-stream``; a browser's
    navigation asks for ``text/html``.
    """
    if method not in ("GET", "HEAD"):
        return False
    accept = str(headers.get("accept", "")).lower()
    return "text/html" in accept and "text/event-stream" not in accept


def pages_router(runtime: Runtime, pages: Pages) -> Router:
    """Return the people's pages and their static files, wired to ``runtime``."""
    web = Web(runtime, pages)

    def provide() -> Web:
        return web

    static = create_static_files_router(
        path="/static",
        directories=[STATIC_DIR],
        name="static",
        include_in_schema=False,
        cache_control=None,
        send_as_attachment=False,
    )
    return Router(
        path="/",
        route_handlers=[
            BrowseController,
            EntriesController,
            StreamsController,
            SettingsController,
            static,
        ],
        dependencies={"web": Provide(provide, use_cache=True, sync_to_thread=False)},
        include_in_schema=False,  # the OpenAPI document describes the REST API only
    )
