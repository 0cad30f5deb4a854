"""``trace user timezone``: the account's zone, shown by ``trace user list``."""

from __future__ import annotations

import json
from collections.abc import Callable

from click.testing import Result

RunCli = Callable[..., Result]


def _zone(cli: RunCli) -> object:
    [account] = json.loads(cli("user", "list", "--json").stdout)
    return account["time_zone"]


def test_user_timezone_sets_the_zone_shown_by_user_list(cli: RunCli, ada: str) -> None:
    assert _zone(cli) == "UTC"

    result = cli("user", "timezone", ada, "Europe/Paris")

    assert result.exit_code == 0, result.output
    assert "Europe/Paris" in result.stderr
    assert _zone(cli) == "Europe/Paris"


def test_user_timezone_refuses_an_unknown_zone_naming_the_field(cli: RunCli, ada: str) -> None:
    result = cli("user", "timezone", ada, "Europe/Atlantis")

    assert result.exit_code != 0
    assert "time_zone:" in result.stderr
    assert "Europe/Paris" in result.stderr  # the example
    assert _zone(cli) == "UTC"
