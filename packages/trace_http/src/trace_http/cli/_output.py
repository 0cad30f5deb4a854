"""Output helpers shared by the commands: rich tables for people, JSON for scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

import click
import msgspec

if TYPE_CHECKING:
    from rich.console import Console

    from trace_core.ports import ProgressCallback

__all__ = ["json_option", "print_json", "print_table", "progress_bar", "stderr", "when"]


class _LazyConsole:
    """Stands for a rich ``Console`` built on first use.

    The server imports helpers from modules that also define commands; rich
    (~25 ms and a few MB) is loaded only when something is printed.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The real console (built now if it was not yet)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)

    # Special methods are looked up on the type, not through __getattr__:
    # Console's are the context manager (rich's Live and Progress use it).
    def __enter__(self) -> Console:
        return self.console.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        self.console.__exit__(*exc_info)


# soft_wrap: a note is one line however narrow the terminal (or 80 columns when
# stderr is not one): the terminal folds it, rich never breaks it mid-sentence.
stderr = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))
"""Console for progress and notes, so stdout stays clean for data."""

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print JSON instead of a table (for scripts)."
)


def print_json(value: Any) -> None:
    """Write ``value`` (Structs, lists, dicts) as indented JSON to stdout."""
    click.echo(msgspec.json.format(msgspec.json.encode(value), indent=2).decode())


def when(value: datetime | None) -> str:
    """Format a timestamp for a table: UTC, to the minute."""
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print a rich table to stdout (plain text when stdout is not a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    # Not a terminal (a pipe, a test): don't wrap at rich's 80-column default.
    width = None if sys.stdout.isatty() else 200
    Console(highlight=False, soft_wrap=False, width=width).print(table)


@contextmanager
def progress_bar(label: str, show: bool) -> Iterator[ProgressCallback | None]:
    """Yield a (done, total) callback that drives a rich progress bar on stderr (None: no bar)."""
    if not show:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update
