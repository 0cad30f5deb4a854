"""Ranked search over the caller's entries, relaxing to any word when all find nothing."""

from __future__ import annotations

from uuid import UUID

import msgspec

from trace_core import search as search_query
from trace_core.cursors import SearchPosition, fingerprint
from trace_core.model import EntryFilter, Principal, Scope, SearchHit, SearchResult
from trace_core.ports import SearchRequest
from trace_core.service._base import NO_UNIT_OF_WORK
from trace_core.service._entries import EntryUseCases


class SearchUseCases(EntryUseCases):
    """``search_entries``: falls back to ``list_entries`` when no index is configured."""

    async def search_entries(
        self,
        principal: Principal,
        query: str,
        *,
        filters: EntryFilter | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> SearchResult:
        """Ranked full-text search over the caller's live entries.

        Every word is required first; when that finds nothing, any word is
        enough and the result says ``relaxed``.

        Raises:
            InvalidInputError: empty query, bad limit or cursor.
            UnavailableError: the search engine is down.

        """
        self._require(principal, Scope.READ, "search_entries")
        self._check_query("query", query)
        parsed = search_query.parse_query(query, max_chars=self.limits.max_query_chars)
        limit = self._limit(
            "limit", limit, self.limits.search_default_limit, self.limits.search_max_limit
        )
        filters = filters or EntryFilter()
        # Only a stream id needs the database (does the stream exist in this
        # account?). With a search index that is asked only when the search
        # finds nothing: a hit is an entry of this account in that stream, so
        # the stream exists, and the lookup's transaction costs as much as the
        # search itself.
        stream_id = filters.stream if isinstance(filters.stream, UUID) else None
        if stream_id is not None and self.search is not None:
            filters = await self._check_filters(
                NO_UNIT_OF_WORK, principal, msgspec.structs.replace(filters, stream="all")
            )
            filters = msgspec.structs.replace(filters, stream=stream_id)
        elif stream_id is not None:
            async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
                filters = await self._check_filters(uow, principal, filters)
        else:
            filters = await self._check_filters(NO_UNIT_OF_WORK, principal, filters)
        # The cursor remembers the offset, whether page one had to relax to any
        # word (later pages must too, or they would skip hits), and which
        # query and filters it belongs to.
        scope = fingerprint(principal.account_id, parsed, filters)
        position = (
            self.cursors.decode(cursor, "search", scope, SearchPosition)
            if cursor is not None
            else SearchPosition(offset=0, match="all")
        )

        def next_cursor(more: bool, match: search_query.Match) -> str | None:
            if not more:
                return None
            following = SearchPosition(position.offset + limit, match)
            return self.cursors.encode("search", scope, following)

        if self.search is None:
            # No index configured: the reference's substring match, newest first.
            page = await self.list_entries(
                principal,
                msgspec.structs.replace(filters, text=parsed.text),
                limit=limit,
                offset=position.offset,
            )
            hits = [
                SearchHit(
                    entry=e,
                    score=0.0,
                    snippet=search_query.highlight_snippet(e.content, parsed.terms),
                )
                for e in page.items
            ]
            return SearchResult(
                hits=hits,
                query=parsed.text,
                limit=limit,
                next_cursor=next_cursor(page.next_cursor is not None, "all"),
            )
        match = position.match
        request = SearchRequest(
            query=parsed.text, filters=filters, limit=limit + 1, offset=position.offset, match=match
        )
        hits = await self.search.search(principal.account_id, request)
        if not hits and stream_id is not None:
            async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
                await self._stream(uow, principal, stream_id)
        if not hits and match == "all" and position.offset == 0 and len(parsed.terms) > 1:
            match = "any"
            hits = await self.search.search(
                principal.account_id, msgspec.structs.replace(request, match=match)
            )
        return SearchResult(
            hits=hits[:limit],
            query=parsed.text,
            limit=limit,
            next_cursor=next_cursor(len(hits) > limit, match),
            relaxed=match == "any",
        )
