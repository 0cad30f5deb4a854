"""Entries, search, tags, versions and the trash.

Routes: ``/api/v1/entries``, ``/api/v1/search``, ``/api/v1/tags``, ``/api/v1/trash``.

Each handler decodes into the MCP tool's arguments Struct (query strings through
:func:`~trace_http.web.api._common.decode_query`, bodies by Litestar with the
same Struct) and makes one call into the facade, which checks scope and tenancy.
An entry's ``version`` is its ``ETag``; ``If-Match`` on a write is its
``expected_version`` (a stale one answers 412 naming both versions).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.params import (
    FromPath,
    FromQuery,
    HeaderParameter,
    JSONBody,
    PathParameter,
    QueryParameter,
)

from trace_core.inputs import (
    CreateEntryArgs,
    EntryHistoryArgs,
    ListEntriesArgs,
    ListTrashArgs,
    SearchEntriesArgs,
    UpdateEntryArgs,
)
from trace_core.limits import LIST_MAX_LIMIT, MAX_OFFSET, SEARCH_MAX_LIMIT
from trace_core.model import Entry, Page, Principal, Stream
from trace_core.ordering import EntrySort
from trace_core.search import grouped_corrections
from trace_core.service import Trace
from trace_http.web.api._common import (
    ERRORS,
    decode_query,
    etag,
    expected_version,
    next_link,
)
from trace_http.web.api._types import (
    AttachmentOut,
    EntryChanges,
    EntryDetailOut,
    EntryOut,
    EntryPage,
    SearchHitOut,
    SearchPage,
    StreamOut,
    TagOut,
    VersionOut,
)

__all__ = ["EntriesController", "SearchController", "TrashController"]

IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='The ETag as read ("3"): the write fails with 412 if the entry changed since.',
        required=False,
    ),
]
Archived = Literal["false", "true", "all"]

_FILTER_DOC = {
    "stream_id": 'A stream id, or "inbox" for entries without a stream; omit for all.',
    "tags": "Entries with any of these tags (repeat the parameter or separate by commas).",
}


async def _streams(trace: Trace, principal: Principal, entries: list[Entry]) -> dict[UUID, Stream]:
    if not any(e.stream_id for e in entries):
        return {}
    return await trace.streams_by_id(principal)


async def _entry_outs(
    trace: Trace,
    principal: Principal,
    entries: list[Entry],
    *,
    include_content: bool = True,
    content_limit: object = None,
) -> list[EntryOut]:
    streams = await _streams(trace, principal, entries)
    counts = await trace.image_counts(principal, [e.entry_id for e in entries])
    return [
        EntryOut.of(
            e,
            streams.get(e.stream_id) if e.stream_id else None,
            include_content=include_content,
            content_limit=content_limit if isinstance(content_limit, int) else None,
            image_count=counts.get(e.entry_id, 0),
        )
        for e in entries
    ]


async def _entry_page(
    request: Request[Any, Any, Any],
    trace: Trace,
    principal: Principal,
    page: Page[Entry],
    *,
    include_content: bool,
    content_limit: object,
) -> Response[EntryPage]:
    """Answer a page of entries (listing or trash) with its ``Link`` to the next page."""
    items = await _entry_outs(
        trace, principal, page.items, include_content=include_content, content_limit=content_limit
    )
    body = EntryPage(
        items=items,
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=page.next_cursor,
    )
    return Response(body, headers=next_link(request, page.next_cursor))


async def _one(
    trace: Trace,
    principal: Principal,
    entry: Entry,
    status: int = 200,
) -> Response[EntryOut]:
    stream = None
    if entry.stream_id is not None:
        stream = (await trace.streams_by_id(principal)).get(entry.stream_id)
    return Response(
        EntryOut.of(entry, stream), status_code=status, headers={"ETag": etag(entry.version)}
    )


class EntriesController(Controller):
    """``/api/v1/entries``: list, read, create, change, delete; versions and images."""

    path = "/entries"
    tags = ["entries"]

    @get("/", responses=ERRORS, summary="List entries")
    async def list_entries(
        self,
        request: Request[Any, Any, Any],
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        stream_id: Annotated[
            str | None, QueryParameter(description=_FILTER_DOC["stream_id"])
        ] = None,
        tags: Annotated[list[str] | None, QueryParameter(description=_FILTER_DOC["tags"])] = None,
        tags_mode: FromQuery[Literal["any", "all"] | None] = None,
        status: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        is_archived: Annotated[
            Archived | None, QueryParameter(description="false (default), true, or all")
        ] = None,
        is_pinned: FromQuery[bool | None] = None,
        start_date: Annotated[str | None, QueryParameter(description="YYYY-MM-DD")] = None,
        end_date: Annotated[str | None, QueryParameter(description="YYYY-MM-DD")] = None,
        text: Annotated[
            str | None,
            QueryParameter(name="query", description="Text the entries must contain."),
        ] = None,
        limit: Annotated[int | None, QueryParameter(ge=1, le=LIST_MAX_LIMIT)] = None,
        offset: Annotated[int | None, QueryParameter(ge=0, le=MAX_OFFSET)] = None,
        cursor: Annotated[str | None, QueryParameter(description="From the Link header.")] = None,
        include_content: FromQuery[bool | None] = None,
        content_limit: Annotated[int | None, QueryParameter(ge=1)] = None,
        sort: Annotated[
            EntrySort | None,
            QueryParameter(description="entry_date (default -entry_date); - = descending."),
        ] = None,
        due_before: Annotated[str | None, QueryParameter(description="YYYY-MM-DD")] = None,
        overdue: Annotated[
            bool | None, QueryParameter(description="Only entries due before today.")
        ] = None,
    ) -> Response[EntryPage]:
        """List live entries, newest first, with every ``list_entries`` filter.

        The next page is in the ``Link`` header (``rel="next"``) and ``next_cursor``.
        """
        args = decode_query(ListEntriesArgs, request)
        page = await trace.list_entries(
            principal,
            args.to_filter(),
            limit=args.limit,
            offset=args.offset,
            cursor=args.cursor if isinstance(args.cursor, str) else None,
            sort=args.sort,
            overdue=args.overdue,
        )
        return await _entry_page(
            request,
            trace,
            principal,
            page,
            include_content=args.include_content,
            content_limit=args.content_limit,
        )

    @get("/{entry_id:uuid}", responses=ERRORS, summary="Get an entry")
    async def get_entry(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
    ) -> Response[EntryDetailOut]:
        """Return an entry with its stream and images; ``ETag`` is its version."""
        detail = await trace.get_entry(principal, entry_id)
        stream = detail.stream
        body = EntryDetailOut(
            entry=EntryOut.of(detail.entry, stream, image_count=len(detail.attachments)),
            stream=StreamOut.of(stream) if stream is not None else None,
            attachments=[AttachmentOut.of(a) for a in detail.attachments],
        )
        return Response(body, headers={"ETag": etag(detail.entry.version)})

    @post("/", responses=ERRORS, summary="Create an entry")
    async def create_entry(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        data: JSONBody[CreateEntryArgs],
    ) -> Response[EntryOut]:
        """Create an entry in a stream or the Inbox (201, ``ETag`` its version)."""
        entry = await trace.create_entry(principal, data.to_draft())
        response = await _one(trace, principal, entry, 201)
        response.headers["Location"] = f"/api/v1/entries/{entry.entry_id}"
        return response

    @patch("/{entry_id:uuid}", responses=ERRORS, summary="Change an entry")
    async def update_entry(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
        data: JSONBody[EntryChanges],  # type: ignore[valid-type]
        if_match: IfMatch = None,
    ) -> Response[EntryOut]:
        """Change the given fields (null clears; tags and content replace)."""
        args = UpdateEntryArgs(
            entry_id=str(entry_id),
            **msgspec.structs.asdict(data),
        )
        entry = await trace.update_entry(
            principal, entry_id, args.to_patch(), expected_version=expected_version(if_match)
        )
        return await _one(trace, principal, entry)

    @delete("/{entry_id:uuid}", responses=ERRORS, status_code=200, summary="Delete an entry")
    async def delete_entry(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
        if_match: IfMatch = None,
    ) -> Response[EntryOut]:
        """Move the entry to the trash (restore it with ``POST /trash/{id}/restore``)."""
        entry = await trace.delete_entry(
            principal, entry_id, expected_version=expected_version(if_match)
        )
        return await _one(trace, principal, entry)

    @get("/{entry_id:uuid}/versions", responses=ERRORS, summary="List an entry's versions")
    async def list_versions(
        self,
        request: Request[Any, Any, Any],
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
        limit: Annotated[int | None, QueryParameter(ge=1, le=LIST_MAX_LIMIT)] = None,
        offset: Annotated[int | None, QueryParameter(ge=0, le=MAX_OFFSET)] = None,
        include_content: FromQuery[bool | None] = None,
    ) -> list[VersionOut]:
        """Return the entry's stored versions, newest first."""
        args = decode_query(EntryHistoryArgs, request, {"entry_id": str(entry_id)})
        versions = await trace.entry_history(principal, entry_id)
        shown = versions[args.offset : args.offset + args.limit]
        streams = await trace.streams_by_id(principal) if shown else {}
        return [
            VersionOut.of(
                v,
                streams.get(v.snapshot.stream_id) if v.snapshot.stream_id else None,
                include_content=args.include_content,
            )
            for v in shown
        ]

    @get("/{entry_id:uuid}/versions/{version:int}", responses=ERRORS, summary="Get one version")
    async def get_version(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
        version: Annotated[int, PathParameter(ge=1, le=2**31 - 1)],
    ) -> VersionOut:
        """Return one stored version of the entry."""
        found = await trace.get_entry_version(principal, entry_id, version)
        streams = await trace.streams_by_id(principal)
        stream_id = found.snapshot.stream_id
        return VersionOut.of(
            found, streams.get(stream_id) if stream_id else None, include_content=True
        )

    @post(
        "/{entry_id:uuid}/versions/{version:int}/restore",
        responses=ERRORS,
        status_code=200,
        summary="Restore a version",
    )
    async def restore_version(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
        version: Annotated[int, PathParameter(ge=1, le=2**31 - 1)],
        if_match: IfMatch = None,
    ) -> Response[EntryOut]:
        """Bring the entry's fields back to that version (a new version; images stay)."""
        entry = await trace.restore_version(
            principal, entry_id, version, expected_version=expected_version(if_match)
        )
        return await _one(trace, principal, entry)


class SearchController(Controller):
    """``/api/v1/search`` and ``/api/v1/tags``."""

    path = "/"
    tags = ["search"]

    @get("/search", responses=ERRORS, summary="Search entries")
    async def search(
        self,
        request: Request[Any, Any, Any],
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        words: Annotated[
            str, QueryParameter(name="query", min_length=1, description="Words to look for.")
        ],
        limit: Annotated[int | None, QueryParameter(ge=1, le=SEARCH_MAX_LIMIT)] = None,
        cursor: FromQuery[str | None] = None,
        include_content: FromQuery[bool | None] = None,
        content_limit: Annotated[int | None, QueryParameter(ge=1)] = None,
        stream_id: Annotated[
            str | None, QueryParameter(description=_FILTER_DOC["stream_id"])
        ] = None,
        tags: Annotated[list[str] | None, QueryParameter(description=_FILTER_DOC["tags"])] = None,
        tags_mode: FromQuery[Literal["any", "all"] | None] = None,
        status: FromQuery[str | None] = None,
        type: FromQuery[str | None] = None,
        is_archived: FromQuery[Archived | None] = None,
        is_pinned: FromQuery[bool | None] = None,
        start_date: FromQuery[str | None] = None,
        end_date: FromQuery[str | None] = None,
    ) -> Response[SearchPage]:
        """Ranked search with the same filters as the entry list; snippets around matches."""
        args = decode_query(SearchEntriesArgs, request)
        result = await trace.search_entries(
            principal,
            args.query,
            filters=args.to_filter(),
            limit=args.limit,
            cursor=args.cursor if isinstance(args.cursor, str) else None,
        )
        outs = await _entry_outs(
            trace,
            principal,
            [h.entry for h in result.hits],
            include_content=args.include_content,
            content_limit=args.content_limit,
        )
        body = SearchPage(
            hits=[
                SearchHitOut(entry=out, score=h.score, snippet=h.snippet, relaxed=h.relaxed)
                for out, h in zip(outs, result.hits, strict=True)
            ],
            query=result.query,
            limit=result.limit,
            next_cursor=result.next_cursor,
            relaxed=result.relaxed,
            total=result.total,
            total_more=result.total_more,
            corrected=grouped_corrections(result.corrected),
            suggestions=list(result.suggestions),
        )
        return Response(body, headers=next_link(request, result.next_cursor))

    @get("/tags", responses=ERRORS, summary="List tags")
    async def tags_list(
        self, trace: NamedDependency[Trace], principal: NamedDependency[Principal]
    ) -> list[TagOut]:
        """Return the tags on live entries with their counts, most used first."""
        return [TagOut.of(t) for t in await trace.list_tags(principal)]


class TrashController(Controller):
    """``/api/v1/trash``: deleted entries, and bringing one back."""

    path = "/trash"
    tags = ["trash"]

    @get("/", responses=ERRORS, summary="List the trash")
    async def list_trash(
        self,
        request: Request[Any, Any, Any],
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        limit: Annotated[int | None, QueryParameter(ge=1, le=LIST_MAX_LIMIT)] = None,
        offset: Annotated[int | None, QueryParameter(ge=0, le=MAX_OFFSET)] = None,
        cursor: FromQuery[str | None] = None,
        include_content: FromQuery[bool | None] = None,
    ) -> Response[EntryPage]:
        """Return deleted entries, most recently deleted first."""
        args = decode_query(ListTrashArgs, request)
        page = await trace.list_trash(
            principal,
            limit=args.limit,
            offset=args.offset,
            cursor=args.cursor if isinstance(args.cursor, str) else None,
        )
        return await _entry_page(
            request,
            trace,
            principal,
            page,
            include_content=args.include_content,
            content_limit=args.content_limit,
        )

    @post("/{entry_id:uuid}/restore", responses=ERRORS, status_code=200, summary="Restore")
    async def restore(
        self,
        trace: NamedDependency[Trace],
        principal: NamedDependency[Principal],
        entry_id: FromPath[UUID],
    ) -> Response[EntryOut]:
        """Bring an entry back from the trash."""
        entry = await trace.restore_entry(principal, entry_id)
        return await _one(trace, principal, entry)
