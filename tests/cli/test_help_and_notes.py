"""What a person reads from ``trace``: help texts without markup, notes not broken mid-sentence."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import click
import pytest
from click.testing import Result

from trace_http.cli import main

RunCli = Callable[..., Result]


def _command_paths(command: click.Command, path: list[str]) -> Iterator[list[str]]:
    yield path
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None
            yield from _command_paths(sub, [*path, name])


ALL_COMMANDS = list(_command_paths(main, []))


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "trace")
def test_help_shows_no_restructuredtext_backticks(cli: RunCli, path: list[str]) -> None:
    result = cli(*path, "--help")
    assert result.exit_code == 0
    assert "`" not in result.output, result.output


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "trace")
def test_help_examples_are_whole_commands_on_one_line(cli: RunCli, path: list[str]) -> None:
    lines = cli(*path, "--help").output.splitlines()
    for number, line in enumerate(lines):
        if line.strip() == "Example:":
            example = lines[number + 1].strip()
            assert re.match(r"^(\w+=\S+ )*(trace|echo) ", example), example
            assert lines[number + 2].strip() == "", "the example goes on past its line"


def test_key_create_note_is_one_line_however_long_the_key_name(cli: RunCli, ada: str) -> None:
    name = "Claude Code on the laptop in the kitchen, the one with the sticker"
    result = cli("key", "create", "--user", ada, "--name", name)
    assert result.exit_code == 0, result.output
    [note] = result.stderr.strip().splitlines()
    assert note.endswith("Copy it now: it is never shown again.")
    assert name in note
