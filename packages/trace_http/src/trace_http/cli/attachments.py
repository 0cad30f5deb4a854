"""``trace attachment …``: images on entries."""

from __future__ import annotations

from pathlib import Path

import anyio
import click

from trace_core.errors import InvalidInputError
from trace_core.images import check_size
from trace_core.inputs import parse_uuid
from trace_core.model import AttachmentChange
from trace_http.cli import CliState, cli_principal, pass_state
from trace_http.runtime import Runtime


@click.group()
def attachment() -> None:
    """Attach images to entries."""


@attachment.command("add")
@click.argument("entry_id")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--user", "email", required=True, help="Email of the account that owns the entry.")
@pass_state
def add_attachment(state: CliState, entry_id: str, file: Path, email: str) -> None:
    """Attach the image FILE (JPEG, PNG, WebP or GIF) to ENTRY_ID and print the attachment id.

    The type and pixel size are read from the file itself, not its name; the
    limits are the server's (storage.max_attachment_bytes, pixel counts).
    """
    target = parse_uuid("entry_id", entry_id)

    async def body(runtime: Runtime) -> AttachmentChange:
        trace = runtime.trace
        try:
            # The size is checked before the file is read: a huge file is never loaded.
            path = anyio.Path(file)
            check_size((await path.stat()).st_size, trace.limits.max_attachment_bytes)
            data = await path.read_bytes()
        except OSError as exc:
            raise InvalidInputError("file", f"cannot read {file}: {exc.strerror}") from None
        _, principal = await cli_principal(trace, email)
        return await trace.add_attachment(principal, target, data, filename=file.name)

    added = state.run(body).attachment
    click.echo(str(added.attachment_id))
    click.echo(f"{added.mime_type} {added.width}x{added.height}, {added.file_size} bytes", err=True)
