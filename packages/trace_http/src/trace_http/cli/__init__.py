"""The ``trace`` command line: the click group, the command registry, and every command.

Each command lives in a module of this package (one per noun: ``users``,
``keys``, ``streams``, ...) and is imported only when used, so ``trace --help``
and quick commands stay fast. To add a command, write a module exposing a
``click.Command`` (or group) and add ONE line to :data:`COMMANDS`. A group can
load its subcommands the same way: ``@click.group(cls=LazyGroup, lazy={...})``.

A command body is an async function run by :meth:`CliState.run`, which has the
composition root build the :class:`~trace_http.runtime.Runtime` (the facade and
every service), hands it over, and closes it afterwards; commands read no
settings and build no adapter. :func:`cli_principal` gives the principal the
CLI acts as for a person's account. A :class:`~trace_core.errors.TraceError`
raised anywhere is printed as one clean line on stderr (exit code 2 for bad
input or configuration, 1 otherwise), never as a traceback.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from trace_core.errors import InvalidInputError, TraceError

if TYPE_CHECKING:
    from trace_core.model import Account, Principal
    from trace_core.service import Trace
    from trace_http.runtime import Runtime

__all__ = [
    "COMMANDS",
    "CliState",
    "LazyGroup",
    "cli_principal",
    "echo_error",
    "main",
    "pass_state",
]

T = TypeVar("T")

COMMANDS: dict[str, str] = {
    # name            module:attribute (imported only when the command runs or --help lists it)
    "migrate": "trace_http.cli.admin:migrate",
    "serve": "trace_http.cli.admin:serve",
    "user": "trace_http.cli.users:user",
    "stream": "trace_http.cli.streams:stream",
    "entry": "trace_http.cli.entries:entry",
    "attachment": "trace_http.cli.attachments:attachment",
    "export": "trace_http.cli.transfer:export",
    "import": "trace_http.cli.transfer:import_",
    "mcp": "trace_http.cli.mcp:mcp",
    "search": "trace_http.cli.search:search",
    "reindex": "trace_http.cli.search:reindex",
    "trash": "trace_http.cli.trash:trash",
    "key": "trace_http.cli.keys:key",
    "backup": "trace_http.cli.backups:backup",
    "restore": "trace_http.cli.backups:restore",
    # A new command: one line here, e.g. "tag": "trace_http.cli.tags:tag",
}
"""Every top-level command: name → ``module:attribute`` of its click command."""


class CliState:
    """What every command shares: the configuration file, and the runtime it builds.

    Args:
        config: the TOML file given by ``--config``/``TRACE_CONFIG``.
        parts: keyword arguments for :func:`~trace_http.bootstrap.build_runtime`
            (``settings=``, ``storage=``, ``blobs=``, ...: tests and embedding).

    """

    def __init__(self, config: Path | None = None, **parts: Any) -> None:
        self.config = config
        self.parts = parts

    def run(self, body: Callable[[Runtime], Awaitable[T]], **options: Any) -> T:
        """Build the runtime, run ``body`` with it on an event loop, close it.

        Args:
            body: the command's async work.
            options: more keyword arguments for the root (``serving=True``,
                ``host=``, ``port=``, ``run_migrations=False``).

        Returns:
            Whatever ``body`` returns.

        """
        from trace_http.bootstrap import open_runtime

        parts = {"config": self.config, **self.parts, **options}

        async def go() -> T:
            async with open_runtime(**parts) as runtime:
                return await body(runtime)

        return asyncio.run(go())


pass_state = click.make_pass_decorator(CliState)
"""Decorator giving a command the :class:`CliState`."""


async def cli_principal(trace: Trace, email: str) -> tuple[Account, Principal]:
    """Find the account by email and the principal the CLI acts as for it.

    The CLI is the operator's tool: it acts with full scope, recorded as ``cli``.

    Raises:
        NotFoundError: no account has that email.

    """
    account = await trace.get_account_by_email(email)
    return account, trace.principal_for(account, actor="cli", via="cli")


def echo_error(message: str) -> None:
    """Print an error line on stderr, in red when stderr is a terminal."""
    click.secho(f"Error: {message}", fg="red", err=True)


@contextmanager
def _clean_errors() -> Iterator[None]:
    """Turn Trace errors into one line on stderr and an exit code, never a traceback."""
    try:
        yield
    except InvalidInputError as exc:
        echo_error(exc.message)
        sys.exit(2)
    except TraceError as exc:
        echo_error(exc.message)
        sys.exit(1)
    except OSError as exc:
        # The data directory or a file cannot be read or written: say which, no traceback.
        echo_error(str(exc))
        sys.exit(1)
    except KeyboardInterrupt:
        echo_error("interrupted")
        sys.exit(130)


class LazyGroup(click.Group):
    """A click group whose subcommands are imported from ``module:attribute`` on demand."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Return eager and lazy command names, sorted."""
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """Return the command, importing its module if it is a lazy one."""
        if cmd_name in self.lazy:
            module_name, _, attr = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module_name), attr)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the chosen command with Trace errors printed cleanly."""
        with _clean_errors():
            return super().invoke(ctx)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config",
    "-c",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="TRACE_CONFIG",
    help="TOML configuration file (env: TRACE_CONFIG). Environment variables override it.",
)
@click.version_option(package_name="trace-http", prog_name="trace")
@click.pass_context
def main(ctx: click.Context, config: Path | None) -> None:
    """Trace: a self-hostable notes server that AI assistants reach over MCP.

    Configuration comes from defaults, the --config file and TRACE_* environment
    variables (see the README). Without any, data lives in the per-user data
    directory (~/.local/share/trace on Linux), whatever the working directory;
    trace serve prints it. TRACE_DATA_DIR=./trace-data keeps it beside you instead.
    """
    if isinstance(ctx.obj, CliState):  # given by an embedding program or a test
        if config is not None:
            ctx.obj.config = config
    else:
        ctx.obj = CliState(config)
