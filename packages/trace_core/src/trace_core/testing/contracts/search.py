"""The contract every :class:`~trace_core.ports.SearchIndex` must meet.

Use it by subclassing in a test module and providing a ``search_backend``
fixture that yields a :class:`SearchBackend` (a storage, the index under test
and how writes reach it)::

    class TestMyIndex(SearchIndexContract):
        @pytest.fixture
        async def search_backend(self):
            yield SearchBackend(storage=..., index=MyIndex(...))

Entries are written through ``storage`` exactly as the ``Trace`` facade writes
them; an index that is not fed by the storage itself (``indexed_by_storage``
False) is then given the entries with :meth:`SearchIndex.index`, as the facade
does. Differences between engines are capability flags on the backend, never
``isinstance`` checks. The tests need an ``anyio_backend`` fixture.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import Any
from uuid import UUID

import anyio
import anyio.from_thread
import anyio.to_thread
import msgspec
import pytest

from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_QUERY_CHARS
from trace_core.model import EntryFilter
from trace_core.ports import SearchRequest
from trace_core.search import HIGHLIGHT_START
from trace_core.testing.contracts._base import ContractSuite
from trace_core.testing.contracts.search_backend import (
    FILLER,
    T0,
    SearchBackend,
    make_entry,
)
from trace_core.testing.contracts.search_typed import SearchTypedContract

__all__ = ["SearchBackend", "SearchIndexContract", "make_entry"]

# The filter cases: each names a filter and which of the fixture entries it keeps.
_FILTER_CASES: dict[str, tuple[dict[str, Any], set[str]]] = {
    "no filter (archived excluded)": ({}, {"inbox", "work", "home"}),
    "stream id": ({"stream": "work"}, {"work"}),
    "inbox": ({"stream": "inbox"}, {"inbox"}),
    "any tag": ({"tags": ("urgent", "family")}, {"work", "home"}),
    "all tags": ({"tags": ("project", "urgent"), "tags_mode": "all"}, {"work"}),
    "status": ({"status": "done"}, {"work"}),
    "type": ({"type": "task"}, {"work"}),
    "archived only": ({"is_archived": True}, {"archived"}),
    "archived or not": ({"is_archived": None}, {"inbox", "work", "home", "archived"}),
    "pinned": ({"is_pinned": True}, {"work"}),
    "not pinned": ({"is_pinned": False}, {"inbox", "home"}),
    "entry_date from": ({"start_date": date(2026, 2, 1)}, {"work", "home"}),
    "entry_date until": ({"end_date": date(2026, 2, 10)}, {"inbox", "work"}),
    "entry_date range": (
        {"start_date": date(2026, 2, 10), "end_date": date(2026, 2, 10)},
        {"work"},
    ),
    "created after": ({"created_after": T0 + timedelta(hours=12)}, {"work", "home"}),
    "created before": ({"created_before": T0 + timedelta(hours=12)}, {"inbox"}),
    "updated after": ({"updated_after": T0 + timedelta(days=4)}, {"work"}),
    "updated before": ({"updated_before": T0 + timedelta(days=3)}, {"inbox", "home"}),
}


class SearchIndexContract(SearchTypedContract, ContractSuite):
    """Behaviour every search adapter must show. Subclass and provide ``search_backend``.

    The cases of :class:`SearchTypedContract` (what people type: phrases,
    exclusions, compounds, CJK, stream and file names, typos) are part of it.
    """

    # --- ranking and snippets ------------------------------------------------------

    @pytest.mark.anyio
    async def test_title_hit_ranks_above_a_hit_deep_in_the_content(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        deep = make_entry(me, FILLER * 20 + "Then we looked at kubernetes briefly. " + FILLER)
        titled = make_entry(me, FILLER, title="Kubernetes upgrade plan")
        fillers = [make_entry(me, FILLER + f" item {i}") for i in range(4)]
        await b.add(deep, *fillers, titled)

        ids = await b.ids(me, "kubernetes")

        assert ids == [titled.entry_id, deep.entry_id]

    @pytest.mark.anyio
    async def test_hits_carry_a_score_that_orders_them(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        await b.add(
            make_entry(me, "A note about gardening tomatoes.", title="Tomatoes"),
            make_entry(me, FILLER * 3 + " also tomatoes"),
            make_entry(me, FILLER),
        )

        hits = await b.search(me, "tomatoes")

        assert len(hits) == 2
        assert hits[0].score >= hits[1].score

    @pytest.mark.anyio
    async def test_snippet_contains_the_matched_term_highlighted(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        content = FILLER * 6 + "The quarterly budget review moved to Thursday. " + FILLER * 6
        await b.add(make_entry(me, content, title="Week notes"))

        [hit] = await b.search(me, "budget")

        assert "budget" in hit.snippet.lower()
        assert HIGHLIGHT_START in hit.snippet
        assert len(hit.snippet) <= 400  # a snippet, not the whole entry

    @pytest.mark.anyio
    async def test_other_forms_of_a_word_match(self, search_backend: SearchBackend) -> None:
        b = search_backend
        if not b.stems:
            pytest.skip("this engine does not stem")
        me = await b.account()
        entry = make_entry(me, "The database migration finished overnight.")
        await b.add(entry, make_entry(me, FILLER))

        assert await b.ids(me, "migrating databases ") == [entry.entry_id]

    @pytest.mark.anyio
    async def test_the_last_word_matches_as_a_prefix_while_typing(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        entry = make_entry(me, "Moving the reporting service to PostgreSQL next sprint.")
        await b.add(entry, make_entry(me, FILLER))

        assert await b.ids(me, "reporting postg") == [entry.entry_id]

    @pytest.mark.anyio
    async def test_diacritics_and_case_are_ignored(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        entry = make_entry(me, "Lunch at the Café Müller with Zoë.")
        await b.add(entry, make_entry(me, FILLER))

        assert await b.ids(me, "cafe muller ") == [entry.entry_id]
        assert await b.ids(me, "CAFÉ ") == [entry.entry_id]

    @pytest.mark.anyio
    async def test_all_words_are_required_unless_any_is_asked_for(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        both = make_entry(me, "Invoice for the plumber, paid in March.")
        one = make_entry(me, "The plumber fixed the kitchen sink.")
        await b.add(both, one, make_entry(me, FILLER))

        assert await b.ids(me, "plumber invoice ") == [both.entry_id]
        assert set(await b.ids(me, "plumber invoice ", match="any")) == {
            both.entry_id,
            one.entry_id,
        }
        assert (await b.ids(me, "plumber invoice ", match="any"))[0] == both.entry_id

    @pytest.mark.anyio
    async def test_tags_are_searchable(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        entry = make_entry(me, "Call the bank about the mortgage.", tags=("finance",))
        await b.add(entry, make_entry(me, FILLER))

        assert await b.ids(me, "finance ") == [entry.entry_id]

    # --- filters --------------------------------------------------------------------

    @pytest.mark.anyio
    @pytest.mark.parametrize("case", list(_FILTER_CASES))
    async def test_every_filter_applies_to_search(
        self, search_backend: SearchBackend, case: str
    ) -> None:
        b = search_backend
        me = await b.account()
        work, home = await b.stream(me, "Work"), await b.stream(me, "Home")
        day = timedelta(days=1)
        entries = {
            "inbox": make_entry(
                me,
                "zebra crossing in the inbox",
                tags=("idea",),
                status="todo",
                type="note",
                entry_date=date(2026, 1, 10),
            ),
            "work": make_entry(
                me,
                "zebra project at work",
                stream=work,
                tags=("project", "urgent"),
                status="done",
                type="task",
                is_pinned=True,
                entry_date=date(2026, 2, 10),
                created_at=T0 + day,
                updated_at=T0 + 5 * day,
            ),
            "home": make_entry(
                me,
                "zebra painting at home",
                stream=home,
                tags=("family", "project"),
                entry_date=date(2026, 3, 10),
                created_at=T0 + 2 * day,
                updated_at=T0 + 2 * day,
            ),
            "archived": make_entry(
                me,
                "zebra archived note",
                stream=work,
                is_archived=True,
                entry_date=date(2026, 1, 20),
            ),
        }
        await b.add(*entries.values(), make_entry(me, FILLER))
        given, expected = _FILTER_CASES[case]
        streams = {"work": work.stream_id, "home": home.stream_id, "inbox": "inbox"}
        if "stream" in given:
            given = {**given, "stream": streams[given["stream"]]}

        found = await b.ids(me, "zebra", filters=EntryFilter(**given))

        assert sorted(found) == sorted(entries[name].entry_id for name in expected)

    # --- paging -----------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_paging_by_offset_has_no_duplicates_or_gaps(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        entries = [
            make_entry(
                me,
                "lighthouse " * (1 + i % 4) + FILLER[: 20 * (i % 5)],
                created_at=T0 + timedelta(minutes=i),
            )
            for i in range(23)
        ]
        await b.add(*entries, make_entry(me, FILLER))

        seen: list[UUID] = []
        for offset in range(0, 30, 5):
            seen += await b.ids(me, "lighthouse", limit=5, offset=offset)

        assert len(seen) == len(set(seen)) == 23
        assert set(seen) == {e.entry_id for e in entries}
        assert seen == await b.ids(me, "lighthouse", limit=50)

    @pytest.mark.anyio
    async def test_limit_caps_the_hits(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        await b.add(*[make_entry(me, f"harbour note {i}") for i in range(6)])

        assert len(await b.search(me, "harbour", limit=4)) == 4

    @pytest.mark.anyio
    async def test_count_is_every_match_in_the_account_with_the_filters(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me, other = await b.account(), await b.account()
        work = await b.stream(me, "Work")
        await b.add(
            *[make_entry(me, f"puffin colony {i}") for i in range(4)],
            make_entry(me, "puffin at work", stream=work),
            make_entry(me, "puffin archived", is_archived=True),
            make_entry(other, "puffin elsewhere"),
            make_entry(me, FILLER),
        )

        def request(filters: EntryFilter | None = None) -> SearchRequest:
            return SearchRequest(query="puffin", filters=filters or EntryFilter(), limit=1)

        assert await b.index.count(me.account_id, request()) == 5
        assert await b.index.count(me.account_id, request(EntryFilter(stream=work.stream_id))) == 1
        assert await b.index.count(me.account_id, request(EntryFilter(is_archived=None))) == 6
        assert await b.index.count(other.account_id, request()) == 1
        # count_limit: the count may stop there, and never answers more.
        capped = msgspec.structs.replace(request(), count_limit=3)
        assert await b.index.count(me.account_id, capped) == 3
        roomy = msgspec.structs.replace(request(), count_limit=50)
        assert await b.index.count(me.account_id, roomy) == 5

    # --- tenancy, deletion, archive ---------------------------------------------------

    @pytest.mark.anyio
    async def test_a_term_only_another_account_has_finds_nothing(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me, other = await b.account(), await b.account()
        theirs = await b.stream(other, "Secrets")
        await b.add(
            make_entry(other, "The xylophone password is hunter2", title="xylophone"),
            make_entry(other, "xylophone again", stream=theirs),
            make_entry(me, FILLER),
        )

        assert await b.search(me, "xylophone") == []
        assert await b.search(me, "xylophone", match="any") == []
        assert await b.search(me, "xylophone", EntryFilter(stream=theirs.stream_id)) == []
        assert len(await b.search(other, "xylophone")) == 2

    @pytest.mark.anyio
    async def test_deleted_entries_are_not_found_and_come_back_when_restored(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        entry = (await b.add(make_entry(me, "phoenix rising from the ashes")))[0]

        deleted = await b.update(entry, deleted_at=T0 + timedelta(hours=1))
        assert await b.search(me, "phoenix") == []
        assert await b.search(me, "phoenix", EntryFilter(is_archived=None)) == []

        await b.update(deleted, deleted_at=None)
        assert await b.ids(me, "phoenix") == [entry.entry_id]

    @pytest.mark.anyio
    async def test_purged_entries_are_not_found(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        entry = (await b.add(make_entry(me, "obsidian shard")))[0]
        gone = await b.update(entry, deleted_at=T0 + timedelta(hours=1))

        await b.purge(gone)

        assert await b.search(me, "obsidian") == []

    @pytest.mark.anyio
    async def test_archived_entries_are_found_only_when_asked_for(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        entry = (await b.add(make_entry(me, "walrus expedition report")))[0]
        await b.update(entry, is_archived=True)

        assert await b.search(me, "walrus") == []
        assert await b.ids(me, "walrus", filters=EntryFilter(is_archived=True)) == [entry.entry_id]

    @pytest.mark.anyio
    async def test_an_edit_replaces_the_indexed_text(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        entry = (await b.add(make_entry(me, "first draft about penguins")))[0]

        new = await b.update(entry, content="rewritten about albatrosses", title="Seabirds")

        assert await b.search(me, "penguins") == []
        [hit] = await b.search(me, "albatrosses")
        assert hit.entry.version == new.version
        assert hit.entry.title == "Seabirds"

    @pytest.mark.anyio
    async def test_a_written_entry_is_searchable_as_soon_as_its_transaction_commits(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        if not b.immediate:
            pytest.skip("this index is fed asynchronously (outbox)")
        me = await b.account()
        entry = make_entry(me, "narwhal sighting")
        async with b.storage.unit_of_work(write=True) as uow:
            await uow.entries.add(entry)
        if not getattr(b.index, "indexed_by_storage", False):
            await b.index.index([entry])

        assert await b.ids(me, "narwhal") == [entry.entry_id]

    @pytest.mark.anyio
    async def test_removed_entries_are_not_found(self, search_backend: SearchBackend) -> None:
        b = search_backend
        me = await b.account()
        entry = (await b.add(make_entry(me, "marmalade recipe")))[0]
        async with b.storage.unit_of_work(write=True) as uow:
            await uow.entries.purge(me.account_id, [entry.entry_id])

        await b.index.remove(me.account_id, [entry.entry_id])
        if b.settle is not None:
            await b.settle()

        assert await b.search(me, "marmalade") == []

    @pytest.mark.anyio
    async def test_rebuild_indexes_every_live_entry_from_storage(
        self, search_backend: SearchBackend
    ) -> None:
        b = search_backend
        me = await b.account()
        live = make_entry(me, "quokka census results")
        gone = make_entry(me, "quokka old notes", deleted_at=T0)
        async with b.storage.unit_of_work(write=True) as uow:
            await uow.entries.add(live)
            await uow.entries.add(gone)
        progress: list[tuple[int, int]] = []

        count = await b.index.rebuild(b.storage, progress=lambda d, t: progress.append((d, t)))
        if b.settle is not None:
            await b.settle()

        assert count >= 1
        assert progress
        assert progress[-1][0] == progress[-1][1]
        assert await b.ids(me, "quokka") == [live.entry_id]

    # --- robustness -------------------------------------------------------------------

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        "query",
        [
            '"unbalanced quote',
            "-minus -- NOT AND OR",
            "title:foo content:bar",
            "wild* *card ***",
            "(parens (nested)) )(",
            "NEAR(a b) ^start",
            "emoji 🎉 party 🥳",
            "🎉",
            "'single' \\back\\slash; DROP TABLE entries; --",
            "a & b | !c <-> d:* ",
            "{json: [1, 2]} @mention #tag $var %",
            "x" * MAX_QUERY_CHARS,  # the longest the facade lets through
            "ordinary words " * 40,
            "\x00nul\x01control",
        ],
    )
    async def test_any_typed_text_is_a_valid_query(
        self, search_backend: SearchBackend, query: str
    ) -> None:
        b = search_backend
        me = await b.account()
        await b.add(make_entry(me, "ordinary words in an ordinary note 🎉"))

        hits = await b.search(me, query)
        await b.search(me, query, match="any")

        assert all(hit.entry.account_id == me.account_id for hit in hits)

    @pytest.mark.anyio
    @pytest.mark.parametrize("query", ["", "   ", "\n\t "])
    async def test_an_empty_query_is_refused_naming_the_field(
        self, search_backend: SearchBackend, query: str
    ) -> None:
        b = search_backend
        me = await b.account()

        with pytest.raises(InvalidInputError) as caught:
            await b.search(me, query)
        assert caught.value.field == "query"

    @pytest.mark.anyio
    async def test_arbitrary_text_never_raises_anything_but_a_validation_error(
        self, search_backend: SearchBackend
    ) -> None:
        from hypothesis import HealthCheck, given, settings
        from hypothesis import strategies as st

        b = search_backend
        me = await b.account()
        await b.add(
            make_entry(me, 'Ordinary words, punctuation: (a) -b "c" d* and émoji 🎉'),
            make_entry(me, FILLER, title="Filler"),
        )

        @settings(
            max_examples=150,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(
            text=st.text(max_size=300)
            | st.text(alphabet=st.sampled_from("\"*-:()^~+|&!<>\\'{}[] ANDORNOTNEAR"))
        )
        def probe(text: str) -> None:
            for match in ("all", "any"):
                try:
                    anyio.from_thread.run(partial(b.search, me, text, match=match))
                except InvalidInputError as exc:
                    # Only a blank query may be refused, and it must name the field.
                    if exc.field != "query" or text.strip():
                        raise

        await anyio.to_thread.run_sync(probe)
