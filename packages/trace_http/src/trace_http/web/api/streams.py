"""Streams: ``/api/v1/streams`` (list, get, create, change, archive)."""

from __future__ import annotations

from uuid import UUID

import msgspec
from litestar import Controller, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from trace_core.inputs import CreateStreamArgs, UpdateStreamArgs
from trace_core.model import Principal
from trace_core.service import Trace
from trace_http.web.api._common import ERRORS
from trace_http.web.api._types import StreamChanges, StreamOut

__all__ = ["StreamsController"]


class StreamsController(Controller):
    """``/api/v1/streams``."""

    path = "/streams"
    tags = ["streams"]

    @get("/", responses=ERRORS, summary="List streams")
    async def list_streams(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        include_archived: FromQuery[bool] = False,
    ) -> list[StreamOut]:
        """Return the caller's streams (archived ones too with ``include_archived=true``)."""
        streams = await trace.list_streams(principal, include_archived=include_archived)
        return [StreamOut.of(s) for s in streams]

    @get("/{stream_id:uuid}", responses=ERRORS, summary="Get a stream")
    async def get_stream(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        stream_id: FromPath[UUID],
    ) -> StreamOut:
        """Return one stream with its entry settings and entry count."""
        return StreamOut.of(await trace.get_stream(principal, stream_id))

    @post("/", responses=ERRORS, summary="Create a stream")
    async def create_stream(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        data: JSONBody[CreateStreamArgs],
    ) -> Response[StreamOut]:
        """Create a stream (201)."""
        stream = await trace.create_stream(principal, data.to_new_stream())
        return Response(
            StreamOut.of(stream),
            status_code=201,
            headers={"Location": f"/api/v1/streams/{stream.stream_id}"},
        )

    @patch("/{stream_id:uuid}", responses=ERRORS, summary="Change a stream")
    async def update_stream(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        stream_id: FromPath[UUID],
        data: JSONBody[StreamChanges],  # type: ignore[valid-type]
    ) -> StreamOut:
        """Change the given fields; given entry settings merge into the current ones."""
        args = UpdateStreamArgs(
            stream_id=str(stream_id),
            **msgspec.structs.asdict(data),
        )
        current = await trace.get_stream(principal, stream_id)
        stream = await trace.update_stream(
            principal, stream_id, args.to_patch(current.entry_settings)
        )
        return StreamOut.of(stream)

    @post("/{stream_id:uuid}/archive", responses=ERRORS, status_code=200, summary="Archive")
    async def archive_stream(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        stream_id: FromPath[UUID],
        archived: FromQuery[bool] = True,
    ) -> StreamOut:
        """Archive the stream (``archived=false`` brings it back); its entries stay."""
        return StreamOut.of(await trace.archive_stream(principal, stream_id, archived=archived))
