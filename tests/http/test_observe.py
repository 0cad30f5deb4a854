"""The operator's view in the app: metrics, request ids, the access line, health probes.

The app is the real one on in-memory adapters (``create_app``), driven in
process; metrics are switched on and, to scrape them through the same client,
served on the public port (``metrics.on_public_port``). The listener on its own
port is tested with a served process in ``test_serve_process.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx2
import msgspec
import pytest
from http_support import PUBLIC, FakeAuthenticator, runtime_for_tests
from litestar import Litestar
from prometheus_client.parser import text_string_to_metric_families

from trace_core.errors import UnavailableError
from trace_core.model import Principal
from trace_core.service import Trace
from trace_core.testing.memory import FixedClock, InMemoryBlobStore, InMemoryStorage
from trace_core.testing.memory_search import InMemorySearchIndex
from trace_http.settings import Settings
from trace_http.web.app import create_app
from trace_http.web.observe import METRICS
from trace_http.web.ratelimit import TokenBucketLimiter

pytestmark = pytest.mark.anyio

ENTRY_TEXT = "Dinner with Marguerite about the Lisbon plan"


def _settings(**metrics: Any) -> Settings:
    return msgspec.convert(
        {
            "server": {"public_url": PUBLIC},
            "auth": {"session_secret": "k" * 48},
            "mcp": {"attachment_url_secret": "k" * 48},
            "metrics": metrics,
        },
        Settings,
    )


def _call(tool: str, arguments: dict[str, Any], request_id: int = 1) -> str:
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }
    )


def _headers(token: str, version: str = "2025-06-18") -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": version,
    }


def _client(app: Litestar) -> AbstractAsyncContextManager[httpx2.AsyncClient]:
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=PUBLIC)


@pytest.fixture
async def served(
    trace: Trace, keys: dict[str, Principal], authenticator: FakeAuthenticator
) -> AsyncIterator[tuple[Litestar, httpx2.AsyncClient]]:
    clock = [0.0]
    runtime = runtime_for_tests(
        trace,
        _settings(enabled=True, on_public_port=True),
        authenticator=authenticator,
        # bob's key may make two requests and no more (time stands still).
        limiter=TokenBucketLimiter(burst=2, rate=0.001, clock=lambda: clock[0]),
    )
    app = create_app(runtime)
    async with app.lifespan(), _client(app) as client:
        yield app, client


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def _value(samples: dict[str, Any], name: str, **labels: str) -> float:
    matching = [v for lab, v in samples.get(name, []) if labels.items() <= lab.items()]
    return sum(matching)


async def test_metrics_count_requests_tools_errors_auth_failures_and_rate_limits(
    served: tuple[Litestar, httpx2.AsyncClient],
) -> None:
    _, client = served
    created = await client.post(
        "/mcp",
        content=_call("create_entry", {"content": ENTRY_TEXT}),
        headers=_headers("alice-full"),
    )
    assert created.status_code == 200
    assert created.json()["result"]["isError"] is False
    missing = await client.post(
        "/mcp",
        content=_call("get_entry", {"entry_id": "00000000-0000-4000-8000-000000000000"}),
        headers=_headers("alice-full", "2025-11-25"),
    )
    assert missing.json()["result"]["isError"] is True
    refused = await client.post("/mcp", content=_call("list_streams", {}), headers=_headers("nope"))
    assert refused.status_code == 401
    statuses = [
        (
            await client.post(
                "/mcp", content=_call("list_streams", {}), headers=_headers("bob-full")
            )
        ).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]

    scraped = await client.get("/metrics")

    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    samples = _samples(scraped.text)
    requests = "trace_http_requests_total"
    assert _value(samples, requests, route="mcp", method="POST", status="200") == 4
    assert _value(samples, requests, route="mcp", method="POST", status="401") == 1
    assert _value(samples, requests, route="mcp", method="POST", status="429") == 1
    assert _value(samples, "trace_http_request_duration_seconds_count", route="mcp") == 6
    calls = "trace_mcp_tool_calls_total"
    assert _value(samples, calls, tool="create_entry", outcome="ok") == 1
    assert _value(samples, calls, tool="get_entry", outcome="not_found") == 1
    assert _value(samples, calls, tool="list_streams", outcome="ok") == 2
    assert _value(samples, "trace_mcp_tool_duration_seconds_count", tool="create_entry") == 1
    assert _value(samples, "trace_errors_total", code="not_found") == 1
    assert _value(samples, "trace_auth_failures_total", route="mcp") == 1
    assert _value(samples, "trace_rate_limited_total", route="mcp") == 1
    assert _value(samples, "trace_http_requests_in_flight") == 1  # the scrape itself
    # Labels hold names and codes only: no credential, no entry text.
    for secret in ("alice-full", "bob-full", "nope", "Marguerite", "Lisbon"):
        assert secret not in scraped.text


async def test_metric_names_match_the_documented_list(
    served: tuple[Litestar, httpx2.AsyncClient],
) -> None:
    _, client = served
    text = (await client.get("/metrics")).text
    names = set()
    for family in text_string_to_metric_families(text):
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    assert names == set(METRICS)


async def test_metrics_are_not_on_the_public_port_unless_asked(
    trace: Trace, authenticator: FakeAuthenticator
) -> None:
    for settings in (_settings(), _settings(enabled=True)):
        app = create_app(runtime_for_tests(trace, settings, authenticator=authenticator))
        async with app.lifespan(), _client(app) as client:
            assert (await client.get("/metrics")).status_code == 404


async def test_a_request_id_is_returned_taken_from_the_caller_or_made(
    served: tuple[Litestar, httpx2.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    _, client = served
    caplog.set_level(logging.INFO, logger="trace_http.access")
    given = await client.get("/health/live", headers={"X-Request-Id": "lb-7f3a.22_x"})
    made = await client.get("/health/live")
    forged = await client.get("/health/live", headers={"X-Request-Id": "a b;<x>"})
    too_long = await client.get("/health/live", headers={"X-Request-Id": "x" * 65})

    assert given.headers["x-request-id"] == "lb-7f3a.22_x"
    assert len(made.headers["x-request-id"]) == 32
    assert len(forged.headers["x-request-id"]) == 32  # replaced, not echoed
    assert len(too_long.headers["x-request-id"]) == 32
    ids = {r.headers["x-request-id"] for r in (made, forged, too_long)}
    assert len(ids) == 3


async def test_one_access_line_per_request_without_the_query_string(
    served: tuple[Litestar, httpx2.AsyncClient], caplog: pytest.LogCaptureFixture
) -> None:
    _, client = served
    caplog.set_level(logging.INFO, logger="trace_http.access")
    await client.get("/health/live?token=sekrit-value", headers={"X-Request-Id": "r1"})
    await client.get("/no/such/page")
    await client.post(
        "/mcp",
        content=_call("create_entry", {"content": ENTRY_TEXT}),
        headers=_headers("alice-full"),
    )

    lines = [r for r in caplog.records if r.name == "trace_http.access"]
    assert len(lines) == 3
    live, unmatched, tool = lines
    assert live.__dict__["path"] == "/health/live"
    assert live.__dict__["route"] == "health-live"
    assert live.__dict__["status"] == 200
    assert "sekrit" not in live.getMessage()
    assert unmatched.__dict__["route"] == "unmatched"
    assert unmatched.__dict__["status"] == 404
    assert tool.__dict__["tool"] == "create_entry"
    assert ENTRY_TEXT not in tool.getMessage()


# --- readiness ------------------------------------------------------------------------


class SwitchableStorage(InMemoryStorage):
    """In-memory storage that can be made unreachable, as a database that went away."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def unit_of_work(self, *, write: bool = False) -> Any:
        if self.down:
            raise UnavailableError("the database refused the connection")
        return super().unit_of_work(write=write)


async def test_ready_turns_503_while_the_database_is_unreachable_and_back(
    authenticator: FakeAuthenticator,
) -> None:
    storage = SwitchableStorage()
    trace = Trace(
        storage=storage, blobs=InMemoryBlobStore(), search=InMemorySearchIndex(), clock=FixedClock()
    )
    app = create_app(runtime_for_tests(trace, _settings(), authenticator=authenticator))
    async with app.lifespan(), _client(app) as client:
        up = await client.get("/health/ready")
        storage.down = True
        down = await client.get("/health/ready")
        live = await client.get("/health/live")
        storage.down = False
        again = await client.get("/health/ready")

    assert (up.status_code, up.json()) == (200, {"status": "ok", "database": "ok", "search": "ok"})
    assert down.status_code == 503
    assert down.json()["database"] == "down"
    assert down.json()["status"] == "unavailable"
    assert down.headers["cache-control"] == "no-store"
    assert live.status_code == 200  # alive, just not ready
    assert again.status_code == 200


async def test_ready_names_an_unreachable_search_index(authenticator: FakeAuthenticator) -> None:
    class DownSearch(InMemorySearchIndex):
        async def count(self, account_id: Any, request: Any) -> int:
            raise UnavailableError("Meilisearch is not answering")

    trace = Trace(
        storage=InMemoryStorage(),
        blobs=InMemoryBlobStore(),
        search=DownSearch(),
        clock=FixedClock(),
    )
    app = create_app(runtime_for_tests(trace, _settings(), authenticator=authenticator))
    async with app.lifespan(), _client(app) as client:
        answer = await client.get("/health/ready")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "database": "ok", "search": "down"}
