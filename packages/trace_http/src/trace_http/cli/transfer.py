"""``trace export`` and ``trace import``: one account as a JSON document."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from trace_core.errors import InvalidInputError
from trace_core.transfer import (
    ExportDocument,
    ImportSummary,
    decode_document,
    encode_document,
    export_account,
    import_account,
)
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.cli._output import progress_bar, stderr
from trace_http.runtime import Runtime

PROGRESS_THRESHOLD = 2000
"""Show a progress bar from this many entries (small imports finish before it would draw)."""


@click.command()
@click.option("--user", "email", required=True, help="Email of the account to export.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of stdout.",
)
@pass_state
def export(state: CliState, email: str, output: Path | None) -> None:
    """Export an account's streams, entries (trash too), versions and attachments as JSON.

    \b
    Example:
      trace export --user ada@example.com > dump.json
    """

    async def body(runtime: Runtime) -> ExportDocument:
        trace = runtime.trace
        account, _ = await cli_principal(trace, email)
        return await export_account(
            trace.storage, trace.blobs, account, exported_at=trace.clock.now()
        )

    document = state.run(body)
    data = encode_document(document)
    if output is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(data)
    stderr.print(
        f"exported {len(document.entries)} entries, {len(document.streams)} streams, "
        f"{len(document.versions)} versions, {len(document.attachments)} attachments"
    )


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True, path_type=Path))
@click.option("--user", "email", required=True, help="Email of the account to import into.")
@click.option(
    "--batch-size", default=1000, show_default=True, help="Entries written per transaction."
)
@pass_state
def import_(state: CliState, file: Path, email: str, batch_size: int) -> None:
    """Import a document made by 'trace export' into an account ('-' reads stdin).

    Ids, dates and versions are kept, so import into a database that does not
    already hold the same data.
    """
    try:
        raw = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    except OSError as exc:
        raise InvalidInputError("file", f"cannot read {file}: {exc.strerror}") from None
    document = decode_document(raw)

    async def body(runtime: Runtime) -> ImportSummary:
        trace = runtime.trace
        account, _ = await cli_principal(trace, email)
        show = len(document.entries) >= PROGRESS_THRESHOLD
        with progress_bar("importing", show) as progress:
            return await import_account(
                trace.storage,
                trace.blobs,
                account.account_id,
                document,
                search=trace.search,
                batch_size=batch_size,
                progress=progress,
            )

    summary = state.run(body)
    stderr.print(
        f"imported {summary.entries} entries, {summary.streams} streams, "
        f"{summary.versions} versions, {summary.attachments} attachments"
    )
