"""Create and edit a stream with its settings (statuses, types, rating, template)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from trace_core.errors import ConflictError, InvalidInputError, NotFoundError
from trace_core.model import NewStream, Stream, StreamPatch
from trace_http.web.oauth._pages import Pages
from trace_http.web.pages._forms import entry_settings
from trace_http.web.pages._web import Signed, Web

__all__ = ["StreamsController"]


def _values(stream: Stream | None) -> dict[str, str]:
    if stream is None:
        return {"rating_type": "stars"}
    s = stream.entry_settings
    return {
        "name": stream.name,
        "description": stream.description or "",
        "statuses": "\n".join(s.statuses),
        "default_status": s.default_status or "",
        "types": "\n".join(s.types),
        "use_rating": "on" if s.use_rating else "",
        "rating_type": s.rating_type,
        "use_priority": "on" if s.use_priority else "",
        "use_duedates": "on" if s.use_duedates else "",
        "content_template": s.content_template or "",
        "is_archived": "on" if stream.is_archived else "",
    }


class StreamsController(Controller):
    """``/streams/new`` and ``/streams/{id}/edit``."""

    path = "/streams"
    include_in_schema = False

    def _form(
        self,
        web: Web,
        signed: Signed,
        stream: Stream | None,
        values: dict[str, str],
        *,
        status: int = 200,
        error: str = "",
    ) -> Response[Any]:
        return web.render(
            "stream_form.html", signed, status=status, stream=stream, values=values, error=error
        )

    @get("/new")
    async def new(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Show the new-stream form."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        return self._form(web, signed, None, _values(None))

    @post("/", status_code=303)
    async def create(
        self, request: Request[Any, Any, Any], web: NamedDependency[Web]
    ) -> Response[Any]:
        """Create the stream and open it."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        try:
            stream = await web.trace.create_stream(
                signed.principal,
                NewStream(
                    name=form.get("name", "").strip(),
                    description=form.get("description", "").strip() or None,
                    entry_settings=entry_settings(form),
                ),
            )
        except (InvalidInputError, ConflictError) as exc:
            return self._form(web, signed, None, form, status=400, error=exc.message)
        return Pages.redirect(f"/streams/{stream.stream_id}")

    @get("/{stream_id:uuid}/edit")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        stream_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Show the stream's settings form."""
        signed = await web.who(request)
        if signed is None:
            return web.to_sign_in(request)
        try:
            stream = await web.trace.get_stream(signed.principal, stream_id)
        except NotFoundError:
            return web.not_found(signed, "stream")
        return self._form(web, signed, stream, _values(stream))

    @post("/{stream_id:uuid}/edit", status_code=303)
    async def save(
        self,
        request: Request[Any, Any, Any],
        stream_id: FromPath[uuid.UUID],
        web: NamedDependency[Web],
    ) -> Response[Any]:
        """Save the stream's name, description, archive flag and settings."""
        posted = await web.posted(request)
        if isinstance(posted, Response):
            return posted
        signed, form = posted
        try:
            stream = await web.trace.get_stream(signed.principal, stream_id)
        except NotFoundError:
            return web.not_found(signed, "stream")
        try:
            await web.trace.update_stream(
                signed.principal,
                stream_id,
                StreamPatch(
                    name=form.get("name", "").strip(),
                    description=form.get("description", "").strip() or None,
                    is_archived=form.get("is_archived") == "on",
                    entry_settings=entry_settings(form, stream.entry_settings),
                ),
            )
        except (InvalidInputError, ConflictError) as exc:
            return self._form(web, signed, stream, form, status=400, error=exc.message)
        return Pages.redirect(f"/streams/{stream_id}")
