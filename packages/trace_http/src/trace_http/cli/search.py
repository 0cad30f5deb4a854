"""Search at the terminal and search maintenance: ``trace search`` and ``trace reindex``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from trace_core.errors import InvalidInputError
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.cli._output import json_option, print_json, stderr
from trace_http.runtime import Runtime

if TYPE_CHECKING:
    from trace_core.model import SearchResult

__all__ = ["reindex", "search"]


@click.command()
@pass_state
def reindex(state: CliState) -> None:
    """Rebuild the search index from the database, with a progress bar."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    async def body(runtime: Runtime) -> int:
        trace = runtime.trace
        if trace.search is None:
            raise InvalidInputError("search.kind", "no search index is configured")
        await trace.search.start()
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

    async def body(runtime: Runtime) -> SearchResult:
        trace = runtime.trace
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
