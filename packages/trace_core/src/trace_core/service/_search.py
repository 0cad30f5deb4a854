"""Ranked search over the caller's entries, relaxing to any word when all find nothing."""

from __future__ import annotations

from uuid import UUID

import msgspec

from trace_core import search as search_query
from trace_core.cursors import SearchPosition, fingerprint
from trace_core.model import EntryFilter, Principal, Scope, SearchHit, SearchResult
from trace_core.ports import SearchIndex, SearchRequest
from trace_core.search_text import typo_distance
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

        Every word is required first. When that fills less than the page,
        near spellings (from the account's own words) of the typed words the
        account has no entry with are searched too, then entries with any of
        the words fill the page, flagged ``relaxed``. A search that finds
        nothing says what to try.

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

        def next_cursor(
            more: bool, match: search_query.Match, near: tuple[tuple[str, str], ...] = ()
        ) -> str | None:
            if not more:
                return None
            following = SearchPosition(position.offset + limit, match, near)
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
                total=page.total,
            )
        request = SearchRequest(
            query=parsed.text,
            filters=filters,
            limit=limit + 1,
            offset=position.offset,
            match=position.match,
            parsed=parsed,
            # One more than the cap: "more than the cap" is told from "the cap".
            count_limit=self.limits.search_total_cap + 1,
        )
        cap = self.limits.search_total_cap
        if position.match == "all" and not position.near:
            hits = await self.search.search(principal.account_id, request)
            if len(hits) > limit:
                total = await self.search.count(principal.account_id, request)
                return SearchResult(
                    hits=hits[:limit],
                    query=parsed.text,
                    limit=limit,
                    next_cursor=next_cursor(len(hits) > limit, "all"),
                    total=min(total, cap),
                    total_more=total > cap,
                )
            vocabulary = await self._vocabulary(principal.account_id, parsed)
            near = _near_pairs(parsed, vocabulary)
            # Page one's full matches are known (even when there are none);
            # a later page's start from its offset, so the stages re-ask them.
            exact: list[SearchHit] | None = hits if position.offset == 0 else None
        else:
            exact = None
            vocabulary = None
            near = position.near
        # The full matches ran out on this page (or an earlier one): below
        # them come those of the typo-corrected query, then any-word matches.
        corrected = parsed.with_corrections(search_query.grouped_corrections(near))
        pieces = await _pages_of_stages(
            self.search, principal.account_id, request, parsed, corrected, exact, near
        )
        found = pieces.page[position.offset : position.offset + limit + 1]
        relaxed = any(h.relaxed for h in found[:limit])
        if not found and stream_id is not None:
            async with self.storage.unit_of_work(account_id=principal.account_id) as uow:
                await self._stream(uow, principal, stream_id)
        suggestions: tuple[str, ...] = ()
        if not found and position.offset == 0:
            suggestions = await self._suggestions(principal.account_id, request, parsed, vocabulary)
        match: search_query.Match = "any" if pieces.any_used else "all"
        return SearchResult(
            hits=found[:limit],
            query=parsed.text,
            limit=limit,
            next_cursor=next_cursor(len(found) > limit, match, near),
            relaxed=relaxed,
            total=None if pieces.full_matches is None else min(pieces.full_matches, cap),
            total_more=pieces.full_matches is not None and pieces.full_matches > cap,
            corrected=near,
            suggestions=suggestions,
        )

    async def _vocabulary(
        self, account_id: UUID, parsed: search_query.ParsedQuery
    ) -> dict[str, tuple[str, ...]] | None:
        """Look the typed words up in the account's own words, if one of them may be a typo.

        One lookup serves the corrections and, when nothing is found, the
        suggestions (which words no entry has). None: nothing was asked.
        """
        assert self.search is not None
        words = parsed.plain_words()
        if not any(typo_distance(w) for w in words):
            return None
        return await self.search.similar_words(account_id, words)

    async def _suggestions(
        self,
        account_id: UUID,
        request: SearchRequest,
        parsed: search_query.ParsedQuery,
        vocabulary: dict[str, tuple[str, ...]] | None,
    ) -> tuple[str, ...]:
        """Return what to try when a search found nothing (fewer words, no filters).

        ``vocabulary`` is the lookup of the typed words the search made already, if any.
        """
        assert self.search is not None
        tips: list[str] = []
        unknown = vocabulary
        if unknown is None:
            unknown = await self.search.similar_words(account_id, parsed.plain_words())
        missing = [w for w in parsed.plain_words() if w in unknown and not unknown[w]]
        if missing and len(parsed.all_clauses) > len(missing):
            tips.append("no entry has " + ", ".join(f"'{w}'" for w in missing) + ": leave it out")
        elif len(parsed.all_clauses) > 1:
            tips.append("fewer or other words")
        active = _active_filters(request.filters)
        if active:
            everywhere = msgspec.structs.replace(request, filters=EntryFilter(is_archived=None))
            found = await self.search.count(account_id, everywhere)
            if found:
                cap = self.limits.search_total_cap
                many = f"more than {cap}" if found > cap else str(found)
                tips.append(f"{many} entries match without the filters {', '.join(active)}")
            elif request.filters.is_archived is False:
                tips.append("also search archived entries (is_archived)")
        elif request.filters.is_archived is False:
            everywhere = msgspec.structs.replace(request, filters=EntryFilter(is_archived=None))
            if await self.search.count(account_id, everywhere):
                tips.append("archived entries match: search with is_archived")
        if parsed.excluded:
            tips.append("without the excluded words (-word)")
        if any(len(alt) > 1 for clause in parsed.all_clauses for alt in clause):
            tips.append("the words without quotes")
        return tuple(tips)


def _near_pairs(
    parsed: search_query.ParsedQuery, vocabulary: dict[str, tuple[str, ...]] | None
) -> tuple[tuple[str, str], ...]:
    """Near spellings, from the account's own words, of the typed words it has no entry with."""
    if vocabulary is None:
        return ()
    pairs: list[tuple[str, str]] = []
    for word in parsed.plain_words():
        if not typo_distance(word):
            continue
        for near in vocabulary.get(word, ()):
            # "apples" -> "apple" is no correction: stemming finds those already.
            if search_query.stem(near) != search_query.stem(word):
                pairs.append((word, near))
    return tuple(pairs)


class _Stages(msgspec.Struct, kw_only=True):
    page: list[SearchHit]
    full_matches: int | None
    any_used: bool


async def _pages_of_stages(
    index: SearchIndex,
    account_id: UUID,
    request: SearchRequest,
    parsed: search_query.ParsedQuery,
    corrected: search_query.ParsedQuery,
    exact: list[SearchHit] | None,
    near: tuple[tuple[str, str], ...],
) -> _Stages:
    """Return the hits up to ``request``'s page: full, corrected full, then any-word matches.

    Every stage is asked from its first hit (a later page re-asks the earlier
    stages: they are short, or this function is not reached). ``exact`` are
    the full matches from the first hit when page one already asked for them
    (None: not asked).
    """
    want = request.offset + request.limit
    head = msgspec.structs.replace(request, offset=0, limit=want, match="all")
    if exact is None:
        exact = await index.search(account_id, msgspec.structs.replace(head, parsed=parsed))
    seen = {h.entry.entry_id for h in exact}
    hits = list(exact)
    if near and len(hits) < want:
        for hit in await index.search(account_id, msgspec.structs.replace(head, parsed=corrected)):
            if hit.entry.entry_id not in seen:
                seen.add(hit.entry.entry_id)
                hits.append(hit)
    full = len(hits) if len(hits) < want else None
    any_used = False
    if len(hits) < want and len(corrected.all_clauses) > 1:
        any_used = True
        wide = msgspec.structs.replace(head, parsed=corrected, match="any", limit=want + len(hits))
        for hit in await index.search(account_id, wide):
            if hit.entry.entry_id not in seen:
                seen.add(hit.entry.entry_id)
                hits.append(msgspec.structs.replace(hit, relaxed=True))
    if full is None:
        count_all = msgspec.structs.replace(head, parsed=corrected)
        full = await index.count(account_id, count_all)
    return _Stages(page=hits, full_matches=full, any_used=any_used)


def _active_filters(filters: EntryFilter) -> list[str]:
    """Names of the filters that narrow a search (``is_archived`` aside)."""
    default = EntryFilter()
    return [
        name
        for name in EntryFilter.__struct_fields__
        if name not in ("is_archived", "text", "tags_mode")
        and getattr(filters, name) != getattr(default, name)
    ]
