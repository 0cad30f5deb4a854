"""Home, a stream's entries, search, tags and the trash."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from trace_core.errors import ConflictError, InvalidInputError, NotFoundError
from trace_core.model import EntryFilter
from trace_http.web.oauth._pages import Pages
from trace_http.web.pages._forms import entry_filter
from trace_http.web.pages._render import show_rating
from trace_http.web.pages._web import Web

__all__ = ["BrowseController"]

PAGE_SIZE = 50


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


class BrowseController(Controller):
    """Pages that list entries; all behind sign-in."""

    path = "/"
    include_in_schema = False

    @get("/home")
    async def home(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Pinned entries, the latest ones, the streams (archived ones folded away)."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        trace, principal = web.trace, signed.principal
        every = await trace.list_streams(principal, include_archived=True)
        streams = [s for s in every if not s.is_archived]
        pinned = await trace.list_entries(principal, EntryFilter(is_pinned=True), limit=10)
        recent = await trace.list_entries(principal, EntryFilter(), limit=20)
        by_id = {s.stream_id: s for s in every}
        return web.render(
            "home.html",
            signed,
            streams=streams,
            archived_streams=[s for s in every if s.is_archived],
            pinned=pinned.items,
            recent=recent.items,
            by_id=by_id,
            rating=show_rating,
        )

    @get("/streams/{stream_id:uuid}")
    async def stream(
        self,
        request: Request[Any, Any, Any],
        stream_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Show a stream's entries, 50 a page, with its filters (status, tag, dates...)."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        query = _query(request)
        try:
            stream = await web.trace.get_stream(signed.principal, stream_id)
        except NotFoundError:
            return web.not_found(signed, "stream")
        error = ""
        try:
            filters = entry_filter(query, stream_id)
            page = await web.trace.list_entries(
                signed.principal, filters, limit=PAGE_SIZE, cursor=query.get("cursor") or None
            )
            items, next_cursor, total = page.items, page.next_cursor, page.total
        except InvalidInputError as exc:
            error, items, next_cursor, total = exc.message, [], None, 0
        more = None
        if next_cursor:
            more = "?" + urlencode(
                {**{k: v for k, v in query.items() if k != "cursor"}, "cursor": next_cursor}
            )
        return web.render(
            "stream.html",
            signed,
            status=400 if error else 200,
            stream=stream,
            entries=items,
            total=total,
            query=query,
            more=more,
            error=error,
            rating=show_rating,
        )

    @get("/search")
    async def search(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Ranked search with snippets, narrowed by stream, tag, status and dates."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        query = _query(request)
        streams = await web.streams(signed)
        text = query.get("q", "").strip()
        hits: list[tuple[Any, str, bool]] = []
        error, relaxed, more = "", False, None
        total: int | None = None
        total_more = False
        corrected: tuple[tuple[str, str], ...] = ()
        suggestions: tuple[str, ...] = ()
        if text or query.get("tag"):
            try:
                stream: Any = "all"
                if query.get("stream"):
                    stream = uuid.UUID(query["stream"]) if query["stream"] != "inbox" else "inbox"
                filters = msgspec.structs.replace(entry_filter(query, stream), text=None)
                if text:
                    result = await web.trace.search_entries(
                        signed.principal, text, filters=filters, cursor=query.get("cursor") or None
                    )
                    hits = [(h.entry, h.snippet, h.relaxed) for h in result.hits]
                    relaxed = result.relaxed
                    total, corrected = result.total, result.corrected
                    total_more = result.total_more
                    suggestions = result.suggestions
                    if result.next_cursor:
                        more = "?" + urlencode({**query, "cursor": result.next_cursor})
                else:
                    page = await web.trace.list_entries(signed.principal, filters, limit=PAGE_SIZE)
                    hits = [(e, "", False) for e in page.items]
            except InvalidInputError as exc:
                error = exc.message
            except ValueError:
                error = "stream: not a stream id"
            except NotFoundError:
                error = "stream: no such stream"
        return web.render(
            "search.html",
            signed,
            status=400 if error else 200,
            query=query,
            streams=streams,
            hits=hits,
            relaxed=relaxed,
            total=total,
            total_more=total_more,
            corrected=corrected,
            suggestions=suggestions,
            more=more,
            error=error,
            by_id={s.stream_id: s for s in streams},
        )

    @get("/tags")
    async def tag_list(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Every tag with how many entries carry it."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        return web.render("tags.html", signed, tags=await web.trace.list_tags(signed.principal))

    @get("/trash")
    async def trash(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Show deleted entries, newest first, with when each goes for good."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        cursor = request.query_params.get("cursor") or None
        try:
            page = await web.trace.list_trash(signed.principal, limit=PAGE_SIZE, cursor=cursor)
        except InvalidInputError as exc:
            return web.render(
                "message.html",
                signed,
                status=400,
                heading="Bad link",
                message=exc.message,
                link="/trash",
            )
        rows = [(e, web.trace.purge_at(e)) for e in page.items]
        more = "?" + urlencode({"cursor": page.next_cursor}) if page.next_cursor else None
        return web.render("trash.html", signed, rows=rows, more=more, total=page.total)

    @post("/trash/{entry_id:uuid}/restore", status_code=303)
    async def restore(
        self,
        request: Request[Any, Any, Any],
        entry_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Bring an entry back from the trash and open it."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, _form = posted
        try:
            await web.trace.restore_entry(signed.principal, entry_id)
        except NotFoundError:
            return web.not_found(signed, "entry")
        except ConflictError:
            pass  # already back: open it
        return Pages.redirect(f"/entries/{entry_id}")
