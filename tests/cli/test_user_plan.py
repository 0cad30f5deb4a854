"""``trace user plan``: the plan the integrations gate checks, shown by ``trace user list``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from trace_core.errors import PlanRequiredError
from trace_core.model import Principal
from trace_http.bootstrap import open_runtime
from trace_http.settings import load_settings

RunCli = Callable[..., Result]


def _listed(cli: RunCli) -> dict[str, object]:
    [account] = json.loads(cli("user", "list", "--json").stdout)
    return dict(account)


def test_user_plan_sets_the_plan_shown_by_user_list(cli: RunCli, ada: str) -> None:
    assert _listed(cli)["plan"] is None

    result = cli("user", "plan", ada, "pro")

    assert result.exit_code == 0, result.output
    assert "pro" in result.stderr
    assert _listed(cli)["plan"] == "pro"
    table = cli("user", "list").stdout
    assert "plan" in table.splitlines()[1]
    assert "pro" in table


def test_user_plan_none_clears_the_plan(cli: RunCli, ada: str) -> None:
    cli("user", "plan", ada, "team")

    result = cli("user", "plan", ada, "None")

    assert result.exit_code == 0, result.output
    assert _listed(cli)["plan"] is None
    assert "no plan" in result.stderr


def test_user_plan_for_an_unknown_email_is_not_found(cli: RunCli, ada: str) -> None:
    result = cli("user", "plan", "nobody@example.org", "pro")
    assert result.exit_code == 1
    assert "nobody@example.org" in result.stderr


@pytest.mark.parametrize("plan", ["x" * 101, "pro\nplus"])
def test_user_plan_refuses_an_unusable_plan_name_naming_the_field(
    cli: RunCli, ada: str, plan: str
) -> None:
    result = cli("user", "plan", ada, plan)
    assert result.exit_code == 2
    assert "plan:" in result.stderr
    assert _listed(cli)["plan"] is None


def test_a_plan_set_from_the_cli_opens_the_integrations_gate(
    cli: RunCli, ada: str, data_dir: Path
) -> None:
    key = cli("key", "create", "--user", ada, "--name", "Claude").stdout.strip()
    gated = load_settings(
        env={
            "TRACE_DATA_DIR": str(data_dir),
            "TRACE_AUTH_INTEGRATIONS_REQUIRE_PLAN": "true",
            "TRACE_AUTH_PLANS_WITH_INTEGRATIONS": "pro",
        }
    )

    async def authenticate() -> Principal:
        async with open_runtime(gated) as runtime:
            return await runtime.authenticator.authenticate(key)

    with pytest.raises(PlanRequiredError):
        asyncio.run(authenticate())
    cli("user", "plan", ada, "pro")
    assert asyncio.run(authenticate()).actor == "Claude"
