"""Search at the terminal and search maintenance: ``trace search`` and ``trace reindex``.

Also the start-up wiring a server needs for search (:func:`start_search`,
:func:`run_search_worker`): apply Meilisearch settings, switch the outbox on,
apply the Postgres text-search language, and drain the outbox in the
background.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
import click

from trace_core.errors import InvalidInputError
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.commands._output import json_option, print_json, stderr

if TYPE_CHECKING:
    from trace_core.model import SearchResult
    from trace_core.ports import SearchIndex, Storage
    from trace_core.service import Trace

__all__ = ["reindex", "run_search_worker", "search", "search_lifespan", "start_search"]


def _meili_classes() -> tuple[type[Any], ...]:
    # A Meilisearch index exists only if bootstrap imported trace_meili to build
    # it: look the class up rather than import its client (~0.15 s) on every start.
    module = sys.modules.get("trace_meili")
    return () if module is None else (module.MeilisearchIndex,)


def _parts(index: SearchIndex | None) -> list[Any]:
    # The indexes inside a FallbackSearchIndex, or the index itself.
    if index is None:
        return []
    inner = [getattr(index, "primary", None), getattr(index, "fallback", None)]
    return [i for i in inner if i is not None] or [index]


async def start_search(storage: Storage, index: SearchIndex | None) -> None:
    """Prepare the configured search at server start.

    Meilisearch: create the index with its settings and switch the SQL outbox
    on (so every write from now on is recorded). PostgreSQL: apply the
    configured text-search language (re-indexing if it changed).
    """
    from trace_sql import SqlStorage
    from trace_sql.search import PostgresSearchIndex
    from trace_sql.search_outbox import SqlSearchOutbox

    meili_classes = _meili_classes()
    for part in _parts(index):
        if isinstance(part, meili_classes):
            if isinstance(storage, SqlStorage):
                await SqlSearchOutbox(storage).enable()
            await part.configure()
        elif isinstance(part, PostgresSearchIndex):
            await part.configure()


async def run_search_worker(
    storage: Storage, index: SearchIndex | None, stop: anyio.Event, *, idle: float = 1.0
) -> None:
    """Drain the search outbox into Meilisearch until ``stop`` is set (no-op otherwise)."""
    from trace_sql import SqlStorage

    meili = [p for p in _parts(index) if isinstance(p, _meili_classes())]
    if not meili or not isinstance(storage, SqlStorage):
        return
    from trace_meili import OutboxWorker
    from trace_sql.search_outbox import SqlSearchOutbox

    await OutboxWorker(SqlSearchOutbox(storage), storage, meili[0]).run(stop, idle=idle)


def search_lifespan(trace: Trace) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """Return a Litestar lifespan hook: prepare search at start, drain the outbox meanwhile.

    Add it to the application's ``lifespan`` list. With the SQL index it only
    applies the Postgres language; with Meilisearch it configures the index,
    switches the outbox on and runs the :class:`~trace_meili.OutboxWorker`
    until shutdown.
    """

    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        await start_search(trace.storage, trace.search)
        stop = anyio.Event()
        async with anyio.create_task_group() as group:
            group.start_soon(run_search_worker, trace.storage, trace.search, stop)
            try:
                yield
            finally:
                stop.set()

    return lifespan


@click.command()
@pass_state
def reindex(state: CliState) -> None:
    """Rebuild the search index from the database, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    async def body(trace: Trace) -> int:
        if trace.search is None:
            raise InvalidInputError("search.kind", "no search index is configured")
        await start_search(trace.storage, trace.search)
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=stderr,
        ) as progress:
            task = progress.add_task("indexing entries", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return await trace.search.rebuild(trace.storage, progress=report)

    count = state.run(body)
    click.echo(f"indexed {count} entries")


@click.command()
@click.option("--user", "email", required=True, help="Email of the account to search.")
@click.option("--limit", default=10, show_default=True, help="Hits to show (max 50).")
@json_option
@click.argument("query", nargs=-1, required=True)
@pass_state
def search(state: CliState, email: str, limit: int, as_json: bool, query: tuple[str, ...]) -> None:
    """Search an account's entries: ranked, with highlighted snippets."""
    text = " ".join(query)

    async def body(trace: Trace) -> SearchResult:
        _, principal = await cli_principal(trace, email)
        return await trace.search_entries(principal, text, limit=limit)

    result = state.run(body)
    if as_json:
        print_json(result)
        return
    if result.relaxed:
        stderr.print("[dim]no entry has every word; showing entries with any of them[/dim]")
    if not result.hits:
        stderr.print("no entries found")
        return
    for hit in result.hits:
        entry = hit.entry
        heading = entry.title or entry.content.split("\n", 1)[0][:60]
        click.secho(f"{heading}", bold=True)
        click.echo(f"  {entry.entry_date.isoformat()}  {entry.entry_id}  score {hit.score:.3g}")
        click.echo(f"  {' '.join(hit.snippet.split())}")
        click.echo()
